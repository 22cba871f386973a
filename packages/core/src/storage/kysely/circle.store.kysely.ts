import type { Kysely } from "kysely";
import type { Circle } from "../../domain/types.ts";
import type { CircleStore } from "../../stores/stores.ts";
import type { Database } from "./schema.ts";

export class KyselyCircleStore implements CircleStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(c: Circle): Promise<void> {
    await this.db
      .insertInto("circles")
      .values({ id: c.id, owner_id: c.ownerId, name: c.name, created_at: c.createdAt })
      .execute();
    await this.setMembers(c.id, c.memberIds);
  }

  async getById(id: string): Promise<Circle | null> {
    const row = await this.db
      .selectFrom("circles")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) return null;
    const members = await this.db
      .selectFrom("circle_members")
      .select("actor_id")
      .where("circle_id", "=", id)
      .orderBy("actor_id")
      .execute();
    return {
      id: row.id,
      ownerId: row.owner_id,
      name: row.name,
      memberIds: members.map((m) => m.actor_id),
      createdAt: new Date(row.created_at),
    };
  }

  async listByOwner(ownerId: string): Promise<Circle[]> {
    const rows = await this.db
      .selectFrom("circles")
      .select("id")
      .where("owner_id", "=", ownerId)
      .orderBy("id")
      .execute();
    const circles = await Promise.all(rows.map((r) => this.getById(r.id)));
    return circles.filter((c): c is Circle => c !== null);
  }

  async rename(id: string, name: string): Promise<void> {
    await this.db.updateTable("circles").set({ name }).where("id", "=", id).execute();
  }

  async setMembers(id: string, actorIds: readonly string[]): Promise<void> {
    await this.db.deleteFrom("circle_members").where("circle_id", "=", id).execute();
    const unique = [...new Set(actorIds)];
    if (unique.length === 0) return;
    await this.db
      .insertInto("circle_members")
      .values(unique.map((actor_id) => ({ circle_id: id, actor_id })))
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom("circles").where("id", "=", id).execute();
  }
}
