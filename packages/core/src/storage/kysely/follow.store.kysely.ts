import { type Kysely, sql } from "kysely";
import type { Actor, Follow } from "../../domain/types.ts";
import type { FollowStore } from "../../stores/stores.ts";
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

  private async count(column: "followee_id" | "follower_id", id: string): Promise<number> {
    const row = await this.db
      .selectFrom("follows")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where(column, "=", id)
      .where("state", "=", "accepted")
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  countFollowers(followeeId: string): Promise<number> {
    return this.count("followee_id", followeeId);
  }

  countFollowing(followerId: string): Promise<number> {
    return this.count("follower_id", followerId);
  }

  async countMany(
    actorIds: readonly string[],
  ): Promise<Map<string, { followers: number; following: number }>> {
    const map = new Map<string, { followers: number; following: number }>();
    if (actorIds.length === 0) return map;
    const ids = [...new Set(actorIds)];
    // Each approved follow counts once on each side it touches.
    const rows = await this.db
      .selectFrom((eb) =>
        eb
          .selectFrom("follows")
          .select([
            "followee_id as actor_id",
            sql<number>`1`.as("followers"),
            sql<number>`0`.as("following"),
          ])
          .where("state", "=", "accepted")
          .where("followee_id", "in", ids)
          .unionAll(
            eb
              .selectFrom("follows")
              .select([
                "follower_id as actor_id",
                sql<number>`0`.as("followers"),
                sql<number>`1`.as("following"),
              ])
              .where("state", "=", "accepted")
              .where("follower_id", "in", ids),
          )
          .as("f"),
      )
      .select((eb) => [
        "f.actor_id",
        eb.fn.sum<string>("f.followers").as("followers"),
        eb.fn.sum<string>("f.following").as("following"),
      ])
      .groupBy("f.actor_id")
      .execute();
    for (const r of rows)
      map.set(r.actor_id, { followers: Number(r.followers), following: Number(r.following) });
    return map;
  }
}
