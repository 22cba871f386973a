import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import { OPEN_INTERACTIONS, type Post, type PostEdit } from "../../domain/types.ts";
import type {
  AccountCounts,
  AuthorPostStats,
  NewPost,
  Page,
  PostCounters,
  PostScope,
  PostStore,
} from "../../stores/stores.ts";
import type { VisibilityFilter } from "../../visibility/visibility.ts";
import { countedAccounts, followCounters, postCounters } from "./counters.kysely.ts";
import { toPost, toPostEdit } from "./rows.ts";
import type { Database } from "./schema.ts";
import { addressedTo, visibleCondition } from "./visibility.kysely.ts";

export class KyselyPostStore implements PostStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(p: NewPost): Promise<Post> {
    const row = await this.db
      .insertInto("posts")
      .values(postValues(p))
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.writeLinks(p.id, p);
    return toPost(row);
  }

  async createRemote(p: NewPost & { uri: string }): Promise<boolean> {
    // Concurrent deliveries of one post: the first insert wins, the others write nothing.
    const row = await this.db
      .insertInto("posts")
      .values(postValues(p))
      .onConflict((oc) => oc.column("uri").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!row) return false;
    await this.writeLinks(p.id, p);
    return true;
  }

  private async writeLinks(
    postId: string,
    links: {
      mentionIds: readonly string[];
      recipientIds: readonly string[];
      hashtags: readonly string[];
    },
  ): Promise<void> {
    const mentions = [...new Set(links.mentionIds)];
    const recipients = [...new Set(links.recipientIds)];
    const tags = [...new Set(links.hashtags)];
    if (mentions.length > 0)
      await this.db
        .insertInto("post_mentions")
        .values(mentions.map((actor_id) => ({ post_id: postId, actor_id })))
        .execute();
    if (recipients.length > 0)
      await this.db
        .insertInto("post_recipients")
        .values(recipients.map((actor_id) => ({ post_id: postId, actor_id })))
        .execute();
    if (tags.length > 0)
      await this.db
        .insertInto("post_tags")
        .values(tags.map((tag) => ({ post_id: postId, tag })))
        .execute();
  }

  async getById(id: string): Promise<Post | null> {
    const row = await this.db
      .selectFrom("posts")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toPost(row) : null;
  }

  async authorsOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom("posts")
      .select(["id", "author_id"])
      .where("id", "in", [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [r.id, r.author_id]));
  }

  async getByUri(uri: string): Promise<Post | null> {
    const row = await this.db
      .selectFrom("posts")
      .selectAll()
      .where("uri", "=", uri)
      .executeTakeFirst();
    return row ? toPost(row) : null;
  }

  async list(scope: PostScope, filter: VisibilityFilter, page: Page): Promise<Post[]> {
    if (scope.kind === "local") return this.listLocal(scope.onlyMedia ?? false, filter, page);
    if (scope.kind === "tag") return this.listTag(scope, filter, page);
    let q = this.db
      .selectFrom("posts as p")
      .selectAll("p")
      // A page, read in `id` order until it is full: see `ConditionShape`.
      .where((eb) => visibleCondition(eb, filter, "page"));
    switch (scope.kind) {
      case "author":
        q = q.where("p.author_id", "=", scope.authorId);
        if (scope.excludeReplies)
          q = q.where("p.in_reply_to_id", "is", null).where("p.in_reply_to_uri", "is", null);
        if (scope.onlyMedia)
          q = q.where((eb) =>
            eb.exists(
              eb
                .selectFrom("media as om")
                .select("om.id")
                .whereRef("om.post_id", "=", "p.id")
                .where("om.state", "=", "ready"),
            ),
          );
        break;
      case "home":
        // Members' posts, followed accounts' posts and posts addressed to the
        // member; muted accounts leave the feed (their posts stay visible elsewhere).
        // Uncorrelated IN-subqueries over relations that do not grow with the
        // posts (computed once, probed per row); the posts addressed to the
        // member do, so each row probes their index instead.
        q = q
          .where("p.author_id", "not in", (eb) =>
            eb
              .selectFrom("mutes as hmu")
              .select("hmu.muted_id")
              .where("hmu.muter_id", "=", scope.actorId),
          )
          .where((eb) =>
            eb.or([
              eb("p.author_id", "in", eb.selectFrom("members as hm").select("hm.id")),
              eb(
                "p.author_id",
                "in",
                eb
                  .selectFrom("follows as hf")
                  .select("hf.followee_id")
                  .where("hf.follower_id", "=", scope.actorId)
                  .where("hf.state", "=", "accepted"),
              ),
              addressedTo(eb, scope.actorId),
            ]),
          );
        break;
      case "replies-to":
        q = q.where("p.in_reply_to_id", "=", scope.postId);
        break;
      case "ids":
        if (scope.ids.length === 0) return [];
        q = q.where("p.id", "in", [...scope.ids]);
        break;
      // Timelines (issue 11): conversations (the Clique's and tags' timelines
      // are `listLocal` and `listTag`).
      case "direct":
        q = q
          .where("p.audience", "=", "direct")
          .where((eb) =>
            eb.or([eb("p.author_id", "=", scope.actorId), addressedTo(eb, scope.actorId)]),
          );
        break;
      default: {
        const unreachable: never = scope;
        throw new Error(`unknown scope ${JSON.stringify(unreachable)}`);
      }
    }
    if (page.maxId) q = q.where("p.id", "<", page.maxId);
    if (page.sinceId) q = q.where("p.id", ">", page.sinceId);
    if (page.minId) {
      const rows = await q
        .where("p.id", ">", page.minId)
        .orderBy("p.id", "asc")
        .limit(page.limit)
        .execute();
      return rows.map(toPost).reverse();
    }
    const rows = await q.orderBy("p.id", "desc").limit(page.limit).execute();
    return rows.map(toPost);
  }

  /**
   * The Clique's timeline: each member's newest visible posts, read backwards
   * through `posts_author` and stopped after a page, then merged. As one
   * `author_id in (members)` filter, PostgreSQL joined every member's posts
   * and sorted them all (850 ms at a million posts, issue 13).
   */
  private async listLocal(
    onlyMedia: boolean,
    filter: VisibilityFilter,
    page: Page,
  ): Promise<Post[]> {
    const direction = page.minId ? "asc" : "desc";
    const rows = await this.withoutJit((db) =>
      db
        .selectFrom("members as lm")
        .innerJoinLateral(
          (eb) => {
            let q = eb
              .selectFrom("posts as p")
              .selectAll("p")
              .whereRef("p.author_id", "=", "lm.id")
              .where((pe) => visibleCondition(pe as unknown as PostsEb, filter, "page"));
            if (onlyMedia) q = q.where((pe) => pe.exists(readyMediaOf(pe as unknown as PostsEb)));
            if (page.maxId) q = q.where("p.id", "<", page.maxId);
            if (page.sinceId) q = q.where("p.id", ">", page.sinceId);
            if (page.minId) q = q.where("p.id", ">", page.minId);
            return q.orderBy("p.id", direction).limit(page.limit).as("lp");
          },
          (join) => join.onTrue(),
        )
        .selectAll("lp")
        .orderBy("lp.id", direction)
        .limit(page.limit)
        .execute(),
    );
    const posts = rows.map(toPost);
    return page.minId ? posts.reverse() : posts;
  }

  /**
   * A hashtag timeline: for each tag of `any`, its newest visible posts read
   * backwards through `post_tags_tag (tag, post_id)` and stopped after a page,
   * then merged without repeats. As an `id in (tagged posts)` filter on a walk
   * of all posts, a rare tag read tens of thousands of rows for one page
   * (47 ms at a million posts, issue 13).
   */
  private async listTag(
    scope: Extract<PostScope, { kind: "tag" }>,
    filter: VisibilityFilter,
    page: Page,
  ): Promise<Post[]> {
    if (scope.any.length === 0) return [];
    const direction = page.minId ? "asc" : "desc";
    const none = scope.none ?? [];
    const rows = await this.withoutJit((db) =>
      db
        .selectFrom(
          sql<{ tag: string }>`(select unnest(${[...scope.any]}::text[]) as tag)`.as("tt"),
        )
        .innerJoinLateral(
          (eb) =>
            eb
              .selectFrom("post_tags as ta")
              // One post per tag row, looked up by id: the `limit 1` keeps
              // PostgreSQL from turning this into a merge join that walks
              // (and filters) every post in id order.
              .innerJoinLateral(
                (te) => {
                  let q = te
                    .selectFrom("posts as p")
                    .selectAll("p")
                    .whereRef("p.id", "=", "ta.post_id")
                    .where((pe) => visibleCondition(pe as unknown as PostsEb, filter, "page"));
                  for (const tag of scope.all ?? [])
                    q = q.where("p.id", "in", (pe) =>
                      pe
                        .selectFrom("post_tags as tl")
                        .select("tl.post_id")
                        .where("tl.tag", "=", tag),
                    );
                  if (none.length > 0)
                    q = q.where("p.id", "not in", (pe) =>
                      pe
                        .selectFrom("post_tags as tn")
                        .select("tn.post_id")
                        .where("tn.tag", "in", [...none]),
                    );
                  if (scope.localOnly)
                    q = q.where("p.author_id", "in", (pe) =>
                      pe.selectFrom("members as tm").select("tm.id"),
                    );
                  if (scope.onlyMedia)
                    q = q.where((pe) => pe.exists(readyMediaOf(pe as unknown as PostsEb)));
                  return q.limit(1).as("tp");
                },
                (join) => join.onTrue(),
              )
              .selectAll("tp")
              .whereRef("ta.tag", "=", "tt.tag")
              .$call((q) => (page.maxId ? q.where("ta.post_id", "<", page.maxId) : q))
              .$call((q) => (page.sinceId ? q.where("ta.post_id", ">", page.sinceId) : q))
              .$call((q) => (page.minId ? q.where("ta.post_id", ">", page.minId) : q))
              .orderBy("ta.post_id", direction)
              .limit(page.limit)
              .as("lp"),
          (join) => join.onTrue(),
        )
        .selectAll("lp")
        // A post with several of the tags comes once.
        .distinctOn("lp.id")
        .orderBy("lp.id", direction)
        .limit(page.limit)
        .execute(),
    );
    const posts = rows.map(toPost);
    return page.minId ? posts.reverse() : posts;
  }

  /**
   * Runs a timeline's merged per-author or per-tag read with JIT off. The
   * planner expects each branch to read all its rows (it cannot know a page
   * fills early), so the plan's cost passes `jit_above_cost` and compiling it
   * would take ~45 ms, far more than the 1-2 ms the reads take.
   */
  private async withoutJit<T>(read: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return read(this.db);
    return this.db.transaction().execute(async (trx) => {
      await sql`set local jit = off`.execute(trx);
      return read(trx);
    });
  }

  async ancestorIds(id: string, maxDepth: number): Promise<string[]> {
    const result = await sql<{ id: string; depth: number }>`
      with recursive chain(id, parent, depth) as (
        select id, in_reply_to_id, 0 from posts where id = ${id}
        union all
        select p.id, p.in_reply_to_id, c.depth + 1
        from posts p join chain c on p.id = c.parent
        where c.depth < ${maxDepth}
      )
      select id, depth from chain where depth > 0 order by depth asc`.execute(this.db);
    return result.rows.map((r) => r.id);
  }

  async descendantIds(id: string, maxCount: number): Promise<string[]> {
    const result = await sql<{ id: string }>`
      with recursive tree(id, depth) as (
        select id, 1 from posts where in_reply_to_id = ${id}
        union all
        select p.id, t.depth + 1 from posts p join tree t on p.in_reply_to_id = t.id
        where t.depth < 64
      )
      select id from tree order by id asc limit ${maxCount}`.execute(this.db);
    return result.rows.map((r) => r.id);
  }

  async update(id: string, patch: Parameters<PostStore["update"]>[1]): Promise<void> {
    await this.db
      .updateTable("posts")
      .set({
        source: patch.source,
        content_html: patch.contentHtml,
        spoiler_text: patch.spoilerText,
        sensitive: patch.sensitive,
        language: patch.language,
        edited_at: patch.editedAt,
      })
      .where("id", "=", id)
      .execute();
    await this.db.deleteFrom("post_mentions").where("post_id", "=", id).execute();
    await this.db.deleteFrom("post_recipients").where("post_id", "=", id).execute();
    await this.db.deleteFrom("post_tags").where("post_id", "=", id).execute();
    await this.writeLinks(id, patch);
  }

  async addEdit(e: PostEdit): Promise<void> {
    await this.db
      .insertInto("post_edits")
      .values({
        id: e.id,
        post_id: e.postId,
        source: e.source,
        content_html: e.contentHtml,
        spoiler_text: e.spoilerText,
        sensitive: e.sensitive,
        created_at: e.createdAt,
      })
      .execute();
  }

  async listEdits(postId: string): Promise<PostEdit[]> {
    const rows = await this.db
      .selectFrom("post_edits")
      .selectAll()
      .where("post_id", "=", postId)
      .orderBy("created_at", "asc")
      .execute();
    return rows.map(toPostEdit);
  }

  async markDeleted(id: string, at: Date): Promise<void> {
    // Keep the row as a tombstone (its id must keep answering 410/Tombstone),
    // but drop the content: a deleted post is gone.
    await this.db
      .updateTable("posts")
      .set({ deleted_at: at, source: "", content_html: "", spoiler_text: "" })
      .where("id", "=", id)
      .execute();
    await this.db.deleteFrom("post_edits").where("post_id", "=", id).execute();
    await this.db.deleteFrom("post_tags").where("post_id", "=", id).execute();
  }

  async markDeletedByAuthor(authorId: string, at: Date): Promise<number> {
    const rows = await this.db
      .updateTable("posts")
      .set({ deleted_at: at, source: "", content_html: "", spoiler_text: "" })
      .where("author_id", "=", authorId)
      .where("deleted_at", "is", null)
      .returning("id")
      .execute();
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) {
      await this.db.deleteFrom("post_edits").where("post_id", "in", ids).execute();
      await this.db.deleteFrom("post_tags").where("post_id", "in", ids).execute();
    }
    return ids.length;
  }

  async setHidden(id: string, at: Date | null): Promise<void> {
    await this.db.updateTable("posts").set({ hidden_at: at }).where("id", "=", id).execute();
  }

  private async linkMap(
    table: "post_mentions" | "post_recipients",
    postIds: readonly string[],
  ): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    if (postIds.length === 0) return map;
    const rows = await this.db
      .selectFrom(table)
      .selectAll()
      .where("post_id", "in", [...postIds])
      .execute();
    for (const r of rows) map.set(r.post_id, [...(map.get(r.post_id) ?? []), r.actor_id]);
    return map;
  }

  async recordDeliveries(postId: string, actorIds: readonly string[]): Promise<void> {
    const unique = [...new Set(actorIds)];
    if (unique.length === 0) return;
    await this.db
      .insertInto("post_deliveries")
      .values(unique.map((actor_id) => ({ post_id: postId, actor_id })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async remoteParticipantsOf(postId: string): Promise<string[]> {
    const result = await sql<{ actor_id: string }>`
      select d.actor_id from post_deliveries d where d.post_id = ${postId}
      union
      select r.author_id from posts r join actors a on a.id = r.author_id
        where r.in_reply_to_id = ${postId} and a.kind = 'remote'
      union
      select i.actor_id from post_interactions i join actors a on a.id = i.actor_id
        where i.post_id = ${postId} and a.kind = 'remote'`.execute(this.db);
    return result.rows.map((r) => r.actor_id);
  }

  async listInCircle(circleId: string): Promise<Post[]> {
    const rows = await this.db
      .selectFrom("posts")
      .selectAll()
      .where("circle_id", "=", circleId)
      .where("audience", "=", "circle")
      .where("uri", "is", null)
      .where("deleted_at", "is", null)
      .orderBy("id", "asc")
      .execute();
    return rows.map(toPost);
  }

  mentionsOf(postIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.linkMap("post_mentions", postIds);
  }

  /** Conversations (issue 11): the recipients of many posts at once. */
  recipientsOfPosts(postIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.linkMap("post_recipients", postIds);
  }

  async recipientsOf(postId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("post_recipients")
      .select("actor_id")
      .where("post_id", "=", postId)
      .execute();
    return rows.map((r) => r.actor_id);
  }

  async hashtagsOf(postIds: readonly string[]): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    if (postIds.length === 0) return map;
    const rows = await this.db
      .selectFrom("post_tags")
      .selectAll()
      .where("post_id", "in", [...postIds])
      .execute();
    for (const r of rows) map.set(r.post_id, [...(map.get(r.post_id) ?? []), r.tag]);
    return map;
  }

  async statsByAuthor(
    authorIds: readonly string[],
    filter: VisibilityFilter,
  ): Promise<Map<string, AuthorPostStats>> {
    // From the counters (migration 020); a public listing leaves out the
    // unlisted posts that the open counter holds, so it counts.
    const map = new Map<string, AuthorPostStats>();
    if (filter.listing === "personal") {
      for (const [id, c] of await countedAccounts(this.db, authorIds, filter))
        if (c.posts > 0 && c.lastPostAt) map.set(id, { count: c.posts, lastPostAt: c.lastPostAt });
      return map;
    }
    if (authorIds.length === 0) return map;
    const rows = await this.db
      .selectFrom("posts as p")
      .select((eb) => [
        "p.author_id",
        eb.fn.countAll<string>().as("n"),
        eb.fn.max("p.created_at").as("last"),
      ])
      .where("p.author_id", "in", [...new Set(authorIds)])
      .where((eb) => visibleCondition(eb, filter))
      .groupBy("p.author_id")
      .execute();
    for (const r of rows)
      map.set(r.author_id, { count: Number(r.n), lastPostAt: new Date(r.last) });
    return map;
  }

  async accountCounts(
    actorIds: readonly string[],
    filter: VisibilityFilter,
  ): Promise<Map<string, AccountCounts>> {
    if (filter.listing === "personal") return countedAccounts(this.db, actorIds, filter);
    // A public listing leaves out unlisted posts, which the open counter holds: they are counted.
    const [follows, posts] = await Promise.all([
      followCounters(this.db, actorIds),
      this.statsByAuthor(actorIds, filter),
    ]);
    const map = new Map<string, AccountCounts>();
    for (const [id, f] of follows) {
      const p = posts.get(id);
      map.set(id, { ...f, posts: p?.count ?? 0, lastPostAt: p?.lastPostAt ?? null });
    }
    return map;
  }

  countersOf(postIds: readonly string[]): Promise<Map<string, PostCounters>> {
    return postCounters(this.db, postIds);
  }

  async countReplies(
    postIds: readonly string[],
    filter: VisibilityFilter,
  ): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    if (postIds.length === 0) return map;
    const rows = await this.db
      .selectFrom("posts as p")
      .select((eb) => ["p.in_reply_to_id", eb.fn.countAll<string>().as("n")])
      .where("p.in_reply_to_id", "in", [...new Set(postIds)])
      .where((eb) => visibleCondition(eb, filter))
      .groupBy("p.in_reply_to_id")
      .execute();
    for (const r of rows) if (r.in_reply_to_id) map.set(r.in_reply_to_id, Number(r.n));
    return map;
  }

  async countLocal(filter: VisibilityFilter): Promise<number> {
    const row = await this.db
      .selectFrom("posts as p")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("p.author_id", "in", (eb) => eb.selectFrom("members as lm").select("lm.id"))
      .where((eb) => visibleCondition(eb, filter))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/** A new post as a `posts` row. */
function postValues(p: NewPost) {
  return {
    id: p.id,
    author_id: p.authorId,
    uri: p.uri,
    url: p.url,
    audience: p.audience,
    circle_id: p.circleId,
    audience_owner_id: p.audienceOwnerId ?? null,
    interaction_policy: JSON.stringify(p.interactionPolicy ?? OPEN_INTERACTIONS),
    in_reply_to_id: p.inReplyToId,
    in_reply_to_uri: p.inReplyToUri,
    content_type: p.contentType,
    source: p.source,
    content_html: p.contentHtml,
    spoiler_text: p.spoilerText,
    sensitive: p.sensitive,
    language: p.language,
    created_at: p.createdAt,
  };
}

type PostsEb = ExpressionBuilder<Database & { p: Database["posts"] }, "p">;

/** A post's processed photos and videos, for `only_media` (timelines, issue 11). */
function readyMediaOf(eb: PostsEb) {
  return eb
    .selectFrom("media as tmm")
    .select("tmm.id")
    .whereRef("tmm.post_id", "=", "p.id")
    .where("tmm.state", "=", "ready");
}
