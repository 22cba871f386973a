import type { Kysely } from "kysely";
import type { BlockStore, InteractionStore, MuteStore } from "../../stores/stores.ts";
import type { Database } from "./schema.ts";

export class KyselyInteractionStore implements InteractionStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async add(i: Parameters<InteractionStore["add"]>[0]): Promise<boolean> {
    const res = await this.db
      .insertInto("post_interactions")
      .values({
        id: i.id,
        kind: i.kind,
        actor_id: i.actorId,
        post_id: i.postId,
        uri: i.uri,
        created_at: i.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async remove(kind: "like" | "boost", actorId: string, postId: string): Promise<string | null> {
    const row = await this.db
      .deleteFrom("post_interactions")
      .where("kind", "=", kind)
      .where("actor_id", "=", actorId)
      .where("post_id", "=", postId)
      .returning("id")
      .executeTakeFirst();
    return row?.id ?? null;
  }

  async removeByUri(uri: string, actorId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom("post_interactions")
      .where("uri", "=", uri)
      .where("actor_id", "=", actorId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async count(postIds: readonly string[], kind: "like" | "boost"): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    if (postIds.length === 0) return map;
    const rows = await this.db
      .selectFrom("post_interactions")
      .select(["post_id", (eb) => eb.fn.countAll<string>().as("n")])
      .where("post_id", "in", [...postIds])
      .where("kind", "=", kind)
      .groupBy("post_id")
      .execute();
    for (const r of rows) map.set(r.post_id, Number(r.n));
    return map;
  }

  async byActor(
    actorId: string,
    postIds: readonly string[],
    kind: "like" | "boost",
  ): Promise<Set<string>> {
    if (postIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("post_interactions")
      .select("post_id")
      .where("actor_id", "=", actorId)
      .where("kind", "=", kind)
      .where("post_id", "in", [...postIds])
      .execute();
    return new Set(rows.map((r) => r.post_id));
  }
}

export class KyselyBlockStore implements BlockStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async add(blockerId: string, blockedId: string, uri: string | null, at: Date): Promise<boolean> {
    const res = await this.db
      .insertInto("blocks")
      .values({ blocker_id: blockerId, blocked_id: blockedId, uri, created_at: at })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async remove(blockerId: string, blockedId: string): Promise<void> {
    await this.db
      .deleteFrom("blocks")
      .where("blocker_id", "=", blockerId)
      .where("blocked_id", "=", blockedId)
      .execute();
  }

  async between(a: string, b: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("blocks")
      .select("blocker_id")
      .where((eb) =>
        eb.or([
          eb.and([eb("blocker_id", "=", a), eb("blocked_id", "=", b)]),
          eb.and([eb("blocker_id", "=", b), eb("blocked_id", "=", a)]),
        ]),
      )
      .executeTakeFirst();
    return row !== undefined;
  }

  async list(blockerId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("blocks")
      .select("blocked_id")
      .where("blocker_id", "=", blockerId)
      .execute();
    return rows.map((r) => r.blocked_id);
  }
}

export class KyselyMuteStore implements MuteStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async add(muterId: string, mutedId: string, at: Date): Promise<void> {
    await this.db
      .insertInto("mutes")
      .values({ muter_id: muterId, muted_id: mutedId, created_at: at })
      .onConflict((oc) => oc.columns(["muter_id", "muted_id"]).doNothing())
      .execute();
  }

  async remove(muterId: string, mutedId: string): Promise<void> {
    await this.db
      .deleteFrom("mutes")
      .where("muter_id", "=", muterId)
      .where("muted_id", "=", mutedId)
      .execute();
  }

  async list(muterId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("mutes")
      .select("muted_id")
      .where("muter_id", "=", muterId)
      .execute();
    return rows.map((r) => r.muted_id);
  }
}
