/**
 * Deliveries per second with one worker process and with two, for
 * `docs/scaling.md`: one `--role web` process, N `--role worker` processes,
 * one database (and Redis when `REDIS_URL` is set), and remote servers whose
 * inboxes verify every signature and answer at once. Alice has one follower
 * per inbox (no shared inboxes: every follower is a delivery); she posts, and
 * the clock runs from the first post to the last verified delivery. CPU is
 * each worker's user + system time over the run, from /proc.
 *
 *   node --disable-warning=ExperimentalWarning tests/support/scale-out-figures.ts
 *
 * Settings (environment): FIGURES_SERVERS (10), FIGURES_FOLLOWERS per server
 * (5), FIGURES_POSTS (20), FIGURES_WORKERS ("1,2"), and DATABASE_URL /
 * REDIS_URL as for the tests. Prints; asserts nothing.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { stopEmbeddedTestServer } from "@clique/testing";
import { eventually } from "./mastodon-signing.ts";
import {
  type CountingRemote,
  follow,
  jobBackend,
  ScaleOutClique,
  startCountingRemote,
} from "./scale-out.ts";

const SERVERS = Number(process.env.FIGURES_SERVERS ?? 10);
const FOLLOWERS = Number(process.env.FIGURES_FOLLOWERS ?? 5);
const POSTS = Number(process.env.FIGURES_POSTS ?? 20);
const WORKERS = (process.env.FIGURES_WORKERS ?? "1,2").split(",").map(Number);
const LANES = 4;

/** A process's CPU time so far (user + system), in seconds; 0 when /proc cannot tell. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the command.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function cpuOf(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

async function measure(workers: number): Promise<string> {
  const remotes: CountingRemote[] = [];
  let clique: ScaleOutClique | undefined;
  try {
    for (let i = 0; i < SERVERS; i++)
      remotes.push(
        await startCountingRemote({
          usernames: Array.from({ length: FOLLOWERS }, (_, j) => `s${i}f${j}`),
          shared: false,
          origin: () => clique?.origin ?? "",
          pids: () => (clique ? [...clique.webs, ...clique.workers].map((p) => p.pid) : []),
        }),
      );
    clique = await ScaleOutClique.start({ webs: 1, workers, env: {} });
    const web = clique.webs[0]!;
    await clique.api(web, "/api/v1/accounts/update_credentials", {
      method: "PATCH",
      body: { locked: false },
    });
    for (const remote of remotes)
      for (const account of remote.accounts) await follow(clique, account);
    await eventually(
      "the followers",
      async () =>
        (await clique!.api<{ followers_count: number }>(web, "/api/v1/accounts/verify_credentials"))
          .followers_count ===
        SERVERS * FOLLOWERS,
      60_000,
    );
    // A warm-up post: every server's key fetched, every signature spec learnt.
    await clique.api(web, "/api/v1/statuses", {
      method: "POST",
      body: { status: "warm-up", visibility: "public" },
    });
    const warm = (r: CountingRemote) => r.arrivals.filter((a) => a.type === "Create").length;
    await eventually("the warm-up", async () => remotes.every((r) => warm(r) >= FOLLOWERS), 60_000);
    const before = new Map(remotes.map((r) => [r, r.arrivals.length]));
    const refusedBefore = remotes.reduce((n, r) => n + r.refused, 0);
    const cpuBefore = clique.workers.map((w) => cpuSeconds(w.pid));
    const webCpuBefore = cpuSeconds(web.pid);
    const ownCpuBefore = process.cpuUsage();

    const started = Date.now();
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let i = lane; i < POSTS; i += LANES)
          await clique!.api(web, "/api/v1/statuses", {
            method: "POST",
            body: { status: `figures ${i}`, visibility: "public" },
          });
      }),
    );
    const expected = POSTS * SERVERS * FOLLOWERS;
    const fresh = () => remotes.flatMap((r) => r.arrivals.slice(before.get(r)));
    await eventually(`${expected} deliveries`, async () => fresh().length >= expected, 600_000);
    const arrivals = fresh();
    const last = Math.max(...arrivals.map((a) => a.at));
    const seconds = (last - started) / 1000;
    const cpu = clique.workers.map((w, i) => cpuSeconds(w.pid) - cpuBefore[i]!);
    const total = cpu.reduce((a, b) => a + b, 0);
    const shares = clique.workers.map((w) => arrivals.filter((a) => a.sender === w.pid).length);
    return [
      `${workers} worker(s), jobs on ${jobBackend()}: ${arrivals.length} deliveries (${POSTS} posts × ${SERVERS * FOLLOWERS} inboxes on ${SERVERS} servers)`,
      `  in ${seconds.toFixed(1)} s: ${Math.round(arrivals.length / seconds)} deliveries/s (load average ${loadavg()[0]!.toFixed(1)} at the end)`,
      `  by worker: ${shares.join(", ")}; refused knocks: ${remotes.reduce((n, r) => n + r.refused, 0) - refusedBefore}`,
      `  worker CPU ${total.toFixed(1)} s (${cpu.map((c) => c.toFixed(1)).join(" + ")}), ${((total * 1000) / arrivals.length).toFixed(2)} ms per delivery; web CPU ${(cpuSeconds(web.pid) - webCpuBefore).toFixed(1)} s; the remote servers' (this process) ${(cpuOf(process.cpuUsage(ownCpuBefore)) / 1e6).toFixed(1)} s`,
    ].join("\n");
  } finally {
    await clique?.stop().catch((e: unknown) => console.error("stopping the Clique:", e));
    for (const remote of remotes) await remote.close();
  }
}

try {
  for (const workers of WORKERS) console.log(await measure(workers));
} finally {
  await stopEmbeddedTestServer();
}
