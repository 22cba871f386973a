import { type Kysely, type Selectable, sql } from "kysely";
import { decodeEvent, encodeEvent, type FederationEvent } from "../../federation/events.ts";
import { newId } from "../../ids.ts";
import type { OutboxEntry, OutboxStore } from "../../stores/stores.ts";
import type { Database, OutboxEventsTable } from "./schema.ts";

/** The channel the relay listens on; a notification is delivered only when its transaction commits. */
export const OUTBOX_CHANNEL = "clique_outbox";

function toEntry(row: Selectable<OutboxEventsTable>): OutboxEntry {
  return {
    id: row.id,
    event: decodeEvent(row.event),
    createdAt: new Date(row.created_at),
    attempts: row.attempts,
    lastError: row.last_error,
    deadAt: row.dead_at ? new Date(row.dead_at) : null,
  };
}

export class KyselyOutboxStore implements OutboxStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async record(event: FederationEvent, at: Date): Promise<void> {
    // One round trip: the row, and the notification PostgreSQL sends when the transaction commits.
    await sql`
      with recorded as (
        insert into outbox_events (id, kind, event, created_at, available_at)
        values (${newId()}, ${event.kind}, ${encodeEvent(event)}::jsonb, ${at}, ${at})
        returning id
      )
      select pg_notify(${OUTBOX_CHANNEL}, '') from recorded`.execute(this.db);
  }

  async claimNext(now: Date): Promise<OutboxEntry | null> {
    const row = await this.db
      .selectFrom("outbox_events")
      .selectAll()
      .where("dead_at", "is", null)
      .where("available_at", "<=", now)
      .orderBy("available_at")
      .orderBy("id")
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    return row ? toEntry(row) : null;
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("outbox_events").where("id", "=", id).execute();
  }

  async failed(id: string, error: string, retryAt: Date | null, at: Date): Promise<void> {
    await this.db
      .updateTable("outbox_events")
      .set((eb) => ({
        attempts: eb("attempts", "+", 1),
        last_error: error.slice(0, 2000),
        ...(retryAt ? { available_at: retryAt } : { dead_at: at }),
      }))
      .where("id", "=", id)
      .execute();
  }

  async counts(): Promise<{ pending: number; dead: number }> {
    const row = await this.db
      .selectFrom("outbox_events")
      .select((eb) => [
        eb.fn.countAll<string>().filterWhere("dead_at", "is", null).as("pending"),
        eb.fn.countAll<string>().filterWhere("dead_at", "is not", null).as("dead"),
      ])
      .executeTakeFirstOrThrow();
    return { pending: Number(row.pending), dead: Number(row.dead) };
  }

  async listDead(limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db
      .selectFrom("outbox_events")
      .selectAll()
      .where("dead_at", "is not", null)
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  async revive(id: string, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable("outbox_events")
      .set({ dead_at: null, available_at: at })
      .where("id", "=", id)
      .where("dead_at", "is not", null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(this.db);
    return true;
  }
}
