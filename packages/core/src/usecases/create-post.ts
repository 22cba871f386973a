import type { Deps } from "../deps.ts";
import {
  type Audience,
  type ContentType,
  type InteractionPolicy,
  type Member,
  OPEN_INTERACTIONS,
  type Post,
} from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { mayInteract, type Viewer } from "../visibility/visibility.ts";
import { composeText } from "./compose-text.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/** Longest post, in characters. */
export const MAX_POST_LENGTH = 5000;
/** Longest content warning, in characters. */
export const MAX_SPOILER_LENGTH = 500;

/** Input of `createPost`. */
export interface CreatePostInput {
  source: string;
  contentType?: ContentType;
  /** Omitted: public, or for replies to `clique`/`circle` posts, the parent's audience. */
  audience?: Audience;
  circleId?: string | null;
  inReplyToId?: string | null;
  spoilerText?: string;
  sensitive?: boolean;
  language?: string | null;
  /** Who may reply, like and boost; everyone by default. */
  interactionPolicy?: InteractionPolicy;
  /**
   * The replier saw the warning that this reply reaches people who cannot see
   * the post it answers, and confirmed. Without it such a reply is refused.
   */
  confirmWiderAudience?: boolean;
}

/** Why `createPost` refused. */
export type CreatePostProblem =
  | "empty_post"
  | "post_too_long"
  | "spoiler_too_long"
  | "reply_target_not_found"
  | "circle_required"
  | "circle_not_found"
  | "invalid_language"
  | "reply_not_allowed"
  | "audience_wider_than_parent";

/** Checks the text parts shared by creating and editing. */
export function checkText(
  source: string,
  spoilerText: string,
  language: string | null,
): "empty_post" | "post_too_long" | "spoiler_too_long" | "invalid_language" | null {
  if (source.trim().length === 0) return "empty_post";
  if ([...source].length > MAX_POST_LENGTH) return "post_too_long";
  if ([...spoilerText].length > MAX_SPOILER_LENGTH) return "spoiler_too_long";
  if (language !== null && !/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language))
    return "invalid_language";
  return null;
}

/** Publishes a post by a member. */
export async function createPost(
  deps: Deps,
  author: Member,
  input: CreatePostInput,
): Promise<Result<Post, CreatePostProblem>> {
  const spoilerText = input.spoilerText?.trim() ?? "";
  const language = input.language ?? null;
  const textProblem = checkText(input.source, spoilerText, language);
  if (textProblem) return fail(textProblem);

  const viewer: Viewer = { kind: "member", actorId: author.id, role: author.role };
  let parent: Post | null = null;
  if (input.inReplyToId) {
    // You can only answer what you can see.
    parent = await getVisiblePost(deps, viewer, input.inReplyToId);
    if (!parent) return fail("reply_target_not_found");
    // The parent's interaction policy and blocks decide who may answer.
    if (
      !(await mayInteract(viewer, parent, "reply", deps.stores.facts)) ||
      (await deps.stores.blocks.between(author.id, parent.authorId))
    )
      return fail("reply_not_allowed", "The author does not take replies from you on this post.");
  }

  // A reply to a Clique-only or circle post stays in that audience unless the author chose otherwise.
  let audience: Audience = input.audience ?? "public";
  let circleId: string | null = input.circleId ?? null;
  if (
    input.audience === undefined &&
    parent &&
    (parent.audience === "clique" || parent.audience === "circle")
  ) {
    audience = parent.audience;
    circleId = parent.circleId;
  }
  if (audience === "circle") {
    if (!circleId) return fail("circle_required", "A circle post needs a circle_id.");
    const circle = isId(circleId) ? await deps.stores.circles.getById(circleId) : null;
    // Your own circles, or the circle of the post you are answering.
    const usable =
      circle &&
      (circle.ownerId === author.id ||
        (parent?.audience === "circle" && parent.circleId === circle.id));
    if (!usable) return fail("circle_not_found");
  } else {
    circleId = null;
  }

  if (
    parent &&
    widens(parent, { audience, circleId, authorId: author.id }) &&
    !input.confirmWiderAudience
  ) {
    return fail(
      "audience_wider_than_parent",
      `This reply (${audience}) would reach people who cannot see the post it answers (${parent.audience}). Choose the same audience, or confirm.`,
    );
  }
  const policyProblem = await checkPolicy(deps, author, input.interactionPolicy);
  if (policyProblem) return fail(policyProblem);

  const contentType = input.contentType ?? "text/plain";
  const text = await composeText(deps, input.source, contentType, author.id);
  const id = newId();
  const post = await deps.stores.transaction((tx) =>
    tx.posts.create({
      id,
      authorId: author.id,
      uri: null,
      url: null,
      audience,
      circleId,
      interactionPolicy: input.interactionPolicy ?? OPEN_INTERACTIONS,
      inReplyToId: parent?.id ?? null,
      inReplyToUri: null,
      contentType,
      source: input.source,
      contentHtml: text.html,
      spoilerText,
      sensitive: input.sensitive === true || spoilerText.length > 0,
      language,
      createdAt: deps.now(),
      mentionIds: text.mentionIds,
      // Mentioned actors are addressed: for `direct` they are the audience.
      recipientIds: text.mentionIds.filter((m) => m !== author.id),
      hashtags: text.hashtags,
    }),
  );
  await deps.publisher.publish({ kind: "post-created", post });
  return ok(post);
}

// How far each audience reaches; a reply may not reach further than its parent.
const REACH: Record<Audience, number> = {
  direct: 0,
  circle: 1,
  friends: 1,
  followers: 2,
  clique: 2,
  unlisted: 3,
  public: 3,
};

/**
 * Whether a reply would reach people who cannot see its parent: a wider
 * audience, or a different restricted one (another circle, the replier's own
 * followers...). Direct replies name their readers and never count as widening.
 */
export function widens(
  parent: Pick<Post, "audience" | "circleId" | "authorId">,
  reply: Pick<Post, "audience" | "circleId" | "authorId">,
): boolean {
  if (reply.audience === "direct") return false;
  if (parent.audience === "public" || parent.audience === "unlisted") return false;
  if (REACH[reply.audience] > REACH[parent.audience]) return true;
  if (reply.audience !== parent.audience) return true;
  if (reply.audience === "circle") return reply.circleId !== parent.circleId;
  // Followers or friends of someone else are other people.
  if (reply.audience === "followers" || reply.audience === "friends")
    return reply.authorId !== parent.authorId;
  return false;
}

/** An interaction policy may only name the author's own circles. */
export async function checkPolicy(
  deps: Deps,
  author: Member,
  policy: InteractionPolicy | undefined,
): Promise<"circle_not_found" | null> {
  if (!policy) return null;
  for (const ref of [policy.reply, policy.like, policy.boost]) {
    if (ref.audience !== "circle") continue;
    const circle =
      ref.circleId && isId(ref.circleId) ? await deps.stores.circles.getById(ref.circleId) : null;
    if (!circle || circle.ownerId !== author.id) return "circle_not_found";
  }
  return null;
}
