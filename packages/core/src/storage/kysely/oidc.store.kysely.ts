import type { Kysely, Selectable } from "kysely";
import type { OidcIdentity } from "../../domain/oidc.ts";
import type { OidcIdentityStore } from "../../stores/stores.ts";
import type { Database, OidcIdentitiesTable } from "./schema.ts";

function toIdentity(row: Selectable<OidcIdentitiesTable>): OidcIdentity {
  return {
    id: row.id,
    memberId: row.member_id,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    createdAt: new Date(row.created_at),
  };
}

export class KyselyOidcIdentityStore implements OidcIdentityStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(identity: OidcIdentity): Promise<boolean> {
    const inserted = await this.db
      .insertInto("oidc_identities")
      .values({
        id: identity.id,
        member_id: identity.memberId,
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        created_at: identity.createdAt,
      })
      .onConflict((oc) => oc.columns(["issuer", "subject"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async find(issuer: string, subject: string): Promise<OidcIdentity | null> {
    const row = await this.db
      .selectFrom("oidc_identities")
      .selectAll()
      .where("issuer", "=", issuer)
      .where("subject", "=", subject)
      .executeTakeFirst();
    return row ? toIdentity(row) : null;
  }

  async listFor(memberId: string): Promise<OidcIdentity[]> {
    const rows = await this.db
      .selectFrom("oidc_identities")
      .selectAll()
      .where("member_id", "=", memberId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toIdentity);
  }

  async delete(memberId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("oidc_identities")
      .where("member_id", "=", memberId)
      .where("id", "=", id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
