/**
 * Migration `014_notifications`: notifications of every type, and the signal
 * that carries live updates between server processes.
 *
 * - One notification per like, boost, follow, request and mention: a unique
 *   index over what makes one a repeat (inserts then do nothing on conflict).
 * - `clique_stream`, a PostgreSQL NOTIFY channel: triggers on `posts` and
 *   `notifications` announce, in the writing transaction (so only once it
 *   commits), which object changed. The payload holds ids and kinds only,
 *   never content: each process loads the object and asks the visibility
 *   module for each of its subscribers (the server's `streaming/`).
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The NOTIFY channel of live updates (`{"kind":"post"|"post.update"|"delete"|"notification","id":...}`). */
export const STREAM_CHANNEL = "clique_stream";

/** The `014_notifications` migration. */
export const m014_notifications: Migration = {
  async up(db: AnyDb) {
    await sql`
      create unique index notifications_once on notifications
        (recipient_id, type, coalesce(account_id, '00000000-0000-0000-0000-000000000000'::uuid),
         coalesce(post_id, '00000000-0000-0000-0000-000000000000'::uuid))
        where type in ('mention', 'reblog', 'favourite', 'follow', 'follow_request', 'status')`.execute(
      db,
    );
    await db.schema
      .createIndex("notifications_post")
      .on("notifications")
      .column("post_id")
      .execute();
    await sql`
      create function clique_stream_posts() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          perform pg_notify('clique_stream', json_build_object('kind', 'post', 'id', new.id)::text);
        elsif tg_op = 'DELETE' then
          perform pg_notify('clique_stream',
            json_build_object('kind', 'delete', 'id', old.id, 'author', old.author_id)::text);
        elsif (old.deleted_at is null and new.deleted_at is not null)
           or (old.hidden_at is null and new.hidden_at is not null) then
          -- Deleted, or hidden by a moderator: gone for everyone.
          perform pg_notify('clique_stream',
            json_build_object('kind', 'delete', 'id', new.id, 'author', new.author_id)::text);
        elsif new.edited_at is distinct from old.edited_at and new.deleted_at is null then
          perform pg_notify('clique_stream',
            json_build_object('kind', 'post.update', 'id', new.id)::text);
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger posts_stream after insert or update or delete on posts
        for each row execute function clique_stream_posts()`.execute(db);
    await sql`
      create function clique_stream_notifications() returns trigger language plpgsql as $$
      begin
        perform pg_notify('clique_stream',
          json_build_object('kind', 'notification', 'id', new.id, 'recipient', new.recipient_id)::text);
        return null;
      end $$`.execute(db);
    await sql`
      create trigger notifications_stream after insert on notifications
        for each row execute function clique_stream_notifications()`.execute(db);
  },
};
