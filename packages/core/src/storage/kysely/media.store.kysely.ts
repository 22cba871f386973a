import { type Kysely, type Selectable, sql } from "kysely";
import type { Media, MediaFile } from "../../domain/types.ts";
import type { MediaStore, ProcessedMedia, SecretStore } from "../../stores/stores.ts";
import type { Database, MediaTable } from "./schema.ts";

function toMedia(row: Selectable<MediaTable>): Media {
  return {
    id: row.id,
    ownerId: row.owner_id,
    postId: row.post_id,
    position: row.position,
    kind: row.kind,
    state: row.state,
    description: row.description,
    focus: { x: row.focus_x, y: row.focus_y },
    width: row.width,
    height: row.height,
    duration: row.duration,
    blurhash: row.blurhash,
    display: row.display as MediaFile | null,
    small: row.small as MediaFile | null,
    remoteUrl: row.remote_url,
    remoteMediaType: row.remote_media_type,
    error: row.error,
    createdAt: new Date(row.created_at),
  };
}

function keysOf(rows: readonly { display_key: string | null; small_key: string | null }[]) {
  return rows.flatMap((r) => [r.display_key, r.small_key]).filter((k): k is string => k !== null);
}

export class KyselyMediaStore implements MediaStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(m: Media): Promise<void> {
    await this.db
      .insertInto("media")
      .values({
        id: m.id,
        owner_id: m.ownerId,
        post_id: m.postId,
        position: m.position,
        kind: m.kind,
        state: m.state,
        description: m.description,
        focus_x: m.focus.x,
        focus_y: m.focus.y,
        width: m.width,
        height: m.height,
        duration: m.duration,
        blurhash: m.blurhash,
        display: m.display ? JSON.stringify(m.display) : null,
        small: m.small ? JSON.stringify(m.small) : null,
        display_key: m.display?.key ?? null,
        small_key: m.small?.key ?? null,
        remote_url: m.remoteUrl,
        remote_media_type: m.remoteMediaType,
        error: m.error,
        created_at: m.createdAt,
      })
      .execute();
  }

  async getById(id: string): Promise<Media | null> {
    const row = await this.db
      .selectFrom("media")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toMedia(row) : null;
  }

  async getByFileKey(key: string): Promise<Media | null> {
    const row = await this.db
      .selectFrom("media")
      .selectAll()
      .where((eb) => eb.or([eb("display_key", "=", key), eb("small_key", "=", key)]))
      .executeTakeFirst();
    return row ? toMedia(row) : null;
  }

  async listByPosts(postIds: readonly string[]): Promise<Map<string, Media[]>> {
    const map = new Map<string, Media[]>();
    if (postIds.length === 0) return map;
    const rows = await this.db
      .selectFrom("media")
      .selectAll()
      .where("post_id", "in", [...new Set(postIds)])
      .orderBy("post_id")
      .orderBy("position")
      .execute();
    for (const row of rows) {
      const list = map.get(row.post_id!) ?? [];
      list.push(toMedia(row));
      map.set(row.post_id!, list);
    }
    return map;
  }

  async markReady(id: string, r: ProcessedMedia): Promise<void> {
    await this.db
      .updateTable("media")
      .set({
        state: "ready",
        kind: r.kind,
        width: r.width,
        height: r.height,
        duration: r.duration,
        blurhash: r.blurhash,
        display: JSON.stringify(r.display),
        small: r.small ? JSON.stringify(r.small) : null,
        display_key: r.display.key,
        small_key: r.small?.key ?? null,
        error: null,
      })
      .where("id", "=", id)
      .execute();
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db
      .updateTable("media")
      .set({ state: "failed", error: error.slice(0, 500) })
      .where("id", "=", id)
      .execute();
  }

  async describe(
    id: string,
    patch: { description?: string; focus?: { x: number; y: number } },
  ): Promise<void> {
    const set: { description?: string; focus_x?: number; focus_y?: number } = {};
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.focus) {
      set.focus_x = patch.focus.x;
      set.focus_y = patch.focus.y;
    }
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable("media").set(set).where("id", "=", id).execute();
  }

  async attach(postId: string, ownerId: string, mediaIds: readonly string[]): Promise<number> {
    let detach = this.db.updateTable("media").set({ post_id: null }).where("post_id", "=", postId);
    if (mediaIds.length > 0) detach = detach.where("id", "not in", [...mediaIds]);
    await detach.execute();
    let attached = 0;
    for (const [position, id] of mediaIds.entries()) {
      const result = await this.db
        .updateTable("media")
        .set({ post_id: postId, position })
        .where("id", "=", id)
        .where("owner_id", "=", ownerId)
        .where((eb) => eb.or([eb("post_id", "is", null), eb("post_id", "=", postId)]))
        .executeTakeFirst();
      attached += Number(result.numUpdatedRows);
    }
    return attached;
  }

  async countProcessing(ownerId: string, options: { lock?: boolean } = {}): Promise<number> {
    // A transaction-scoped advisory lock per owner: released at commit or rollback.
    if (options.lock)
      await sql`select pg_advisory_xact_lock(hashtextextended(${`clique-media-uploads:${ownerId}`}, 0))`.execute(
        this.db,
      );
    const row = await this.db
      .selectFrom("media")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("owner_id", "=", ownerId)
      .where("state", "=", "processing")
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteFailed(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("media")
      .where("id", "=", id)
      .where("state", "=", "failed")
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteFromPost(postId: string, keep: readonly string[]): Promise<string[]> {
    let query = this.db.deleteFrom("media").where("post_id", "=", postId);
    if (keep.length > 0) query = query.where("id", "not in", [...keep]);
    return keysOf(await query.returning(["display_key", "small_key"]).execute());
  }

  async deleteByPost(postId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom("media")
      .where("post_id", "=", postId)
      .returning(["display_key", "small_key"])
      .execute();
    return keysOf(rows);
  }

  async deleteUnattached(before: Date, limit: number): Promise<string[]> {
    const rows = await this.db
      .deleteFrom("media")
      .where(
        "id",
        "in",
        this.db
          .selectFrom("media")
          .select("id")
          .where("post_id", "is", null)
          .where("remote_url", "is", null)
          .where("created_at", "<", before)
          .limit(limit),
      )
      .returning(["display_key", "small_key"])
      .execute();
    return keysOf(rows);
  }

  async deleteByOwner(ownerId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom("media")
      .where("owner_id", "=", ownerId)
      .returning(["display_key", "small_key"])
      .execute();
    return keysOf(rows);
  }
}

export class KyselySecretStore implements SecretStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async getOrCreate(name: string, make: () => string): Promise<string> {
    await this.db
      .insertInto("server_secrets")
      .values({ name, value: make() })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const row = await this.db
      .selectFrom("server_secrets")
      .select("value")
      .where("name", "=", name)
      .executeTakeFirstOrThrow();
    return row.value;
  }
}
