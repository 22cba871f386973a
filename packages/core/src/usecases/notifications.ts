import type { Deps } from "../deps.ts";
import type {
  Member,
  ModerationWarning,
  Notification,
  NotificationType,
  Post,
} from "../domain/types.ts";
import { newId } from "../ids.ts";
import { mayTake } from "../permissions/permissions.ts";
import type { Page, Stores } from "../stores/stores.ts";
import { canView, memberViewer, visibilityFilter } from "../visibility/visibility.ts";

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

/** What happened, for `recordNotification`. */
export interface NotificationInput {
  /** Who is told: a local member (anyone else is ignored). */
  recipientId: string;
  type: Exclude<NotificationType, "moderation_warning">;
  /** Who did it. */
  accountId: string;
  /** The post it is about, if any. */
  postId?: string | null;
  /** What the type carries (`{ reportId }` for `admin.report`). */
  data?: Record<string, unknown>;
  now: Date;
}

/**
 * Tells a member that something happened (a mention, follow, follow request,
 * favourite, boost, edit, report), in the transaction of the change that
 * caused it. Nothing is written when:
 * - the recipient is not an active local member, or caused it themselves;
 * - either blocks the other, or the recipient mutes whoever did it (as Mastodon);
 * - the post it is about is one the recipient may not see (the visibility module decides);
 * - it repeats one already there (one notification per like, boost, follow or mention).
 *
 * Returns the notification written, or `null`.
 */
export async function recordNotification(
  tx: Stores,
  input: NotificationInput,
): Promise<Notification | null> {
  // Nobody is told about their own action.
  if (input.recipientId === input.accountId) return null;
  const recipient = await tx.members.getById(input.recipientId);
  if (recipient?.status !== "active") return null;
  // Nothing from someone blocked (either way) or muted.
  if (await tx.blocks.between(recipient.id, input.accountId)) return null;
  if ((await tx.mutes.list(recipient.id)).includes(input.accountId)) return null;
  const postId = input.postId ?? null;
  if (postId !== null) {
    // Only about what the recipient may see.
    const post = await tx.posts.getById(postId);
    if (!post || !(await canView(memberViewer(recipient), post, tx.facts))) return null;
  }
  const notification: Notification = {
    id: newId(),
    recipientId: recipient.id,
    type: input.type,
    accountId: input.accountId,
    postId,
    data: { ...(input.data ?? {}) },
    createdAt: input.now,
  };
  return (await tx.notifications.create(notification)) ? notification : null;
}

/**
 * Tells the members mentioned in a post (local or remote) that they were,
 * each only if they may see it.
 */
export async function notifyMentions(
  tx: Stores,
  post: Pick<Post, "id" | "authorId">,
  mentionIds: readonly string[],
  now: Date,
): Promise<void> {
  for (const recipientId of new Set(mentionIds))
    await recordNotification(tx, {
      recipientId,
      type: "mention",
      accountId: post.authorId,
      postId: post.id,
      now,
    });
}

/** Tells those who liked or boosted a post that it was edited (Mastodon's `update`). */
export async function notifyEdit(
  tx: Stores,
  post: Pick<Post, "id" | "authorId">,
  now: Date,
): Promise<void> {
  for (const recipientId of await tx.notifications.interactedWith(post.id))
    await recordNotification(tx, {
      recipientId,
      type: "update",
      accountId: post.authorId,
      postId: post.id,
      now,
    });
}

/**
 * Tells the moderators (and those above) that a report was filed
 * (Mastodon's `admin.report`), in the transaction that stores it: never the
 * member it is about, never the reporter. `reporterId` is the reporting
 * account; a report from another server names its instance actor or nobody.
 */
export async function notifyReportFiled(
  tx: Stores,
  report: { id: string; reporterId: string | null; targetAccountId: string },
  now: Date,
): Promise<void> {
  const staff = (await tx.members.list({ status: "active" })).filter((m) =>
    mayTake(m.role, "report.handle"),
  );
  for (const member of staff) {
    if (member.id === report.targetAccountId) continue;
    // Mastodon names the reporter as the notification's account.
    await recordNotification(tx, {
      recipientId: member.id,
      type: "admin.report",
      accountId: report.reporterId ?? report.targetAccountId,
      data: { reportId: report.id },
      now,
    });
  }
}

/** Filters of `listNotifications`, as Mastodon's `types[]`, `exclude_types[]` and `account_id`. */
export interface NotificationFilters {
  types?: readonly string[];
  excludeTypes?: readonly string[];
  accountId?: string;
}

/** A page of notifications, with the posts they are about. */
export interface NotificationPage {
  items: Notification[];
  /** The posts the items name, each one the member may see. */
  posts: Map<string, Post>;
}

/**
 * Keeps the notifications a member may still be shown: one about a post only
 * while the member may see that post (the visibility module decides, as
 * everywhere); none from an account the member blocks or mutes now; reports
 * only while the member still handles reports.
 */
async function stillShown(
  deps: Deps,
  member: Member,
  found: readonly Notification[],
): Promise<NotificationPage> {
  if (found.length === 0) return { items: [], posts: new Map() };
  const hidden = new Set([
    ...(await deps.stores.blocks.list(member.id)),
    ...(await deps.stores.mutes.list(member.id)),
  ]);
  const postIds = [...new Set(found.flatMap((n) => (n.postId ? [n.postId] : [])))];
  // One query, through the same rules as every list.
  const posts = new Map(
    postIds.length === 0
      ? []
      : (
          await deps.stores.posts.list(
            { kind: "ids", ids: postIds },
            visibilityFilter(memberViewer(member)),
            { limit: postIds.length },
          )
        ).map((p) => [p.id, p]),
  );
  const handlesReports = mayTake(member.role, "report.handle");
  return {
    items: found.filter(
      (n) =>
        (n.postId === null || posts.has(n.postId)) &&
        (n.accountId === null || !hidden.has(n.accountId)) &&
        (n.type !== "admin.report" || handlesReports),
    ),
    posts,
  };
}

/**
 * A member's notifications, newest first, as `stillShown` lets through. A
 * moderation warning names only the member's own posts.
 */
export async function listNotifications(
  deps: Deps,
  member: Member,
  page: Page,
  filters: NotificationFilters = {},
): Promise<NotificationPage> {
  const found = await deps.stores.notifications.list(member.id, page, filters);
  return stillShown(deps, member, found);
}

/** One of a member's notifications, if it is still shown (`null` otherwise: not found). */
export async function getNotification(
  deps: Deps,
  member: Member,
  id: string,
): Promise<{ notification: Notification; post: Post | null } | null> {
  const found = await deps.stores.notifications.getById(member.id, id);
  if (!found) return null;
  const { items, posts } = await stillShown(deps, member, [found]);
  const notification = items[0];
  if (!notification) return null;
  return {
    notification,
    post: notification.postId ? (posts.get(notification.postId) ?? null) : null,
  };
}

/** Dismisses one of a member's notifications; `false` when there is none by that id. */
export async function dismissNotification(
  deps: Deps,
  member: Member,
  id: string,
): Promise<boolean> {
  return deps.stores.notifications.dismiss(member.id, id);
}

/** Dismisses all of a member's notifications. */
export async function clearNotifications(deps: Deps, member: Member): Promise<void> {
  await deps.stores.notifications.clear(member.id);
}
