import { type Kysely, sql } from "kysely";
import type { Actor, MediaFile, Member } from "../../domain/types.ts";
import { newId } from "../../ids.ts";
import type {
  ActorStore,
  KeyStore,
  MemberStore,
  NewMember,
  RemoteActorInput,
  StoredKeyPair,
} from "../../stores/stores.ts";
import { type MemberRow, toActor, toMember } from "./rows.ts";
import type { Database } from "./schema.ts";

function memberQuery(db: Kysely<Database>) {
  return db
    .selectFrom("members")
    .innerJoin("actors", "actors.id", "members.id")
    .selectAll("members")
    .select([
      "actors.username",
      "actors.display_name",
      "actors.summary_html",
      "actors.manually_approves_followers",
      "actors.created_at",
      "actors.avatar",
      "actors.header",
    ]);
}

export class KyselyMemberStore implements MemberStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(m: NewMember): Promise<Member> {
    await this.db
      .insertInto("actors")
      .values({
        id: m.id,
        kind: "local",
        username: m.username,
        host: null,
        display_name: m.displayName,
        summary_html: "",
        uri: null,
        manually_approves_followers: true,
        created_at: m.createdAt,
        updated_at: m.createdAt,
      })
      .execute();
    await this.db
      .insertInto("members")
      .values({
        id: m.id,
        role: m.role,
        status: "active",
        bio: "",
        discoverable: false,
        password_hash: m.passwordHash,
        invite_id: m.inviteId,
        fields: "[]",
      })
      .execute();
    return (await this.getById(m.id))!;
  }

  async getById(id: string): Promise<Member | null> {
    const row = await memberQuery(this.db).where("members.id", "=", id).executeTakeFirst();
    return row ? toMember(row as MemberRow) : null;
  }

  async getByIds(ids: readonly string[]): Promise<Member[]> {
    if (ids.length === 0) return [];
    const rows = await memberQuery(this.db)
      .where("members.id", "in", [...new Set(ids)])
      .execute();
    return rows.map((r) => toMember(r as MemberRow));
  }

  async getByUsername(username: string): Promise<Member | null> {
    const row = await memberQuery(this.db)
      .where(sql`lower(actors.username)`, "=", username.toLowerCase())
      .executeTakeFirst();
    return row ? toMember(row as MemberRow) : null;
  }

  async list(options: { status?: Member["status"] } = {}): Promise<Member[]> {
    let q = memberQuery(this.db).orderBy("members.id");
    if (options.status) q = q.where("members.status", "=", options.status);
    return (await q.execute()).map((r) => toMember(r as MemberRow));
  }

  async countSeated(): Promise<number> {
    const row = await this.db
      .selectFrom("members")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("status", "in", ["active", "suspended"])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setStatus(
    id: string,
    status: Member["status"],
    at: Date,
    suspendedUntil: Date | null = null,
  ): Promise<void> {
    await this.db
      .updateTable("members")
      .set({
        status,
        status_changed_at: at,
        suspended_until: status === "suspended" ? suspendedUntil : null,
      })
      .where("id", "=", id)
      .execute();
  }

  async countActiveOwners(): Promise<number> {
    const row = await this.db
      .selectFrom("members")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("status", "=", "active")
      .where("role", "=", "owner")
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setRole(id: string, role: Member["role"]): Promise<void> {
    await this.db.updateTable("members").set({ role }).where("id", "=", id).execute();
  }

  async updateProfile(
    id: string,
    patch: Parameters<MemberStore["updateProfile"]>[1],
  ): Promise<void> {
    const actorPatch: Record<string, unknown> = {};
    if (patch.displayName !== undefined) actorPatch.display_name = patch.displayName;
    if (patch.bioHtml !== undefined) actorPatch.summary_html = patch.bioHtml;
    if (patch.manuallyApprovesFollowers !== undefined)
      actorPatch.manually_approves_followers = patch.manuallyApprovesFollowers;
    const memberPatch: Record<string, unknown> = {};
    if (patch.bio !== undefined) memberPatch.bio = patch.bio;
    if (patch.fields !== undefined) memberPatch.fields = JSON.stringify(patch.fields);
    if (patch.discoverable !== undefined) memberPatch.discoverable = patch.discoverable;
    if (patch.showFollows !== undefined) memberPatch.show_follows = patch.showFollows;
    if (patch.defaultAudience !== undefined) memberPatch.default_audience = patch.defaultAudience;
    if (patch.bioAudience !== undefined) {
      memberPatch.bio_audience = patch.bioAudience.audience;
      memberPatch.bio_circle_id =
        patch.bioAudience.audience === "circle" ? (patch.bioAudience.circleId ?? null) : null;
    }
    if (patch.followsAudience !== undefined) {
      memberPatch.follows_audience = patch.followsAudience.audience;
      memberPatch.follows_circle_id =
        patch.followsAudience.audience === "circle"
          ? (patch.followsAudience.circleId ?? null)
          : null;
      memberPatch.show_follows = patch.followsAudience.audience === "public";
    }
    if (Object.keys(actorPatch).length > 0) {
      await this.db
        .updateTable("actors")
        .set({ ...actorPatch, updated_at: new Date() })
        .where("id", "=", id)
        .execute();
    }
    if (Object.keys(memberPatch).length > 0) {
      await this.db.updateTable("members").set(memberPatch).where("id", "=", id).execute();
    }
  }

  async setProfileImages(
    id: string,
    images: { avatar?: MediaFile | null; header?: MediaFile | null },
  ): Promise<string[]> {
    const set: { avatar?: string | null; header?: string | null } = {};
    for (const slot of ["avatar", "header"] as const) {
      const file = images[slot];
      if (file !== undefined) set[slot] = file === null ? null : JSON.stringify(file);
    }
    if (Object.keys(set).length === 0) return [];
    // The row is locked while the old keys are read, so two changes at once
    // cannot both miss the file the other replaced.
    const before = await this.db
      .selectFrom("actors")
      .select(["avatar", "header"])
      .where("id", "=", id)
      .where("kind", "=", "local")
      .forUpdate()
      .executeTakeFirst();
    if (!before) return [];
    await this.db
      .updateTable("actors")
      .set({ ...set, updated_at: new Date() })
      .where("id", "=", id)
      .execute();
    const replaced: string[] = [];
    for (const slot of ["avatar", "header"] as const) {
      const old = before[slot];
      if (images[slot] !== undefined && old && old.key !== images[slot]?.key)
        replaced.push(old.key);
    }
    return replaced;
  }

  async getByProfileImageKey(
    key: string,
  ): Promise<{ member: Member; slot: "avatar" | "header"; file: MediaFile } | null> {
    const row = await memberQuery(this.db)
      .where((eb) =>
        eb.or([eb(sql`actors.avatar->>'key'`, "=", key), eb(sql`actors.header->>'key'`, "=", key)]),
      )
      .executeTakeFirst();
    if (!row) return null;
    const member = toMember(row as MemberRow);
    if (member.avatar?.key === key) return { member, slot: "avatar", file: member.avatar };
    if (member.header?.key === key) return { member, slot: "header", file: member.header };
    return null;
  }

  async getPasswordHash(id: string): Promise<string | null> {
    const row = await this.db
      .selectFrom("members")
      .select("password_hash")
      .where("id", "=", id)
      .executeTakeFirst();
    return row?.password_hash ?? null;
  }

  async setPasswordHash(id: string, hash: string): Promise<void> {
    await this.db
      .updateTable("members")
      .set({ password_hash: hash })
      .where("id", "=", id)
      .execute();
  }
}

export class KyselyActorStore implements ActorStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async getById(id: string): Promise<Actor | null> {
    const row = await this.db
      .selectFrom("actors")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toActor(row) : null;
  }

  async getByIds(ids: readonly string[]): Promise<Actor[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom("actors")
      .selectAll()
      .where("id", "in", [...ids])
      .execute();
    return rows.map(toActor);
  }

  async getByUri(uri: string): Promise<Actor | null> {
    const row = await this.db
      .selectFrom("actors")
      .selectAll()
      .where("uri", "=", uri)
      .executeTakeFirst();
    return row ? toActor(row) : null;
  }

  async getRemoteByHandle(username: string, host: string): Promise<Actor | null> {
    const row = await this.db
      .selectFrom("actors")
      .selectAll()
      .where("kind", "=", "remote")
      .where(sql`lower(username)`, "=", username.toLowerCase())
      .where(sql`lower(host)`, "=", host.toLowerCase())
      .orderBy("updated_at", "desc")
      .executeTakeFirst();
    return row ? toActor(row) : null;
  }

  async remoteContactsOf(memberId: string): Promise<Actor[]> {
    const rows = await this.db
      .selectFrom("actors")
      .selectAll()
      .where("kind", "=", "remote")
      .where("id", "in", (eb) =>
        eb
          .selectFrom("follows")
          .select("follower_id as actor_id")
          .where("followee_id", "=", memberId)
          .union(
            eb
              .selectFrom("follows")
              .select("followee_id as actor_id")
              .where("follower_id", "=", memberId),
          )
          .union(
            eb
              .selectFrom("post_deliveries as d")
              .innerJoin("posts as p", "p.id", "d.post_id")
              .select("d.actor_id")
              .where("p.author_id", "=", memberId),
          )
          .union(
            eb
              .selectFrom("post_interactions as i")
              .innerJoin("posts as p", "p.id", "i.post_id")
              .select("i.actor_id")
              .where("p.author_id", "=", memberId),
          ),
      )
      .orderBy("id")
      .execute();
    return rows.map(toActor);
  }

  async upsertRemote(a: RemoteActorInput, at: Date): Promise<Actor> {
    const values = {
      kind: "remote" as const,
      type: a.type,
      username: a.username,
      host: a.host,
      display_name: a.displayName,
      summary_html: a.summaryHtml,
      uri: a.uri,
      url: a.url,
      inbox_url: a.inboxUrl,
      shared_inbox_url: a.sharedInboxUrl,
      followers_url: a.followersUrl,
      following_url: a.followingUrl,
      outbox_url: a.outboxUrl,
      featured_url: a.featuredUrl,
      manually_approves_followers: a.manuallyApprovesFollowers,
      raw: JSON.stringify(a.raw ?? null),
      updated_at: at,
      fetched_at: at,
    };
    // What the actor's own server says of its suspension, when the document says anything.
    const suspension =
      a.suspended === undefined
        ? {}
        : {
            origin_suspended_at: a.suspended
              ? sql<Date>`coalesce(actors.origin_suspended_at, ${at})`
              : null,
          };
    const row = await this.db
      .insertInto("actors")
      .values({
        id: newId(),
        created_at: at,
        ...values,
        ...(a.suspended ? { origin_suspended_at: at } : {}),
      })
      .onConflict((oc) => oc.column("uri").doUpdateSet({ ...values, ...suspension }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toActor(row);
  }

  async deleteRemote(id: string): Promise<void> {
    await this.db.deleteFrom("actors").where("id", "=", id).where("kind", "=", "remote").execute();
  }
}

export class KyselyKeyStore implements KeyStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async save(actorId: string, pairs: readonly StoredKeyPair[]): Promise<void> {
    if (pairs.length === 0) return;
    await this.db
      .insertInto("actor_keys")
      .values(
        pairs.map((p) => ({
          actor_id: actorId,
          type: p.type,
          public_jwk: JSON.stringify(p.publicJwk),
          private_jwk: JSON.stringify(p.privateJwk),
        })),
      )
      .execute();
  }

  async get(actorId: string): Promise<StoredKeyPair[]> {
    const rows = await this.db
      .selectFrom("actor_keys")
      .selectAll()
      .where("actor_id", "=", actorId)
      .orderBy("type", "desc")
      .execute();
    return rows.map((r) => ({ type: r.type, publicJwk: r.public_jwk, privateJwk: r.private_jwk }));
  }

  async getInstance(): Promise<StoredKeyPair[]> {
    const rows = await this.db
      .selectFrom("instance_keys")
      .selectAll()
      .orderBy("type", "desc")
      .execute();
    return rows.map((r) => ({ type: r.type, publicJwk: r.public_jwk, privateJwk: r.private_jwk }));
  }

  async saveInstanceIfAbsent(pairs: readonly StoredKeyPair[]): Promise<void> {
    if (pairs.length === 0) return;
    await this.db
      .insertInto("instance_keys")
      .values(
        pairs.map((p) => ({
          type: p.type,
          public_jwk: JSON.stringify(p.publicJwk),
          private_jwk: JSON.stringify(p.privateJwk),
        })),
      )
      .onConflict((oc) => oc.column("type").doNothing())
      .execute();
  }
}
