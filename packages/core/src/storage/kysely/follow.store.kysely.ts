import type { Kysely } from "kysely";
import type { Actor, Follow } from "../../domain/types.ts";
import type { FollowStore } from "../../stores/stores.ts";
import { followCounters } from "./counters.kysely.ts";
import { toActor, toFollow } from "./rows.ts";
import type { Database } from "./schema.ts";

export class KyselyFollowStore implements FollowStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async get(followerId: string, followeeId: string): Promise<Follow | null> {
    const row = await this.db
      .selectFrom("follows")
      .selectAll()
      .where("follower_id", "=", followerId)
      .where("followee_id", "=", followeeId)
      .executeTakeFirst();
    return row ? toFollow(row) : null;
  }

  async getByUri(uri: string): Promise<Follow | null> {
    const row = await this.db
      .selectFrom("follows")
      .selectAll()
      .where("uri", "=", uri)
      .executeTakeFirst();
    return row ? toFollow(row) : null;
  }

  async remoteFollowers(followeeId: string): Promise<Actor[]> {
    const rows = await this.db
      .selectFrom("follows")
      .innerJoin("actors", "actors.id", "follows.follower_id")
      .selectAll("actors")
      .where("follows.followee_id", "=", followeeId)
      .where("follows.state", "=", "accepted")
      .where("actors.kind", "=", "remote")
      .orderBy("actors.id")
      .execute();
    return rows.map(toActor);
  }

  async create(f: Follow): Promise<boolean> {
    const res = await this.db
      .insertInto("follows")
      .values({
        id: f.id,
        follower_id: f.followerId,
        followee_id: f.followeeId,
        state: f.state,
        uri: f.uri,
        created_at: f.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async setUri(id: string, uri: string): Promise<void> {
    await this.db.updateTable("follows").set({ uri }).where("id", "=", id).execute();
  }

  async accept(id: string): Promise<void> {
    await this.db.updateTable("follows").set({ state: "accepted" }).where("id", "=", id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom("follows").where("id", "=", id).execute();
  }

  async listFollowers(followeeId: string, state: Follow["state"]): Promise<Follow[]> {
    const rows = await this.db
      .selectFrom("follows")
      .selectAll()
      .where("followee_id", "=", followeeId)
      .where("state", "=", state)
      .orderBy("id")
      .execute();
    return rows.map(toFollow);
  }

  async listFollowing(followerId: string, state: Follow["state"]): Promise<Follow[]> {
    const rows = await this.db
      .selectFrom("follows")
      .selectAll()
      .where("follower_id", "=", followerId)
      .where("state", "=", state)
      .orderBy("id")
      .execute();
    return rows.map(toFollow);
  }

  // Approved follows, as migration 020's triggers keep them (the collections' totalItems).
  async countFollowers(followeeId: string): Promise<number> {
    return (await followCounters(this.db, [followeeId])).get(followeeId)?.followers ?? 0;
  }

  async countFollowing(followerId: string): Promise<number> {
    return (await followCounters(this.db, [followerId])).get(followerId)?.following ?? 0;
  }

  countMany(
    actorIds: readonly string[],
  ): Promise<Map<string, { followers: number; following: number }>> {
    // Kept with every follow by migration 020's triggers.
    return followCounters(this.db, actorIds);
  }
}
