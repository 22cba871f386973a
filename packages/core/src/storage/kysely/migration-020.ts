/**
 * Migration `020_counters`: the numbers shown with accounts and posts, kept
 * by triggers in the same transaction as the write that changes them
 * (issue 13, "no N+1"), so that rendering a page reads them instead of
 * counting rows.
 *
 * - `account_counters`, one row per actor (made when the actor is): approved
 *   followers and follows; posts neither deleted nor hidden, all of them
 *   (`statuses_count`) and those open to everyone (`open_statuses_count`,
 *   public and unlisted), each with the time of its newest post. Remote
 *   accounts count what this server stored of them.
 * - `post_counters`, one row per post (made when the post is): its likes and
 *   boosts, and its direct replies neither deleted nor hidden, whatever their
 *   audience.
 *
 * These are facts about rows, not about viewers. What a viewer is shown is
 * still decided by the visibility module: the store reads the open count and
 * judges the restricted part through the list filter (see `statsByAuthor`
 * and `countReplies` in post.store.kysely.ts).
 *
 * Triggers are used rather than store code so that every writer (use cases,
 * the inbox, moderation purges, cascades of deleted actors and posts) keeps
 * them right. They only ever `update` a row that the insert triggers made,
 * and the backfill at the end recomputes every row from the tables.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `020_counters` migration. */
export const m020_counters: Migration = {
  async up(db: AnyDb) {
    await sql`
      create table account_counters (
        actor_id uuid primary key references actors (id) on delete cascade,
        followers_count integer not null default 0,
        following_count integer not null default 0,
        statuses_count integer not null default 0,
        open_statuses_count integer not null default 0,
        last_status_at timestamptz,
        last_open_status_at timestamptz
      )`.execute(db);
    await sql`
      create table post_counters (
        post_id uuid primary key references posts (id) on delete cascade,
        replies_count integer not null default 0,
        likes_count integer not null default 0,
        boosts_count integer not null default 0
      )`.execute(db);
    // The restricted posts of an author, read only when a viewer may see some of them.
    await sql`
      create index posts_author_restricted on posts (author_id, id)
        where audience not in ('public', 'unlisted') and deleted_at is null and hidden_at is null`.execute(
      db,
    );

    // An author's newest counted post, read back when the newest one goes
    // (a mass deletion must not scan the author's posts once per row).
    await sql`
      create index posts_author_newest on posts (author_id, created_at)
        where deleted_at is null and hidden_at is null`.execute(db);

    // Rows come with their actor and their post.
    await sql`
      create function clique_counters_new_actor() returns trigger language plpgsql as $$
      begin
        insert into account_counters (actor_id) values (new.id) on conflict do nothing;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger actors_counters after insert on actors
        for each row execute function clique_counters_new_actor()`.execute(db);

    // Recomputes an author's newest post times (after the newest one went away).
    await sql`
      create function clique_counters_last_posts(author uuid) returns void language sql as $$
        update account_counters c set
          last_status_at = (select p.created_at from posts p
            where p.author_id = author and p.deleted_at is null and p.hidden_at is null
            order by p.created_at desc limit 1),
          last_open_status_at = (select p.created_at from posts p
            where p.author_id = author and p.deleted_at is null and p.hidden_at is null
              and p.audience in ('public', 'unlisted')
            order by p.created_at desc limit 1)
        where c.actor_id = author
      $$`.execute(db);

    // A post counts while it is neither deleted nor hidden: for its author,
    // and as a reply of its parent. Statement-level triggers over the
    // transition tables: a statement that writes many posts (a member's
    // removal, a purge, a bulk load) changes each counter once.
    const counted = "deleted_at is null and hidden_at is null";
    const columns =
      "author_id, in_reply_to_id, audience in ('public', 'unlisted') as open, created_at";
    const changes = {
      insert: `select ${columns}, 1 as d from new_rows where ${counted}`,
      delete: `select ${columns}, -1 as d from old_rows where ${counted}`,
      // Only rows whose counted facts changed (not edits of the text).
      update: `select ${columns}, -1 as d from old_rows o where ${counted}
          and exists (select 1 from new_rows n where n.id = o.id and ${changedPost})
        union all
        select ${columns}, 1 as d from new_rows n where ${counted}
          and exists (select 1 from old_rows o where o.id = n.id and ${changedPost})`,
    };
    for (const [op, source] of Object.entries(changes)) {
      await sql`
        create function ${sql.raw(`clique_counters_posts_${op}`)}() returns trigger language plpgsql as $$
        begin
          ${sql.raw(op === "insert" ? "insert into post_counters (post_id) select id from new_rows on conflict do nothing;" : "")}
          ${sql.raw(applyPostChanges(source))}
          return null;
        end $$`.execute(db);
      await sql`
        create trigger ${sql.raw(`posts_counters_${op}`)} after ${sql.raw(op)} on posts
          referencing ${sql.raw(op === "insert" ? "new table as new_rows" : op === "delete" ? "old table as old_rows" : "old table as old_rows new table as new_rows")}
          for each statement execute function ${sql.raw(`clique_counters_posts_${op}`)}()`.execute(
        db,
      );
    }

    await sql`
      create function clique_counters_interactions() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then
          update post_counters set
            likes_count = likes_count - (old.kind = 'like')::integer,
            boosts_count = boosts_count - (old.kind = 'boost')::integer
          where post_id = old.post_id;
        end if;
        if tg_op <> 'DELETE' then
          update post_counters set
            likes_count = likes_count + (new.kind = 'like')::integer,
            boosts_count = boosts_count + (new.kind = 'boost')::integer
          where post_id = new.post_id;
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger post_interactions_counters
        after insert or delete or update of kind, post_id on post_interactions
        for each row execute function clique_counters_interactions()`.execute(db);

    // Approved follows count on both sides. Both rows are changed in one
    // statement (in index order), so two follows between the same two
    // actors at once cannot deadlock.
    await sql`
      create function clique_counters_follows() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' and old.state = 'accepted' then
          update account_counters set
            followers_count = followers_count - (actor_id = old.followee_id)::integer,
            following_count = following_count - (actor_id = old.follower_id)::integer
          where actor_id in (old.followee_id, old.follower_id);
        end if;
        if tg_op <> 'DELETE' and new.state = 'accepted' then
          update account_counters set
            followers_count = followers_count + (actor_id = new.followee_id)::integer,
            following_count = following_count + (actor_id = new.follower_id)::integer
          where actor_id in (new.followee_id, new.follower_id);
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger follows_counters
        after insert or delete or update of state, follower_id, followee_id on follows
        for each row execute function clique_counters_follows()`.execute(db);

    // Backfill, after the triggers exist: every row recomputed from the tables.
    await backfillCounters(db);
  },
};

