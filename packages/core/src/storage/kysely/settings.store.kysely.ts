import type { Kysely, Selectable } from "kysely";
import type { CliqueSettings } from "../../domain/types.ts";
import type { SettingsStore } from "../../stores/stores.ts";
import type { CliqueSettingsTable, Database } from "./schema.ts";

function toSettings(row: Selectable<CliqueSettingsTable>): CliqueSettings {
  return {
    name: row.name,
    description: row.description,
    memberCap: row.member_cap,
    membersCanInvite: row.members_can_invite,
    memberListAudience: row.member_list_audience as CliqueSettings["memberListAudience"],
    publicTimelineAnonymous: row.public_timeline_anonymous,
    createdAt: new Date(row.created_at),
  };
}

export class KyselySettingsStore implements SettingsStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async get(): Promise<CliqueSettings | null> {
    const row = await this.db.selectFrom("clique_settings").selectAll().executeTakeFirst();
    return row ? toSettings(row) : null;
  }

  async getForUpdate(): Promise<CliqueSettings | null> {
    const row = await this.db
      .selectFrom("clique_settings")
      .selectAll()
      .forUpdate()
      .executeTakeFirst();
    return row ? toSettings(row) : null;
  }

  async create(s: CliqueSettings): Promise<void> {
    await this.db
      .insertInto("clique_settings")
      .values({
        name: s.name,
        description: s.description,
        member_cap: s.memberCap,
        members_can_invite: s.membersCanInvite,
        created_at: s.createdAt,
      })
      .execute();
  }

  async update(patch: Partial<Omit<CliqueSettings, "createdAt">>): Promise<void> {
    const set: Record<string, unknown> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.memberCap !== undefined) set.member_cap = patch.memberCap;
    if (patch.membersCanInvite !== undefined) set.members_can_invite = patch.membersCanInvite;
    if (patch.memberListAudience !== undefined) set.member_list_audience = patch.memberListAudience;
    if (patch.publicTimelineAnonymous !== undefined)
      set.public_timeline_anonymous = patch.publicTimelineAnonymous;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable("clique_settings").set(set).execute();
  }

  async replaceSetupToken(tokenHash: string, at: Date): Promise<void> {
    await this.db
      .insertInto("setup_token")
      .values({ id: 1, token_hash: tokenHash, created_at: at })
      .onConflict((oc) => oc.column("id").doUpdateSet({ token_hash: tokenHash, created_at: at }))
      .execute();
  }

  async hasSetupToken(tokenHash: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("setup_token")
      .select("id")
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    return row !== undefined;
  }

  async consumeSetupToken(tokenHash: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom("setup_token")
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
