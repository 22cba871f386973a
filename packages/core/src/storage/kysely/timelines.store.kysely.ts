/**
 * Markers, announcements and conversation read states (issue 11): small
 * stores for what Mastodon apps read at start-up.
 */
import { type Kysely, type Selectable, sql } from "kysely";
import type {
  Announcement,
  ConversationState,
  Marker,
  MarkerTimeline,
  MemberAnnouncement,
} from "../../domain/timelines.ts";
import type { AnnouncementStore, ConversationStore, MarkerStore } from "../../stores/stores.ts";
import type { AnnouncementsTable, Database, MarkersTable } from "./schema.ts";

function toMarker(row: Selectable<MarkersTable>): Marker {
  return {
    timeline: row.timeline,
    lastReadId: row.last_read_id,
    version: row.version,
    updatedAt: new Date(row.updated_at),
  };
}

function toAnnouncement(row: Selectable<AnnouncementsTable>): Announcement {
  return {
    id: row.id,
    text: row.text,
    contentHtml: row.content_html,
    startsAt: row.starts_at ? new Date(row.starts_at) : null,
    endsAt: row.ends_at ? new Date(row.ends_at) : null,
    allDay: row.all_day,
    createdBy: row.created_by,
    publishedAt: new Date(row.published_at),
    updatedAt: new Date(row.updated_at),
  };
}

export class KyselyMarkerStore implements MarkerStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async list(memberId: string): Promise<Marker[]> {
    const rows = await this.db
      .selectFrom("markers")
      .selectAll()
      .where("member_id", "=", memberId)
      .execute();
    return rows.map(toMarker);
  }

  async save(
    memberId: string,
    timeline: MarkerTimeline,
    lastReadId: string,
    at: Date,
  ): Promise<Marker> {
    const row = await this.db
      .insertInto("markers")
      .values({ member_id: memberId, timeline, last_read_id: lastReadId, updated_at: at })
      .onConflict((oc) =>
        oc.columns(["member_id", "timeline"]).doUpdateSet({
          last_read_id: lastReadId,
          updated_at: at,
          version: sql<number>`markers.version + 1`,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toMarker(row);
  }
}

export class KyselyAnnouncementStore implements AnnouncementStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async create(a: Announcement): Promise<void> {
    await this.db
      .insertInto("announcements")
      .values({
        id: a.id,
        text: a.text,
        content_html: a.contentHtml,
        starts_at: a.startsAt,
        ends_at: a.endsAt,
        all_day: a.allDay,
        created_by: a.createdBy,
        published_at: a.publishedAt,
        updated_at: a.updatedAt,
      })
      .execute();
  }

  async getById(id: string): Promise<Announcement | null> {
    const row = await this.db
      .selectFrom("announcements")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toAnnouncement(row) : null;
  }

  async update(id: string, patch: Parameters<AnnouncementStore["update"]>[1]): Promise<void> {
    await this.db
      .updateTable("announcements")
      .set({
        ...(patch.text !== undefined ? { text: patch.text } : {}),
        ...(patch.contentHtml !== undefined ? { content_html: patch.contentHtml } : {}),
        ...(patch.startsAt !== undefined ? { starts_at: patch.startsAt } : {}),
        ...(patch.endsAt !== undefined ? { ends_at: patch.endsAt } : {}),
        ...(patch.allDay !== undefined ? { all_day: patch.allDay } : {}),
        updated_at: patch.updatedAt,
      })
      .where("id", "=", id)
      .execute();
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db
      .deleteFrom("announcements")
      .where("id", "=", id)
      .returning("id")
      .execute();
    return rows.length > 0;
  }

  async list(memberId: string): Promise<MemberAnnouncement[]> {
    const rows = await this.db
      .selectFrom("announcements as a")
      .leftJoin("announcement_dismissals as d", (join) =>
        join.onRef("d.announcement_id", "=", "a.id").on("d.member_id", "=", memberId),
      )
      .selectAll("a")
      .select("d.member_id as dismissed_by")
      .orderBy("a.published_at", "desc")
      .orderBy("a.id", "desc")
      .execute();
    return rows.map((r) => ({ ...toAnnouncement(r), read: r.dismissed_by !== null }));
  }

  async dismiss(id: string, memberId: string, at: Date): Promise<void> {
    await this.db
      .insertInto("announcement_dismissals")
      .values({ announcement_id: id, member_id: memberId, dismissed_at: at })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export class KyselyConversationStore implements ConversationStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async states(
    memberId: string,
    conversationIds: readonly string[],
  ): Promise<Map<string, ConversationState>> {
    const map = new Map<string, ConversationState>();
    if (conversationIds.length === 0) return map;
    const rows = await this.db
      .selectFrom("conversation_states")
      .selectAll()
      .where("member_id", "=", memberId)
      .where("conversation_id", "in", [...new Set(conversationIds)])
      .execute();
    for (const r of rows)
      map.set(r.conversation_id, {
        conversationId: r.conversation_id,
        readUpTo: r.read_up_to,
        hiddenUpTo: r.hidden_up_to,
      });
    return map;
  }

  async markRead(memberId: string, conversationId: string, upTo: string): Promise<void> {
    await this.db
      .insertInto("conversation_states")
      .values({ member_id: memberId, conversation_id: conversationId, read_up_to: upTo })
      .onConflict((oc) =>
        oc.columns(["member_id", "conversation_id"]).doUpdateSet({ read_up_to: upTo }),
      )
      .execute();
  }

  async hide(memberId: string, conversationId: string, upTo: string): Promise<void> {
    await this.db
      .insertInto("conversation_states")
      .values({ member_id: memberId, conversation_id: conversationId, hidden_up_to: upTo })
      .onConflict((oc) =>
        oc.columns(["member_id", "conversation_id"]).doUpdateSet({ hidden_up_to: upTo }),
      )
      .execute();
  }
}