/** Whether a post's counted facts differ between its old row `o` and new row `n`. */
const changedPost = `(o.author_id, o.audience, o.in_reply_to_id, o.deleted_at, o.hidden_at, o.created_at)
  is distinct from (n.author_id, n.audience, n.in_reply_to_id, n.deleted_at, n.hidden_at, n.created_at)`;

/**
 * The body that applies a statement's changes to posts (`source`: rows of
 * author_id, in_reply_to_id, open, created_at and d = +1 or -1) to the
 * counters: each author's and each parent's counters once per statement.
 */
function applyPostChanges(source: string): string {
  return `
    update account_counters c set
      statuses_count = c.statuses_count + x.n,
      open_statuses_count = c.open_statuses_count + x.open_n,
      last_status_at = greatest(c.last_status_at, x.last_added),
      last_open_status_at = greatest(c.last_open_status_at, x.open_last_added)
    from (
      select ch.author_id, sum(ch.d) as n,
        coalesce(sum(ch.d) filter (where ch.open), 0) as open_n,
        max(ch.created_at) filter (where ch.d > 0) as last_added,
        max(ch.created_at) filter (where ch.d > 0 and ch.open) as open_last_added
      from (${source}) ch group by ch.author_id
    ) x
    where c.actor_id = x.author_id;
    -- An author's newest post went away (or changed): their times are read again, once.
    perform clique_counters_last_posts(y.author_id) from (
      select distinct ch.author_id from (${source}) ch
      join account_counters c on c.actor_id = ch.author_id
      where ch.d < 0 and (c.last_status_at <= ch.created_at or c.last_open_status_at <= ch.created_at)
    ) y;
    update post_counters pc set replies_count = pc.replies_count + x.n
    from (
      select ch.in_reply_to_id, sum(ch.d) as n from (${source}) ch
      where ch.in_reply_to_id is not null group by ch.in_reply_to_id
    ) x
    where pc.post_id = x.in_reply_to_id and x.n <> 0;`;
}

/** Recomputes every counter from the tables (the migration's backfill; idempotent). */
export async function backfillCounters(db: AnyDb): Promise<void> {
  await sql`
      insert into account_counters (actor_id, followers_count, following_count, statuses_count,
          open_statuses_count, last_status_at, last_open_status_at)
      select a.id,
        (select count(*) from follows f where f.followee_id = a.id and f.state = 'accepted'),
        (select count(*) from follows f where f.follower_id = a.id and f.state = 'accepted'),
        coalesce(s.n, 0), coalesce(s.open_n, 0), s.last, s.open_last
      from actors a
      left join (
        select p.author_id, count(*) as n,
          count(*) filter (where p.audience in ('public', 'unlisted')) as open_n,
          max(p.created_at) as last,
          max(p.created_at) filter (where p.audience in ('public', 'unlisted')) as open_last
        from posts p where p.deleted_at is null and p.hidden_at is null
        group by p.author_id
      ) s on s.author_id = a.id
    on conflict (actor_id) do update set
        followers_count = excluded.followers_count,
        following_count = excluded.following_count,
        statuses_count = excluded.statuses_count,
        open_statuses_count = excluded.open_statuses_count,
        last_status_at = excluded.last_status_at,
        last_open_status_at = excluded.last_open_status_at`.execute(db);
  await sql`
      insert into post_counters (post_id, replies_count, likes_count, boosts_count)
      select p.id,
        (select count(*) from posts r where r.in_reply_to_id = p.id
          and r.deleted_at is null and r.hidden_at is null),
        (select count(*) from post_interactions i where i.post_id = p.id and i.kind = 'like'),
        (select count(*) from post_interactions i where i.post_id = p.id and i.kind = 'boost')
      from posts p
      on conflict (post_id) do update set
        replies_count = excluded.replies_count,
        likes_count = excluded.likes_count,
        boosts_count = excluded.boosts_count`.execute(db);
}
