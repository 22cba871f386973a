import { hashSecret, randomSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { CliqueSettings, Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { type InitCliqueInput, type InitCliqueProblem, initClique } from "./init-clique.ts";

/**
 * Makes a new one-time setup token while the Clique is not set up, replacing
 * any earlier one, and returns it (only its hash is stored). `null` once the
 * Clique exists: there is nothing left to set up.
 */
export async function issueSetupToken(deps: Deps): Promise<string | null> {
  if (await deps.stores.settings.get()) return null;
  const token = randomSecret(32);
  await deps.stores.settings.replaceSetupToken(hashSecret(token), deps.now());
  return token;
}

/** Whether the Clique still waits to be set up. */
export async function setupNeeded(deps: Deps): Promise<boolean> {
  return (await deps.stores.settings.get()) === null;
}

/** Input of `setupClique`: what `clique init` takes, and the token the server logged. */
export interface SetupCliqueInput extends InitCliqueInput {
  token: string;
}

/** Why `setupClique` refused. */
export type SetupCliqueProblem = InitCliqueProblem | "invalid_setup_token";

const WRONG_TOKEN =
  "This setup link is not valid: use the link the server printed when it last started.";

/**
 * First-run setup from the web: `initClique`, allowed only to the holder of
 * the setup token, which it consumes in the same transaction.
 */
export async function setupClique(
  deps: Deps,
  input: SetupCliqueInput,
): Promise<Result<{ settings: CliqueSettings; owner: Member }, SetupCliqueProblem>> {
  const tokenHash = hashSecret(input.token);
  // Cheap refusals first: the owner's password hash costs real CPU.
  if (await deps.stores.settings.get()) return fail("already_initialized");
  if (!(await deps.stores.settings.hasSetupToken(tokenHash)))
    return fail("invalid_setup_token", WRONG_TOKEN);
  return initClique(deps, input, async (tx) =>
    // Consumed at most once, however many requests race with the same token.
    (await tx.settings.consumeSetupToken(tokenHash))
      ? ok(undefined)
      : fail("invalid_setup_token", WRONG_TOKEN),
  );
}
