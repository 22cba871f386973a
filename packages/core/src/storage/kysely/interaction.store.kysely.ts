import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import type { Post } from "../../domain/types.ts";
import type {
  BlockStore,
  BookmarkStore,
  Boost,
  FeedEntry,
  InteractionActor,
  InteractionStore,
  MuteStore,
  Page,
  PinStore,
  PostEntry,
} from "../../stores/stores.ts";
import type { VisibilityFilter } from "../../visibility/visibility.ts";
import { toPost } from "./rows.ts";
import type { Database } from "./schema.ts";
import { visibleCondition } from "./visibility.kysely.ts";

/**
 * Runs a list query paged Mastodon's way on `column` (a time-sortable id):
 * newest first, or oldest first after `minId` and then reversed.
 */
async function paged<DB, TB extends keyof DB, O>(
  q: SelectQueryBuilder<DB, TB, O>,
  column: string,
  page: Page,
): Promise<O[]> {
  const ref = sql.ref(column);
  let query = q;
  if (page.maxId) query = query.where(sql<boolean>`${ref} < ${page.maxId}`);
  if (page.sinceId) query = query.where(sql<boolean>`${ref} > ${page.sinceId}`);
  if (page.minId) {
    const rows = await query
      .where(sql<boolean>`${ref} > ${page.minId}`)
      .orderBy(sql`${ref} asc`)
      .limit(page.limit)
      .execute();
    return rows.reverse();
  }
  return query.orderBy(sql`${ref} desc`).limit(page.limit).execute();
}

/** Actors who block `actorId` or whom it blocks. */
function blockedEitherWay(db: Kysely<Database>, actorId: string) {
  return db
    .selectFrom("blocks as hb")
    .select("hb.blocked_id")
    .where("hb.blocker_id", "=", actorId)
    .union(
      db
        .selectFrom("blocks as hb2")
        .select("hb2.blocker_id as blocked_id")
        .where("hb2.blocked_id", "=", actorId),
    );
}

