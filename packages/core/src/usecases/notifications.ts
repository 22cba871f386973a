import type { Deps } from "../deps.ts";
import type { Member, ModerationWarning, Notification, Post } from "../domain/types.ts";
import { newId } from "../ids.ts";
import type { Page, Stores } from "../stores/stores.ts";
import { visibilityFilter } from "../visibility/visibility.ts";

/**
 * Tells a member what a moderator did about them or their posts, and why
 * (Mastodon's `moderation_warning`), in the transaction of the action itself:
 * the notice exists exactly when the action happened.
 */
export async function recordWarning(
  tx: Stores,
  now: Date,
  recipientId: string,
  warning: ModerationWarning,
): Promise<Notification> {
  const notification: Notification = {
    id: newId(),
    recipientId,
    type: "moderation_warning",
    accountId: null,
    postId: null,
    data: { ...warning },
    createdAt: now,
  };
  await tx.notifications.create(notification);
  return notification;
}

/** Filters of `listNotifications`, as Mastodon's `types[]` and `exclude_types[]`. */
export interface NotificationFilters {
  types?: readonly string[];
  excludeTypes?: readonly string[];
}

/** A page of notifications, with the posts they are about. */
export interface NotificationPage {
  items: Notification[];
  /** The posts the items name, each one the member may see. */
  posts: Map<string, Post>;
}

/**
 * A member's notifications, newest first. A notification about a post is
 * shown only while the member may still see that post (the visibility module
 * decides, as everywhere); moderation warnings name only the member's own posts.
 */
export async function listNotifications(
  deps: Deps,
  member: Member,
  page: Page,
  filters: NotificationFilters = {},
): Promise<NotificationPage> {
  const found = await deps.stores.notifications.list(member.id, page, filters);
  const postIds = [...new Set(found.flatMap((n) => (n.postId ? [n.postId] : [])))];
  if (postIds.length === 0) return { items: found, posts: new Map() };
  // One query, through the same rules as every list.
  const viewer = { kind: "member", actorId: member.id, role: member.role } as const;
  const posts = new Map(
    (
      await deps.stores.posts.list({ kind: "ids", ids: postIds }, visibilityFilter(viewer), {
        limit: postIds.length,
      })
    ).map((p) => [p.id, p]),
  );
  return {
    items: found.filter((n) => n.postId === null || posts.has(n.postId)),
    posts,
  };
}
