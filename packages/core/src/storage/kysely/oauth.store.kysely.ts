import type { Kysely, Selectable } from "kysely";
import type {
  AppToken,
  AuthorizationCode,
  AuthorizedApp,
  OAuthApp,
  Scope,
} from "../../domain/oauth.ts";
import type { OAuthStore } from "../../stores/stores.ts";
import type { Database, OAuthAppsTable } from "./schema.ts";

const words = (text: string) => text.split(" ").filter((w) => w.length > 0) as Scope[];

function toApp(row: Selectable<OAuthAppsTable>): OAuthApp {
  return {
    id: row.id,
    clientId: row.client_id,
    name: row.name,
    website: row.website,
    redirectUris: row.redirect_uris.split("\n").filter((u) => u.length > 0),
    scopes: words(row.scopes),
    createdAt: new Date(row.created_at),
  };
}

export class KyselyOAuthStore implements OAuthStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async createApp(app: OAuthApp & { clientSecretHash: string }): Promise<void> {
    await this.db
      .insertInto("oauth_apps")
      .values({
        id: app.id,
        client_id: app.clientId,
        client_secret_hash: app.clientSecretHash,
        name: app.name,
        website: app.website,
        redirect_uris: app.redirectUris.join("\n"),
        scopes: app.scopes.join(" "),
        created_at: app.createdAt,
      })
      .execute();
  }

  async findApp(clientId: string) {
    const row = await this.db
      .selectFrom("oauth_apps")
      .selectAll()
      .where("client_id", "=", clientId)
      .executeTakeFirst();
    return row ? { ...toApp(row), clientSecretHash: row.client_secret_hash } : null;
  }

  async getApp(id: string): Promise<OAuthApp | null> {
    const row = await this.db
      .selectFrom("oauth_apps")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toApp(row) : null;
  }

  async createCode(code: AuthorizationCode & { codeHash: string }): Promise<void> {
    await this.db
      .insertInto("oauth_authorization_codes")
      .values({
        id: code.id,
        code_hash: code.codeHash,
        app_id: code.appId,
        member_id: code.memberId,
        redirect_uri: code.redirectUri,
        scopes: code.scopes.join(" "),
        code_challenge: code.codeChallenge,
        code_challenge_method: code.codeChallengeMethod,
        expires_at: code.expiresAt,
        created_at: code.createdAt,
        used_at: null,
      })
      .execute();
  }

  async findCode(codeHash: string, now: Date): Promise<AuthorizationCode | null> {
    const row = await this.db
      .selectFrom("oauth_authorization_codes")
      .selectAll()
      .where("code_hash", "=", codeHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      appId: row.app_id,
      memberId: row.member_id,
      redirectUri: row.redirect_uri,
      scopes: words(row.scopes),
      codeChallenge: row.code_challenge,
      codeChallengeMethod: row.code_challenge_method,
      expiresAt: new Date(row.expires_at),
      createdAt: new Date(row.created_at),
    };
  }

  async useCode(id: string, at: Date): Promise<boolean> {
    // One UPDATE: of two concurrent redemptions, only one sees the row unused.
    const res = await this.db
      .updateTable("oauth_authorization_codes")
      .set({ used_at: at })
      .where("id", "=", id)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async deleteExpiredCodes(before: Date): Promise<number> {
    const res = await this.db
      .deleteFrom("oauth_authorization_codes")
      .where("expires_at", "<", before)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async createAppToken(token: AppToken & { tokenHash: string }): Promise<void> {
    await this.db
      .insertInto("oauth_app_tokens")
      .values({
        id: token.id,
        app_id: token.appId,
        token_hash: token.tokenHash,
        scopes: token.scopes.join(" "),
        created_at: token.createdAt,
        last_used_at: token.lastUsedAt,
        revoked_at: null,
      })
      .execute();
  }

  async findActiveAppToken(tokenHash: string) {
    const row = await this.db
      .selectFrom("oauth_app_tokens as t")
      .innerJoin("oauth_apps as a", "a.id", "t.app_id")
      .selectAll("a")
      .select([
        "t.id as token_id",
        "t.scopes as token_scopes",
        "t.created_at as token_created_at",
        "t.last_used_at",
      ])
      .where("t.token_hash", "=", tokenHash)
      .where("t.revoked_at", "is", null)
      .executeTakeFirst();
    if (!row) return null;
    return {
      token: {
        id: row.token_id,
        appId: row.id,
        scopes: words(row.token_scopes),
        createdAt: new Date(row.token_created_at),
        lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
      },
      app: toApp(row),
    };
  }

  async touchAppToken(id: string, at: Date): Promise<void> {
    await this.db
      .updateTable("oauth_app_tokens")
      .set({ last_used_at: at })
      .where("id", "=", id)
      .execute();
  }

  async revokeAppToken(id: string, at: Date): Promise<void> {
    await this.db
      .updateTable("oauth_app_tokens")
      .set({ revoked_at: at })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .execute();
  }

  async listAuthorized(memberId: string): Promise<AuthorizedApp[]> {
    const rows = await this.db
      .selectFrom("access_tokens as t")
      .innerJoin("oauth_apps as a", "a.id", "t.app_id")
      .selectAll("a")
      .select((eb) => [
        eb.fn.min("t.created_at").as("first_at"),
        eb.fn.max("t.last_used_at").as("last_used"),
        eb.fn<string>("string_agg", ["t.scopes", eb.val(" ")]).as("all_scopes"),
      ])
      .where("t.member_id", "=", memberId)
      .where("t.revoked_at", "is", null)
      .groupBy("a.id")
      .orderBy("first_at", "desc")
      .execute();
    return rows.map((row) => ({
      app: toApp(row),
      scopes: [...new Set(words(row.all_scopes))],
      createdAt: new Date(row.first_at as Date),
      lastUsedAt: row.last_used ? new Date(row.last_used as Date) : null,
    }));
  }
}