/** Members who are suspended or removed (their boosts and likes are not shown). */
function inactiveMembers(db: Kysely<Database>) {
  return db.selectFrom("members as im").select("im.id").where("im.status", "<>", "active");
}

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
        ...(i.audience ? { audience: i.audience } : {}),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async getBoost(actorId: string, postId: string): Promise<Boost | null> {
    const row = await this.db
      .selectFrom("post_interactions")
      .selectAll()
      .where("kind", "=", "boost")
      .where("actor_id", "=", actorId)
      .where("post_id", "=", postId)
      .executeTakeFirst();
    return row
      ? {
          id: row.id,
          actorId: row.actor_id,
          postId: row.post_id,
          audience: row.audience,
          uri: row.uri,
          createdAt: row.created_at,
        }
      : null;
  }

  async listHomeBoosts(
    memberId: string,
    filter: VisibilityFilter,
    page: Page,
  ): Promise<FeedEntry[]> {
    const muted = this.db
      .selectFrom("mutes as hmu")
      .select("hmu.muted_id")
      .where("hmu.muter_id", "=", memberId);
    const q = this.db
      .selectFrom("post_interactions as i")
      .innerJoin("posts as p", "p.id", "i.post_id")
      .selectAll("p")
      .select([
        "i.id as boost_id",
        "i.actor_id as boost_actor_id",
        "i.audience as boost_audience",
        "i.uri as boost_uri",
        "i.created_at as boost_created_at",
      ])
      .where("i.kind", "=", "boost")
      // The member's own boosts, and those of the accounts they follow.
      .where((eb) =>
        eb.or([
          eb("i.actor_id", "=", memberId),
          eb(
            "i.actor_id",
            "in",
            eb
              .selectFrom("follows as hf")
              .select("hf.followee_id")
              .where("hf.follower_id", "=", memberId)
              .where("hf.state", "=", "accepted"),
          ),
        ]),
      )
      // Muted accounts leave the feed, as boosters and as authors.
      .where("i.actor_id", "not in", muted)
      .where("p.author_id", "not in", muted)
      // A block either way ends it, with the booster or with the author.
      .where("i.actor_id", "not in", blockedEitherWay(this.db, memberId))
      .where("p.author_id", "not in", blockedEitherWay(this.db, memberId))
      .where("i.actor_id", "not in", inactiveMembers(this.db))
      // The boosted post itself passes the visibility rules, as every post does
      // (shaped for a page: see `ConditionShape`).
      .where((eb) => visibleCondition(eb, filter, "page"));
    const rows = await paged(q, "i.id", page);
    return rows.map((r) => ({
      id: r.boost_id,
      post: toPost(r),
      boost: {
        id: r.boost_id,
        actorId: r.boost_actor_id,
        postId: r.id,
        audience: r.boost_audience,
        uri: r.boost_uri,
        createdAt: r.boost_created_at,
      },
    }));
  }

  async listLiked(actorId: string, filter: VisibilityFilter, page: Page): Promise<PostEntry[]> {
    const q = this.db
      .selectFrom("post_interactions as i")
      .innerJoin("posts as p", "p.id", "i.post_id")
      .selectAll("p")
      .select("i.id as entry_id")
      .where("i.kind", "=", "like")
      .where("i.actor_id", "=", actorId)
      .where((eb) => visibleCondition(eb, filter, "page"));
    const rows = await paged(q, "i.id", page);
    return rows.map((r) => ({ id: r.entry_id, post: toPost(r) }));
  }

  async listActors(
    postId: string,
    kind: "like" | "boost",
    viewerActorId: string | null,
    page: Page,
  ): Promise<InteractionActor[]> {
    let q = this.db
      .selectFrom("post_interactions as i")
      .select(["i.id", "i.actor_id"])
      .where("i.post_id", "=", postId)
      .where("i.kind", "=", kind)
      .where("i.actor_id", "not in", inactiveMembers(this.db))
      .where("i.actor_id", "not in", (eb) =>
        eb
          .selectFrom("actors as sa")
          .select("sa.id")
          .where("sa.origin_suspended_at", "is not", null),
      );
    if (viewerActorId !== null) {
      q = q.where("i.actor_id", "not in", blockedEitherWay(this.db, viewerActorId));
    }
    // A followers-only boost is listed to its booster alone.
    q = q.where((eb) =>
      viewerActorId === null
        ? eb("i.audience", "=", "public")
        : eb.or([eb("i.audience", "=", "public"), eb("i.actor_id", "=", viewerActorId)]),
    );
    const rows = await paged(q, "i.id", page);
    return rows.map((r) => ({ id: r.id, actorId: r.actor_id }));
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

  async bothByActor(
    actorId: string,
    postIds: readonly string[],
  ): Promise<{ liked: Set<string>; boosted: Set<string> }> {
    const both = { liked: new Set<string>(), boosted: new Set<string>() };
    if (postIds.length === 0) return both;
    const rows = await this.db
      .selectFrom("post_interactions")
      .select(["post_id", "kind"])
      .where("actor_id", "=", actorId)
      .where("post_id", "in", [...postIds])
      .execute();
    for (const r of rows) (r.kind === "like" ? both.liked : both.boosted).add(r.post_id);
    return both;
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

export class KyselyBookmarkStore implements BookmarkStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async add(b: Parameters<BookmarkStore["add"]>[0]): Promise<boolean> {
    const res = await this.db
      .insertInto("bookmarks")
      .values({ id: b.id, member_id: b.memberId, post_id: b.postId, created_at: b.createdAt })
      .onConflict((oc) => oc.columns(["member_id", "post_id"]).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async remove(memberId: string, postId: string): Promise<void> {
    await this.db
      .deleteFrom("bookmarks")
      .where("member_id", "=", memberId)
      .where("post_id", "=", postId)
      .execute();
  }

  async list(memberId: string, filter: VisibilityFilter, page: Page): Promise<PostEntry[]> {
    const q = this.db
      .selectFrom("bookmarks as b")
      .innerJoin("posts as p", "p.id", "b.post_id")
      .selectAll("p")
      .select("b.id as entry_id")
      .where("b.member_id", "=", memberId)
      .where((eb) => visibleCondition(eb, filter, "page"));
    const rows = await paged(q, "b.id", page);
    return rows.map((r) => ({ id: r.entry_id, post: toPost(r) }));
  }

  async among(memberId: string, postIds: readonly string[]): Promise<Set<string>> {
    if (postIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("bookmarks")
      .select("post_id")
      .where("member_id", "=", memberId)
      .where("post_id", "in", [...postIds])
      .execute();
    return new Set(rows.map((r) => r.post_id));
  }
}

export class KyselyPinStore implements PinStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async add(
    p: Parameters<PinStore["add"]>[0],
    max: number,
  ): Promise<"pinned" | "already" | "full"> {
    // The member's row is the lock: two pins at once are counted one after the other.
    await this.db
      .selectFrom("members")
      .select("id")
      .where("id", "=", p.memberId)
      .forUpdate()
      .executeTakeFirst();
    // Pins of posts since deleted no longer count.
    const pinned = await this.db
      .selectFrom("pins as pn")
      .innerJoin("posts as p", "p.id", "pn.post_id")
      .select("pn.post_id")
      .where("pn.member_id", "=", p.memberId)
      .where("p.deleted_at", "is", null)
      .execute();
    if (pinned.some((r) => r.post_id === p.postId)) return "already";
    if (pinned.length >= max) return "full";
    await this.db
      .insertInto("pins")
      .values({ id: p.id, member_id: p.memberId, post_id: p.postId, created_at: p.createdAt })
      .onConflict((oc) => oc.columns(["member_id", "post_id"]).doNothing())
      .execute();
    return "pinned";
  }

  async remove(memberId: string, postId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom("pins")
      .where("member_id", "=", memberId)
      .where("post_id", "=", postId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async list(memberId: string, filter: VisibilityFilter): Promise<Post[]> {
    const rows = await this.db
      .selectFrom("pins as pn")
      .innerJoin("posts as p", "p.id", "pn.post_id")
      .selectAll("p")
      .where("pn.member_id", "=", memberId)
      // Only one's own posts are pinned.
      .whereRef("p.author_id", "=", "pn.member_id")
      .where((eb) => visibleCondition(eb, filter))
      .orderBy("pn.id", "desc")
      .execute();
    return rows.map(toPost);
  }

  async among(postIds: readonly string[]): Promise<Set<string>> {
    if (postIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("pins as pn")
      .innerJoin("posts as p", "p.id", "pn.post_id")
      .select("pn.post_id")
      .whereRef("p.author_id", "=", "pn.member_id")
      .where("pn.post_id", "in", [...postIds])
      .execute();
    return new Set(rows.map((r) => r.post_id));
  }
}
