import type { Kysely } from "kysely";
import type { Invite } from "../../domain/types.ts";
import type { InviteStore } from "../../stores/stores.ts";
import { toInvite } from "./rows.ts";
import type { Database } from "./schema.ts";

export class KyselyInviteStore implements InviteStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(i: Invite & { codeHash: string }): Promise<void> {
    await this.db
      .insertInto("invites")
      .values({
        id: i.id,
        code_hash: i.codeHash,
        code_hint: i.codeHint,
        created_by: i.createdBy,
        max_uses: i.maxUses,
        uses: i.uses,
        expires_at: i.expiresAt,
        revoked_at: i.revokedAt,
        created_at: i.createdAt,
      })
      .execute();
  }

  async getByCodeHashForUpdate(codeHash: string): Promise<Invite | null> {
    const row = await this.db
      .selectFrom("invites")
      .selectAll()
      .where("code_hash", "=", codeHash)
      .forUpdate()
      .executeTakeFirst();
    return row ? toInvite(row) : null;
  }

  async getById(id: string): Promise<Invite | null> {
    const row = await this.db
      .selectFrom("invites")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toInvite(row) : null;
  }

  async list(): Promise<Invite[]> {
    const rows = await this.db.selectFrom("invites").selectAll().orderBy("id", "desc").execute();
    return rows.map(toInvite);
  }

  async incrementUses(id: string): Promise<void> {
    await this.db
      .updateTable("invites")
      .set((eb) => ({ uses: eb("uses", "+", 1) }))
      .where("id", "=", id)
      .execute();
  }

  async revoke(id: string, at: Date): Promise<void> {
    await this.db.updateTable("invites").set({ revoked_at: at }).where("id", "=", id).execute();
  }
}
