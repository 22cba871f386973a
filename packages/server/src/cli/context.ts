import { randomBytes } from "node:crypto";
import { type Composition, compose } from "../compose.ts";
import { type Config, loadConfig } from "../config.ts";
import { problem } from "../http/errors.ts";
import { setupLogging } from "../logging.ts";

/** A failure the CLI reports on one line and exits non-zero for. */
export class CliError extends Error {
  override name = "CliError";
}

/** Loads the configuration and sets up quiet logging for a CLI command. */
export async function cliConfig(): Promise<Config> {
  const config = loadConfig(process.env);
  // Commands print their results on stdout; logs stay at warnings unless asked for.
  await setupLogging(process.env.LOG_LEVEL ? config.logLevel : "warning");
  return config;
}

/** Runs `fn` against a composed Clique, closing it (and any embedded database) after. */
export async function withClique<T>(fn: (c: Composition) => Promise<T>): Promise<T> {
  const composition = await compose(await cliConfig());
  try {
    return await fn(composition);
  } finally {
    await composition.close();
  }
}

/** Reads all of standard input (for `--password-stdin`), without the final newline. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new CliError("--password-stdin expects the password on standard input (pipe it in)");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** A strong password for people who did not choose one. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

/** Explains a use case's refusal in a sentence (the same words the API uses). */
export function explain(reason: string, detail?: string): string {
  return problem(reason, detail).message;
}
