import type { Kysely } from "kysely";
import type { AccessToken } from "../../domain/types.ts";
import type { FailureCounts, LoginAttemptStore, TokenStore } from "../../stores/stores.ts";
import { type MemberRow, toAccessToken, toMember } from "./rows.ts";
import type { Database } from "./schema.ts";

export class KyselyTokenStore implements TokenStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(
    t: Omit<AccessToken, "appId" | "scopes"> & {
      tokenHash: string;
      appId?: string | null;
      scopes?: readonly string[];
    },
  ): Promise<void> {
    await this.db
      .insertInto("access_tokens")
      .values({
        id: t.id,
        member_id: t.memberId,
        kind: t.kind,
        name: t.name,
        token_hash: t.tokenHash,
        created_at: t.createdAt,
        last_used_at: t.lastUsedAt,
        app_id: t.appId ?? null,
        ...(t.scopes ? { scopes: t.scopes.join(" ") } : {}),
      })
      .execute();
  }

  async findActive(tokenHash: string) {
    const row = await this.db
      .selectFrom("access_tokens as t")
      .innerJoin("members", "members.id", "t.member_id")
      .innerJoin("actors", "actors.id", "t.member_id")
      .select([
        "t.id as token_id",
        "t.member_id",
        "t.kind",
        "t.name",
        "t.token_hash",
        "t.created_at as token_created_at",
        "t.last_used_at",
        "t.revoked_at",
        "t.app_id",
        "t.scopes",
      ])
      .selectAll("members")
      .select([
        "actors.username",
        "actors.display_name",
        "actors.summary_html",
        "actors.manually_approves_followers",
        "actors.created_at",
      ])
      .where("t.token_hash", "=", tokenHash)
      .where("t.revoked_at", "is", null)
      .executeTakeFirst();
    if (!row) return null;
    return {
      token: toAccessToken({
        id: row.token_id,
        member_id: row.member_id,
        kind: row.kind,
        name: row.name,
        token_hash: row.token_hash,
        created_at: row.token_created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
        app_id: row.app_id,
        scopes: row.scopes,
      }),
      member: toMember(row as unknown as MemberRow),
    };
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db
      .updateTable("access_tokens")
      .set({ last_used_at: at })
      .where("id", "=", id)
      .execute();
  }

  async revoke(id: string, at: Date): Promise<void> {
    await this.db
      .updateTable("access_tokens")
      .set({ revoked_at: at })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .execute();
  }

  async revokeAllFor(memberId: string, at: Date, exceptId?: string): Promise<number> {
    let query = this.db
      .updateTable("access_tokens")
      .set({ revoked_at: at })
      .where("member_id", "=", memberId)
      .where("revoked_at", "is", null);
    if (exceptId !== undefined) query = query.where("id", "!=", exceptId);
    const res = await query.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async revokeAllForApp(memberId: string, appId: string, at: Date): Promise<number> {
    const res = await this.db
      .updateTable("access_tokens")
      .set({ revoked_at: at })
      .where("member_id", "=", memberId)
      .where("app_id", "=", appId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async listFor(memberId: string): Promise<AccessToken[]> {
    const rows = await this.db
      .selectFrom("access_tokens")
      .selectAll()
      .where("member_id", "=", memberId)
      .where("revoked_at", "is", null)
      .orderBy("id")
      .execute();
    return rows.map(toAccessToken);
  }
}

export class KyselyLoginAttemptStore implements LoginAttemptStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async recordFailure(usernameKey: string, address: string, at: Date): Promise<void> {
    await this.db
      .insertInto("login_failures")
      .values({ username_key: usernameKey, ip: address, at })
      .execute();
  }

  async countFailuresSince(
    usernameKey: string,
    address: string,
    since: Date,
  ): Promise<FailureCounts> {
    // One pass over the rows of either key (each has its own index).
    const row = await this.db
      .selectFrom("login_failures")
      .select((eb) => [
        eb.fn
          .countAll<string>()
          .filterWhere((f) => f.and([f("username_key", "=", usernameKey), f("ip", "=", address)]))
          .as("pair"),
        eb.fn.countAll<string>().filterWhere("ip", "=", address).as("address"),
        eb.fn.countAll<string>().filterWhere("username_key", "=", usernameKey).as("username"),
      ])
      .where("at", ">=", since)
      .where((eb) => eb.or([eb("username_key", "=", usernameKey), eb("ip", "=", address)]))
      .executeTakeFirstOrThrow();
    return { pair: Number(row.pair), address: Number(row.address), username: Number(row.username) };
  }

  async clear(usernameKey: string, address: string): Promise<void> {
    await this.db
      .deleteFrom("login_failures")
      .where("username_key", "=", usernameKey)
      .where("ip", "=", address)
      .execute();
  }

  async deleteOlderThan(before: Date, limit: number): Promise<number> {
    const res = await this.db
      .deleteFrom("login_failures")
      .where("id", "in", (eb) =>
        eb.selectFrom("login_failures").select("id").where("at", "<", before).limit(limit),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
