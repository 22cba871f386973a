/**
 * `wrk` (Debian's, /usr/bin/wrk) as a child process, and its report parsed:
 * requests per second, the latency distribution of `--latency`, and what it
 * counts as refused (non-2xx/3xx answers, socket errors), so that a figure
 * made of refusals is never taken for throughput.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Where Debian puts it; `WRK` overrides. */
export const WRK = process.env.WRK ?? "/usr/bin/wrk";

/** How to load one URL. */
export interface WrkOptions {
  /** Open connections (`-c`). */
  connections: number;
  /** wrk threads (`-t`). */
  threads: number;
  /** Duration (`-d`), seconds. */
  seconds: number;
  /** Extra request headers, sent unchanged with every request (`-H`). */
  headers?: Record<string, string>;
  /** Per-request timeout (`--timeout`), seconds; default 2. */
  timeoutSeconds?: number;
}

/** What one wrk run reported. */
export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles, ms. */
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  /** Answers outside 2xx and 3xx. */
  non2xx: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
  /** wrk's whole report, for when the parse looks wrong. */
  raw: string;
}

/** Runs wrk against `url` and parses its report; throws with the report if it cannot. */
export async function runWrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    `--timeout`,
    `${options.timeoutSeconds ?? 2}s`,
    "--latency",
  ];
  for (const [name, value] of Object.entries(options.headers ?? {}))
    args.push("-H", `${name}: ${value}`);
  args.push(url);
  const { stdout } = await execFileAsync(WRK, args, {
    timeout: (options.seconds + 30) * 1000,
    maxBuffer: 1 << 20,
  });
  return parseWrk(stdout);
}

/** Parses wrk's report (exported for a check against a recorded report). */
export function parseWrk(raw: string): WrkResult {
  const fail = (what: string): never => {
    throw new Error(`wrk's report has no ${what}:\n${raw}`);
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(raw) ?? fail("request count");
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(raw) ?? fail("Requests/sec");
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(raw);
    return match ? toMs(Number(match[1]), match[2]!) : fail(`${p}% latency`);
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(raw);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    requests: Number(total[1]),
    seconds: toMs(Number(total[2]), total[3]!) / 1000,
    requestsPerSecond: Number(rps[1]),
    p50: percentile(50),
    p75: percentile(75),
    p90: percentile(90),
    p99: percentile(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1, 5).reduce((n, v) => n + Number(v), 0) : 0,
    raw,
  };
}

function toMs(value: number, unit: string): number {
  switch (unit) {
    case "us":
      return value / 1000;
    case "ms":
      return value;
    case "s":
      return value * 1000;
    default:
      return value * 60_000;
  }
}
