/**
 * Seeding a benchmark's database with SQL: remote accounts (of the bench
 * servers, support/bench-remotes.ts) and approved follows, thousands in a
 * second, where the Follow/Accept exchange through the inboxes would take
 * minutes and measure something else. The rows are what Clique stores for a
 * remote account it has fetched (`fetched_at` set, so it is not fetched again
 * at once) and for a follow it has approved.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import type { BenchAccount } from "./bench-remotes.ts";

/** Stores the accounts as remote actors; returns their ids, by actor URI. */
export async function seedRemoteActors(
  client: pg.Client,
  accounts: readonly BenchAccount[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const chunk = 5_000;
  for (let i = 0; i < accounts.length; i += chunk) {
    const part = accounts.slice(i, i + chunk);
    const { rows } = await client.query<{ id: string; uri: string }>(
      `insert into actors (id, kind, type, username, host, uri, url, inbox_url, shared_inbox_url,
         followers_url, manually_approves_followers, fetched_at, created_at, updated_at)
       select gen_random_uuid(), 'remote', 'Person', u.username, u.host, u.uri, u.uri, u.inbox,
         u.shared, u.followers, false, now(), now(), now()
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         as u(username, host, uri, inbox, shared, followers)
       returning id, uri`,
      [
        part.map((a) => a.username),
        part.map((a) => a.host),
        part.map((a) => a.id),
        part.map((a) => a.inbox),
        part.map((a) => a.sharedInbox),
        part.map((a) => a.followers),
      ],
    );
    for (const row of rows) ids.set(row.uri, row.id);
  }
  return ids;
}

/** The actor id of the local account `username`. */
export async function localActorId(client: pg.Client, username: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    "select id from actors where kind = 'local' and lower(username) = lower($1)",
    [username],
  );
  if (!rows[0]) throw new Error(`no local account ${username}`);
  return rows[0].id;
}

/** Stores approved follows, each `[follower, followee]` actor ids. */
export async function seedFollows(
  client: pg.Client,
  pairs: readonly (readonly [string, string])[],
): Promise<void> {
  const chunk = 5_000;
  for (let i = 0; i < pairs.length; i += chunk) {
    const part = pairs.slice(i, i + chunk);
    await client.query(
      `insert into follows (id, follower_id, followee_id, state, created_at)
       select gen_random_uuid(), f.follower, f.followee, 'accepted', now()
       from unnest($1::uuid[], $2::uuid[]) as f(follower, followee)`,
      [part.map((p) => p[0]), part.map((p) => p[1])],
    );
  }
}

/**
 * The connection URL of the embedded PostgreSQL a server runs on `dataDir`
 * (no DATABASE_URL): its password file and the port in `postmaster.pid`.
 */
export async function embeddedDatabaseUrl(dataDir: string): Promise<string> {
  const password = (await readFile(join(dataDir, "postgres-password"), "utf8")).trim();
  const pid = (await readFile(join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n");
  const port = Number(pid[3]);
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`no port in ${join(dataDir, "postgres", "postmaster.pid")}`);
  return `postgres://postgres:${password}@127.0.0.1:${port}/clique`;
}
