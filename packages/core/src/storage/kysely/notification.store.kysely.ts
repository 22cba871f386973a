import type { Kysely, Selectable } from "kysely";
import type { Notification, NotificationType } from "../../domain/types.ts";
import type { NotificationStore, Page } from "../../stores/stores.ts";
import type { Database, NotificationsTable } from "./schema.ts";

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    recipientId: row.recipient_id,
    type: row.type as NotificationType,
    accountId: row.account_id,
    postId: row.post_id,
    data: row.data ?? {},
    createdAt: new Date(row.created_at),
  };
}

/** Notifications in PostgreSQL. */
export class KyselyNotificationStore implements NotificationStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(n: Notification): Promise<boolean> {
    const row = await this.db
      .insertInto("notifications")
      .values({
        id: n.id,
        recipient_id: n.recipientId,
        type: n.type,
        account_id: n.accountId,
        post_id: n.postId,
        data: JSON.stringify(n.data),
        created_at: n.createdAt,
      })
      // A repeat (one per like, boost, follow, request or mention: `notifications_once`).
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .executeTakeFirst();
    return row !== undefined;
  }

  async list(
    recipientId: string,
    page: Page,
    options: {
      types?: readonly string[];
      excludeTypes?: readonly string[];
      accountId?: string;
    } = {},
  ): Promise<Notification[]> {
    let q = this.db.selectFrom("notifications").selectAll().where("recipient_id", "=", recipientId);
    if (options.accountId) q = q.where("account_id", "=", options.accountId);
    if (options.types && options.types.length > 0) q = q.where("type", "in", [...options.types]);
    if (options.excludeTypes && options.excludeTypes.length > 0)
      q = q.where("type", "not in", [...options.excludeTypes]);
    if (page.maxId) q = q.where("id", "<", page.maxId);
    if (page.sinceId) q = q.where("id", ">", page.sinceId);
    if (page.minId) {
      const rows = await q
        .where("id", ">", page.minId)
        .orderBy("id", "asc")
        .limit(page.limit)
        .execute();
      return rows.map(toNotification).reverse();
    }
    const rows = await q.orderBy("id", "desc").limit(page.limit).execute();
    return rows.map(toNotification);
  }

  async getById(recipientId: string, id: string): Promise<Notification | null> {
    const row = await this.db
      .selectFrom("notifications")
      .selectAll()
      .where("id", "=", id)
      .where("recipient_id", "=", recipientId)
      .executeTakeFirst();
    return row ? toNotification(row) : null;
  }

  async getAnyById(id: string): Promise<Notification | null> {
    const row = await this.db
      .selectFrom("notifications")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toNotification(row) : null;
  }

  async dismiss(recipientId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("notifications")
      .where("id", "=", id)
      .where("recipient_id", "=", recipientId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async clear(recipientId: string): Promise<void> {
    await this.db.deleteFrom("notifications").where("recipient_id", "=", recipientId).execute();
  }

  async interactedWith(postId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("post_interactions as i")
      .innerJoin("members as m", "m.id", "i.actor_id")
      .select("i.actor_id")
      .distinct()
      .where("i.post_id", "=", postId)
      .where("m.status", "=", "active")
      .execute();
    return rows.map((r) => r.actor_id);
  }
}
