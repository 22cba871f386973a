/**
 * The inbox load, shared by the inbox benchmark and the footprint one: many
 * remote actors (on bench servers, support/bench-remotes.ts, that serve their
 * actor documents and keys) whom alice follows (seeded with SQL), each
 * sending signed public `Create(Note)`s to a shared inbox, N POSTs with C in
 * flight at once. The POSTs are signed beforehand, so the sender's signing is
 * not in the timing.
 *
 * Accepted: the inbox answered 2xx (Fedify has verified the signature, and
 * queued the activity where the server has a queue). Processed: the note is
 * a row of `posts`, which is what alice's home feed reads (Clique builds the
 * feed when it is read: a stored, followed author's post is in it).
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import {
  type BenchAccount,
  type BenchServer,
  createNote,
  keyPool,
  type SignedPost,
  signPost,
  startBenchServers,
} from "./bench-remotes.ts";
import { percentile, until } from "./proc.ts";
import { localActorId, seedFollows, seedRemoteActors } from "./seed.ts";

/** The remote side of the load. */
export interface InboxRemotes {
  servers: BenchServer[];
  accounts: BenchAccount[];
  close(): Promise<void>;
}

/** Starts `actors` remote accounts over `servers` bench servers. */
export async function startInboxRemotes(actors: number, servers: number): Promise<InboxRemotes> {
  const keys = await keyPool(Math.min(servers, 8));
  const counts = Array.from(
    { length: servers },
    (_, i) => Math.floor(actors / servers) + (i < actors % servers ? 1 : 0),
  );
  const started = await startBenchServers({ accounts: counts, prefix: "a", keys });
  return {
    servers: started,
    accounts: started.flatMap((s) => s.accounts),
    close: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}

/** Stores the remote accounts in Clique's database, each followed by `follower` (a local username). */
export async function seedFollowed(
  databaseUrl: string,
  remotes: InboxRemotes,
  follower: string,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const local = await localActorId(client, follower);
    const ids = await seedRemoteActors(client, remotes.accounts);
    await seedFollows(
      client,
      [...ids.values()].map((id) => [local, id] as const),
    );
    await client.query("analyze");
  } finally {
    await client.end();
  }
}

/** N signed POSTs to `inbox`, round-robin over the accounts, and the notes' ids. */
export async function signNotes(
  remotes: InboxRemotes,
  inbox: string,
  count: number,
  tag: string,
): Promise<{ posts: SignedPost[]; noteIds: string[] }> {
  const posts: SignedPost[] = [];
  const noteIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const account = remotes.accounts[i % remotes.accounts.length]!;
    const activity = createNote(account, `${tag}-${i}`, `Note ${i} of ${tag}, marker-${tag}-${i}.`);
    noteIds.push(String((activity.object as { id: string }).id));
    posts.push(await signPost(inbox, activity, account));
  }
  return { posts, noteIds };
}

/** What sending the POSTs gave. */
export interface BlastResult {
  /** From the first POST to the last answer, s. */
  seconds: number;
  accepted: number;
  /** Answers outside 2xx, with their status and body (the first few). */
  refused: string[];
  /** Each accepted POST's latency, ms, ascending. */
  latencies: number[];
  /** performance.now() when the first POST went out. */
  startedAt: number;
}

/** Sends `posts` with `concurrency` in flight at once. */
export async function blast(
  posts: readonly SignedPost[],
  concurrency: number,
): Promise<BlastResult> {
  const latencies: number[] = [];
  const refused: string[] = [];
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      while (next < posts.length) {
        const post = posts[next++]!;
        const start = performance.now();
        try {
          const response = await fetch(post.url, {
            method: "POST",
            headers: post.headers,
            body: post.body,
          });
          const text = await response.text();
          if (response.ok) latencies.push(performance.now() - start);
          else if (refused.length < 5) refused.push(`${response.status} ${text.slice(0, 200)}`);
          else refused.push(String(response.status));
        } catch (error) {
          refused.push(String(error));
        }
      }
    }),
  );
  return {
    seconds: (performance.now() - startedAt) / 1000,
    accepted: latencies.length,
    refused,
    latencies: latencies.sort((a, b) => a - b),
    startedAt,
  };
}

/** How many of `noteIds` are stored posts. */
export async function storedCount(client: pg.Client, noteIds: readonly string[]): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    "select count(*) as n from posts where uri = any($1::text[])",
    [noteIds],
  );
  return Number(rows[0]?.n);
}

/** What one measured load on Clique gave. */
export interface InboxLoadResult {
  notes: number;
  accepted: number;
  acceptedPerSecond: number;
  p50: number;
  p99: number;
  refused: string[];
  /** From the first POST until every note was stored, s. */
  processedSeconds: number;
  processedPerSecond: number;
}

/**
 * Sends `notes` signed `Create(Note)`s to `inbox` and waits until they are all
 * stored in `databaseUrl`'s posts (polled every 50 ms, for at most `timeoutMs`).
 * `during` is called every 100 ms until then (the footprint samples the RSS).
 */
export async function loadInbox(options: {
  remotes: InboxRemotes;
  inbox: string;
  databaseUrl: string;
  notes: number;
  concurrency: number;
  tag: string;
  timeoutMs?: number;
  during?: () => void;
}): Promise<InboxLoadResult> {
  const { posts, noteIds } = await signNotes(
    options.remotes,
    options.inbox,
    options.notes,
    options.tag,
  );
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  const sampler = options.during ? setInterval(options.during, 100) : null;
  try {
    const sent = await blast(posts, options.concurrency);
    if (sent.accepted === 0)
      throw new Error(`the inbox accepted nothing: ${sent.refused.slice(0, 5).join("; ")}`);
    await until(
      `${sent.accepted} notes stored`,
      async () => (await storedCount(client, noteIds)) >= sent.accepted,
      options.timeoutMs ?? 600_000,
      50,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)} (stored ${await storedCount(client, noteIds)})`);
    });
    const processedSeconds = (performance.now() - sent.startedAt) / 1000;
    return {
      notes: options.notes,
      accepted: sent.accepted,
      acceptedPerSecond: sent.accepted / sent.seconds,
      p50: percentile(sent.latencies, 50),
      p99: percentile(sent.latencies, 99),
      refused: sent.refused,
      processedSeconds,
      processedPerSecond: sent.accepted / processedSeconds,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await client.end();
  }
}
