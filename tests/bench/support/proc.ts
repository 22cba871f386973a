/**
 * Small helpers the benchmarks share: what a process costs (CPU time and
 * memory from /proc, so on Linux only; null elsewhere), percentiles, polling,
 * the commit that runs, and the one line a benchmark prints for the runner
 * (`all.bench.ts`) to collect its figures.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Which commit runs: the figures are only comparable with it named. */
export function commit(): string {
  try {
    const head = execFileSync("git", ["log", "-1", "--format=%h %s"], { encoding: "utf8" })
      .trim()
      .slice(0, 72);
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    }).trim();
    return dirty ? `${head} (+ uncommitted changes)` : head;
  } catch {
    return "(unknown commit)";
  }
}

/** The value below which `p` % of `sorted` (ascending) lie. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median of `values` (any order). */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Polls `probe` every `everyMs` until it is truthy; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 60_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** CPU time (user + system) a process has used, in ms; null where /proc cannot tell. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** A process's resident set, MiB (VmRSS of /proc/PID/status); null where /proc cannot tell. */
export function rssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A process's proportional set size, MiB (`Pss` of /proc/PID/smaps_rollup):
 * its resident pages, each shared page divided among the processes sharing
 * it. Summed over PostgreSQL's processes it counts their shared buffers once,
 * where a sum of RSS would count them once per process.
 */
export function pssMiB(pid: number): number | null {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The live descendants of process `root` (an embedded PostgreSQL's postmaster
 * and its children: these leave the server's process group, PostgreSQL puts
 * each child in a session of its own, so they are found by parent).
 */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") parents.set(Number(entry), Number(ppid));
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** CPU time of the PostgreSQL back ends with these pids (from pg_stat_activity), ms. */
export function cpuOf(pids: readonly number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms !== null) cpu.set(pid, ms);
  }
  return cpu;
}

/** CPU used between two {@link cpuOf} snapshots, ms (back ends that ended meanwhile are lost). */
export function cpuUsed(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
  return used;
}

/** One figure for the runner's summary table. */
export interface Figure {
  /** The benchmark part (`fanout`, `inbox`...). */
  part: string;
  /** What was measured, e.g. `verified deliveries/s`. */
  name: string;
  value: number | null;
  unit: string;
  /** The baseline's figure measured in the same run, where there is one. */
  baseline?: number | null;
  /** The goal, e.g. `>= 1000`; met when `value` satisfies it. */
  goal?: string;
  /** Whatever qualifies the figure. */
  note?: string;
}

/** The prefix of the lines `all.bench.ts` collects. */
export const FIGURE_PREFIX = "BENCH-FIGURE ";

/** Prints a figure on a line of its own, for the runner. */
export function reportFigure(figure: Figure): void {
  console.log(`${FIGURE_PREFIX}${JSON.stringify(figure)}`);
}

/** Whether `value` meets `goal` (`>= N` or `<= N`); null when it cannot tell. */
export function meets(value: number | null, goal: string | undefined): boolean | null {
  if (value === null || goal === undefined) return null;
  const match = /^(>=|<=)\s*([\d.]+)$/.exec(goal.trim());
  if (!match) return null;
  const bound = Number(match[2]);
  return match[1] === ">=" ? value >= bound : value <= bound;
}
