import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./embedded-postgres.ts";

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "clique-embedded-pg-"));
  // mkdtemp makes a 0700 directory; as root, PostgreSQL runs as "postgres" and must enter it.
  await chmod(root, 0o755);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function portOf(db: EmbeddedDatabase): number {
  return Number(new URL(db.connectionString).port);
}

async function postmasterPid(dataDir: string): Promise<number> {
  const text = await readFile(join(dataDir, "postgres", "postmaster.pid"), "utf8");
  return Number.parseInt(text, 10);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A reparented orphan may linger as a zombie until PID 1 reaps it; that is dead too.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

describe("startEmbeddedPostgres", { timeout: 120_000 }, () => {
  test("keeps data across a stop and a restart", async () => {
    const dataDir = join(root, "persist");
    const first = await startEmbeddedPostgres({ dataDir });
    assert.equal(first.owned, true);
    assert.match(first.connectionString, /@127\.0\.0\.1:\d+\/clique$/);
    await query(first.connectionString, "CREATE TABLE notes (body text)");
    await query(first.connectionString, "INSERT INTO notes VALUES ('kept')");
    await first.stop();
    await first.stop(); // idempotent

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      assert.equal(second.owned, true);
      assert.deepEqual(await query(second.connectionString, "SELECT body FROM notes"), [
        { body: "kept" },
      ]);
      const { mode } = await stat(join(dataDir, "postgres-password"));
      assert.equal(mode & 0o777, 0o600);
    } finally {
      await second.stop();
    }
    await assert.rejects(readFile(join(dataDir, "postgres.owner")), { code: "ENOENT" });
  });

  test("runs two data dirs side by side", async () => {
    const [a, b] = await Promise.all([
      startEmbeddedPostgres({ dataDir: join(root, "side-a") }),
      startEmbeddedPostgres({ dataDir: join(root, "side-b") }),
    ]);
    try {
      assert.notEqual(portOf(a), portOf(b));
      await query(a.connectionString, "CREATE TABLE only_in_a (x int)");
      assert.deepEqual(
        await query(a.connectionString, "SELECT count(*)::int AS n FROM only_in_a"),
        [{ n: 0 }],
      );
      await assert.rejects(query(b.connectionString, "SELECT * FROM only_in_a"), /does not exist/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test("joins the instance a live owner runs instead of starting another", async () => {
    const dataDir = join(root, "shared");
    const owner = await startEmbeddedPostgres({ dataDir });
    try {
      const guest = await startEmbeddedPostgres({ dataDir });
      assert.equal(guest.owned, false);
      assert.equal(guest.connectionString, owner.connectionString);
      assert.deepEqual(await query(guest.connectionString, "SELECT 1 AS one"), [{ one: 1 }]);
      await guest.stop(); // must leave the owner's server running
      assert.deepEqual(await query(owner.connectionString, "SELECT 1 AS one"), [{ one: 1 }]);
    } finally {
      await owner.stop();
    }
  });

  test("takes over from an owner killed with SIGKILL", async () => {
    const dataDir = join(root, "killed");
    const moduleUrl = new URL("./embedded-postgres.ts", import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        "--input-type=module",
        "--eval",
        `const { startEmbeddedPostgres } = await import(${JSON.stringify(moduleUrl)});
         const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
         console.log(JSON.stringify(db));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(child.stdout, "data")) as [Buffer];
    const childDb = JSON.parse(line.toString()) as { connectionString: string; owned: boolean };
    assert.equal(childDb.owned, true);
    await query(childDb.connectionString, "CREATE TABLE survivors (name text)");
    await query(childDb.connectionString, "INSERT INTO survivors VALUES ('alice')");

    // While the child lives, another process joins rather than competing.
    const guest = await startEmbeddedPostgres({ dataDir });
    assert.equal(guest.owned, false);
    assert.equal(portOf(guest), portOf(childDb as EmbeddedDatabase));

    const orphan = await postmasterPid(dataDir);
    child.kill("SIGKILL");
    await once(child, "exit");
    assert.ok(isAlive(orphan), "the postmaster outlives its SIGKILLed owner");

    const heir = await startEmbeddedPostgres({ dataDir });
    try {
      assert.equal(heir.owned, true);
      assert.ok(!isAlive(orphan), "the orphaned postmaster was stopped");
      assert.deepEqual(await query(heir.connectionString, "SELECT name FROM survivors"), [
        { name: "alice" },
      ]);
    } finally {
      await heir.stop();
    }
  });

  test("removes a stale postmaster.pid whose process is gone", async () => {
    const dataDir = join(root, "stale");
    const db = await startEmbeddedPostgres({ dataDir });
    await db.stop();
    const gone = spawn(process.execPath, ["--eval", ""]);
    await once(gone, "exit");
    const pidFile = join(dataDir, "postgres", "postmaster.pid");
    await writeFile(pidFile, `${gone.pid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);

    const again = await startEmbeddedPostgres({ dataDir });
    try {
      assert.equal(again.owned, true);
      assert.notEqual(await postmasterPid(dataDir), gone.pid);
      assert.deepEqual(await query(again.connectionString, "SELECT 1 AS one"), [{ one: 1 }]);
    } finally {
      await again.stop();
    }
  });
});
