import type { Deps } from "../deps.ts";
import type { Member, Post, PostEdit } from "../domain/types.ts";
import type { Page } from "../stores/stores.ts";
import { memberViewer, type Viewer, visibilityFilter } from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/** A member's home feed: members' posts, followed accounts and posts addressed to them, newest first. */
export function listHomeFeed(deps: Deps, member: Member, page: Page): Promise<Post[]> {
  const viewer: Viewer = memberViewer(member);
  return deps.stores.posts.list(
    { kind: "home", actorId: member.id },
    visibilityFilter(viewer),
    page,
  );
}

/** An account's posts that the viewer may see, newest first. */
export function listAccountPosts(
  deps: Deps,
  viewer: Viewer,
  authorId: string,
  page: Page,
  options: { excludeReplies?: boolean; onlyMedia?: boolean } = {},
): Promise<Post[]> {
  return deps.stores.posts.list(
    {
      kind: "author",
      authorId,
      excludeReplies: options.excludeReplies ?? false,
      onlyMedia: options.onlyMedia ?? false,
    },
    visibilityFilter(viewer),
    page,
  );
}

/** A post's versions, oldest first, ending with the current one; `null` if not visible. */
export async function getPostHistory(
  deps: Deps,
  viewer: Viewer,
  postId: string,
): Promise<PostEdit[] | null> {
  const post = await getVisiblePost(deps, viewer, postId);
  if (!post) return null;
  const edits = await deps.stores.posts.listEdits(post.id);
  return [
    ...edits,
    {
      id: post.id,
      postId: post.id,
      source: post.source,
      contentHtml: post.contentHtml,
      spoilerText: post.spoilerText,
      sensitive: post.sensitive,
      createdAt: post.editedAt ?? post.createdAt,
    },
  ];
}
