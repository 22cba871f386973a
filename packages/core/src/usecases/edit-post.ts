import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { composeText } from "./compose-text.ts";
import { checkText } from "./create-post.ts";
import { getVisiblePost } from "./get-visible-post.ts";
import { checkAttachments } from "./media.ts";
import { notifyEdit, notifyMentions } from "./notifications.ts";

/** Why `editPost` refused. */
export type EditPostProblem =
  | "not_found"
  | "not_author"
  | "empty_post"
  | "post_too_long"
  | "spoiler_too_long"
  | "invalid_language"
  | "too_many_attachments"
  | "media_not_found"
  | "media_not_ready"
  | "media_failed";

/**
 * Edits a post's text, keeping the previous version in its history. The
 * audience cannot change: people who saw the post keep the same access.
 */
export async function editPost(
  deps: Deps,
  author: Member,
  postId: string,
  input: {
    source: string;
    spoilerText?: string;
    sensitive?: boolean;
    language?: string | null;
    /** The attachments after the edit, in order; omitted: unchanged. */
    mediaIds?: readonly string[];
  },
): Promise<Result<Post, EditPostProblem>> {
  const post = await getVisiblePost(
    deps,
    { kind: "member", actorId: author.id, role: author.role },
    postId,
  );
  if (!post) return fail("not_found");
  if (post.authorId !== author.id) return fail("not_author");
  const spoilerText = input.spoilerText?.trim() ?? post.spoilerText;
  const language = input.language === undefined ? post.language : input.language;
  const mediaIds =
    input.mediaIds ??
    ((await deps.stores.media.listByPosts([post.id])).get(post.id) ?? []).map((m) => m.id);
  const problem = checkText(input.source, spoilerText, language, mediaIds.length > 0);
  if (problem) return fail(problem);
  const mediaProblem = await checkAttachments(deps, author, mediaIds, post.id);
  if (mediaProblem) return fail(mediaProblem);

  const text = await composeText(deps, input.source, post.contentType, author.id);
  const now = deps.now();
  const edited = await deps.stores.transaction(async (tx) => {
    // Whoever the post was addressed to keeps it: a mention dropped in an edit
    // must not take a direct or followers-only post away from its recipient.
    const kept = await tx.posts.recipientsOf(post.id);
    await tx.posts.addEdit({
      id: newId(),
      postId: post.id,
      source: post.source,
      contentHtml: post.contentHtml,
      spoilerText: post.spoilerText,
      sensitive: post.sensitive,
      createdAt: post.editedAt ?? post.createdAt,
    });
    await tx.posts.update(post.id, {
      source: input.source,
      contentHtml: text.html,
      spoilerText,
      sensitive: input.sensitive ?? spoilerText.length > 0,
      language,
      editedAt: now,
      mentionIds: text.mentionIds,
      recipientIds: [...new Set([...kept, ...text.mentionIds])].filter((m) => m !== author.id),
      hashtags: text.hashtags,
    });
    // Photos taken off the post are deleted, files and all: one shown to this
    // post's audience must never be re-attached elsewhere under the same URL.
    const removed = await tx.media.deleteFromPost(post.id, mediaIds);
    if (removed.length > 0) await tx.outbox.record({ kind: "media-deleted", keys: removed }, now);
    await tx.media.attach(post.id, author.id, mediaIds);
    const updated = (await tx.posts.getById(post.id))!;
    await tx.outbox.record({ kind: "post-updated", post: updated }, now);
    // Those who liked or boosted it are told; members newly mentioned too (once each).
    await notifyEdit(tx, updated, now);
    await notifyMentions(tx, updated, text.mentionIds, now);
    return updated;
  });
  return ok(edited);
}
