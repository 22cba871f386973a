/**
 * The audit log is append-only: the store can only add and read, and the
 * database refuses UPDATE, DELETE and TRUNCATE on its table, whoever asks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newId } from "@clique/core";
import { migrateToLatest, openDatabase } from "@clique/core/kysely";
import { createTestDatabase, stopEmbeddedTestServer, type TestDatabase } from "@clique/testing";
import { type Kysely, sql } from "kysely";
import type { AuditStore } from "./audit.ts";
import { KyselyAuditStore, type ModerationDatabase } from "./storage/audit.store.kysely.ts";
import { migrateModeration } from "./storage/migrations.ts";

let database: TestDatabase;
let db: Kysely<ModerationDatabase>;
let audit: AuditStore;

before(async () => {
  database = await createTestDatabase();
  const core = openDatabase(database.url, { maxConnections: 2 });
  await migrateToLatest(core);
  db = core as unknown as Kysely<ModerationDatabase>;
  await migrateModeration(db);
  audit = new KyselyAuditStore(db);
});

after(async () => {
  await db?.destroy();
  await database?.drop();
  await stopEmbeddedTestServer();
});

describe("the audit log", () => {
  it("keeps what was done, newest first, and answers by subject", async () => {
    const member = newId();
    const base = new Date("2026-11-01T10:00:00Z");
    for (const [i, action] of ["member.suspend", "post.remove", "member.remove"].entries()) {
      await audit.append({
        id: newId(),
        actorId: newId(),
        action,
        subject:
          action === "post.remove" ? { kind: "post", id: newId() } : { kind: "member", id: member },
        reason: `reason ${i}`,
        details: { step: i },
        createdAt: new Date(base.getTime() + i * 1000),
      });
    }
    await audit.append({
      id: newId(),
      actorId: null,
      action: "domain.block",
      subject: { kind: "domain", host: "Spam.Example" },
      reason: "spam",
      details: {},
      createdAt: base,
    });
    const all = await audit.list({ limit: 10 });
    assert.deepEqual(
      all.map((e) => e.action),
      ["domain.block", "member.remove", "post.remove", "member.suspend"],
    );
    const about = await audit.list({ limit: 10, about: { kind: "member", id: member } });
    assert.deepEqual(
      about.map((e) => [e.action, e.reason, e.details]),
      [
        ["member.remove", "reason 2", { step: 2 }],
        ["member.suspend", "reason 0", { step: 0 }],
      ],
    );
    const domain = await audit.list({ limit: 10, about: { kind: "domain", host: "spam.example" } });
    assert.equal(domain[0]?.actorId, null);
  });

  it("cannot be changed or emptied by any statement", async () => {
    const count = async () =>
      Number(
        (await sql<{ n: string }>`select count(*) as n from moderation_audit_log`.execute(db))
          .rows[0]!.n,
      );
    const before = await count();
    assert.ok(before > 0);
    for (const statement of [
      sql`update moderation_audit_log set reason = 'rewritten'`,
      sql`delete from moderation_audit_log`,
      sql`truncate moderation_audit_log`,
    ]) {
      await assert.rejects(statement.execute(db), /append-only/);
    }
    assert.equal(await count(), before);
    const reasons = await sql<{ reason: string }>`select reason from moderation_audit_log`.execute(
      db,
    );
    assert.ok(reasons.rows.every((r) => r.reason !== "rewritten"));
  });

  it("offers no way to change an entry in code", () => {
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(audit)).filter(
      (m) => m !== "constructor",
    );
    assert.deepEqual(methods.sort(), ["append", "list"]);
  });
});
