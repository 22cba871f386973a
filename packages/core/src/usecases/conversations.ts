import { createHash } from "node:crypto";
import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Page } from "../stores/stores.ts";
import { memberViewer, type Viewer, visibilityFilter } from "../visibility/visibility.ts";

/** A member's direct conversation: the people in it and its newest post they may see. */
export interface Conversation {
  /** The same for everyone in it: derived from its participants. */
  id: string;
  /** Everyone in it but the member. */
  accountIds: string[];
  lastPost: Post;
  /** A newer post by someone else than the member's last read mark. */
  unread: boolean;
}

/** How many of a member's newest direct posts are grouped into conversations. */
const SCAN_LIMIT = 1000;

/** A conversation's id: a UUID-shaped digest of its participants' ids. */
export function conversationIdOf(participantIds: Iterable<string>): string {
  const key = [...new Set(participantIds)].sort().join(",");
  const h = createHash("sha256").update(`conversation:${key}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Every conversation the member is in, newest first: their direct posts (the
 * `direct` audience, Mastodon's `direct`) that the visibility module lets
 * them see, grouped by who takes part (author and recipients).
 */
async function allConversations(deps: Deps, member: Member): Promise<Conversation[]> {
  const viewer: Viewer = memberViewer(member);
  const posts = await deps.stores.posts.list(
    { kind: "direct", actorId: member.id },
    visibilityFilter(viewer),
    { limit: SCAN_LIMIT },
  );
  const recipients = await deps.stores.posts.recipientsOfPosts(posts.map((p) => p.id));
  const groups = new Map<string, { accountIds: string[]; posts: Post[] }>();
  for (const post of posts) {
    const people = new Set([post.authorId, ...(recipients.get(post.id) ?? []), member.id]);
    const id = conversationIdOf(people);
    const group = groups.get(id) ?? {
      accountIds: [...people].filter((a) => a !== member.id).sort(),
      posts: [],
    };
    group.posts.push(post);
    groups.set(id, group);
  }
  const states = await deps.stores.conversations.states(member.id, [...groups.keys()]);
  const conversations: Conversation[] = [];
  for (const [id, group] of groups) {
    // Posts are newest first.
    const state = states.get(id);
    const shown = group.posts.filter((p) => !state?.hiddenUpTo || p.id > state.hiddenUpTo);
    const last = shown[0];
    if (!last) continue;
    const unread = shown.some(
      (p) => p.authorId !== member.id && (!state?.readUpTo || p.id > state.readUpTo),
    );
    conversations.push({ id, accountIds: group.accountIds, lastPost: last, unread });
  }
  return conversations.sort((a, b) => (a.lastPost.id < b.lastPost.id ? 1 : -1));
}

/**
 * A page of the member's conversations, newest first. Pages are cut by the
 * id of each conversation's last post (Mastodon's `max_id`/`min_id`).
 */
export async function listConversations(
  deps: Deps,
  member: Member,
  page: Page,
): Promise<Conversation[]> {
  let list = await allConversations(deps, member);
  if (page.maxId) list = list.filter((c) => c.lastPost.id < page.maxId!);
  if (page.sinceId) list = list.filter((c) => c.lastPost.id > page.sinceId!);
  if (page.minId) {
    list = list.filter((c) => c.lastPost.id > page.minId!);
    return list.slice(-page.limit);
  }
  return list.slice(0, page.limit);
}

/** One of the member's conversations, or `null` if they are in none by that id. */
async function findConversation(
  deps: Deps,
  member: Member,
  id: string,
): Promise<Conversation | null> {
  if (!isId(id)) return null;
  return (await allConversations(deps, member)).find((c) => c.id === id) ?? null;
}

/** Marks a conversation read up to its newest post. */
export async function markConversationRead(
  deps: Deps,
  member: Member,
  id: string,
): Promise<Result<Conversation, "not_found">> {
  const conversation = await findConversation(deps, member, id);
  if (!conversation) return fail("not_found");
  await deps.stores.conversations.markRead(member.id, id, conversation.lastPost.id);
  return ok({ ...conversation, unread: false });
}

/** Hides a conversation from the member's list until someone writes in it again. */
export async function hideConversation(
  deps: Deps,
  member: Member,
  id: string,
): Promise<Result<true, "not_found">> {
  const conversation = await findConversation(deps, member, id);
  if (!conversation) return fail("not_found");
  await deps.stores.conversations.hide(member.id, id, conversation.lastPost.id);
  return ok(true);
}
