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

  async create(n: Notification): Promise<void> {
    await this.db
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
      .execute();
  }

  async list(
    recipientId: string,
    page: Page,
    options: { types?: readonly string[]; excludeTypes?: readonly string[] } = {},
  ): Promise<Notification[]> {
    let q = this.db.selectFrom("notifications").selectAll().where("recipient_id", "=", recipientId);
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
}
