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
import {
  mayInteract,
  type ReplyAudience,
  replyAudience,
  type Viewer,
} from "../visibility/visibility.ts";
import { composeText } from "./compose-text.ts";
import { getVisiblePost } from "./get-visible-post.ts";
import { checkAttachments } from "./media.ts";
import { notifyMentions } from "./notifications.ts";

/** Longest post, in characters. */
export const MAX_POST_LENGTH = 5000;
/** Longest content warning, in characters. */
export const MAX_SPOILER_LENGTH = 500;

/** Input of `createPost`. */
export interface CreatePostInput {
  source: string;
  /** The member's own processed uploads, in order (at most eight); the text may then be empty. */
  mediaIds?: readonly string[];
  contentType?: ContentType;
  /**
   * Omitted: the member's default audience (`Member.defaultAudience`), or for
   * a reply, the audience of the post it answers.
   */
  audience?: Audience;
  circleId?: string | null;
  inReplyToId?: string | null;
  spoilerText?: string;
  sensitive?: boolean;
  language?: string | null;
  /** Who may reply, like and boost; everyone by default. */
  interactionPolicy?: InteractionPolicy;
  /**
   * What happens when a reply would reach people who cannot see the post it
   * answers: `"refuse"` (the default: Clique's own clients ask the author),
   * `"allow"` (the author saw that warning and confirmed), or `"narrow"`
   * (Mastodon clients, which cannot confirm: the reply takes its parent's audience).
   */
  widerReply?: "refuse" | "allow" | "narrow";
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
  | "audience_wider_than_parent"
  | "too_many_attachments"
  | "media_not_found"
  | "media_not_ready"
  | "media_failed";

/** Checks the text parts shared by creating and editing. */
export function checkText(
  source: string,
  spoilerText: string,
  language: string | null,
  hasMedia = false,
): "empty_post" | "post_too_long" | "spoiler_too_long" | "invalid_language" | null {
  if (source.trim().length === 0 && !hasMedia) return "empty_post";
  if ([...source].length > MAX_POST_LENGTH) return "post_too_long";
  if ([...spoilerText].length > MAX_SPOILER_LENGTH) return "spoiler_too_long";
  if (language !== null && !/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language))
    return "invalid_language";
  return null;
}

/** An upload was attached to another post between the check and the write. */
class AttachmentTaken extends Error {}

/** Publishes a post by a member. */
export async function createPost(
  deps: Deps,
  author: Member,
  input: CreatePostInput,
): Promise<Result<Post, CreatePostProblem>> {
  const spoilerText = input.spoilerText?.trim() ?? "";
  const language = input.language ?? null;
  const mediaIds = input.mediaIds ?? [];
  const textProblem = checkText(input.source, spoilerText, language, mediaIds.length > 0);
  if (textProblem) return fail(textProblem);
  const mediaProblem = await checkAttachments(deps, author, mediaIds, null);
  if (mediaProblem) return fail(mediaProblem);

  const viewer: Viewer = { kind: "member", actorId: author.id, role: author.role };
  let parent: Post | null = null;
  if (input.inReplyToId) {
    // You can only answer what you can see.
    parent = await getVisiblePost(deps, viewer, input.inReplyToId);
    if (!parent) return fail("reply_target_not_found");
    // The parent's interaction policy and blocks decide who may answer.
    if (!(await mayInteract(viewer, parent, "reply", deps.stores.facts)))
      return fail("reply_not_allowed", "The author does not take replies from you on this post.");
  }

  let chosen: ReplyAudience = {
    audience: input.audience ?? author.defaultAudience,
    circleId: input.audience === "circle" ? (input.circleId ?? null) : null,
    audienceOwnerId: null,
    addressParent: false,
  };
  if (parent) {
    // One rule for every reply (visibility.ts): nothing chosen takes the
    // parent's audience; a wider choice is refused, confirmed or narrowed.
    const decided = replyAudience(
      parent,
      { audience: input.audience, circleId: input.circleId },
      author.id,
      input.widerReply ?? "refuse",
    );
    if (decided === "audience_wider_than_parent")
      return fail(
        "audience_wider_than_parent",
        `Your reply (${await describeAudience(deps, chosen.audience, author.id, author.id)}) would reach people who cannot see the post it answers (${await describeAudience(deps, parent.audience, parent.audienceOwnerId ?? parent.authorId, author.id)}). Choose the same audience, or confirm.`,
      );
    chosen = decided;
  }
  const { audience, circleId } = chosen;
  if (audience === "circle") {
    if (!circleId) return fail("circle_required", "A circle post needs a circle_id.");
    const circle = isId(circleId) ? await deps.stores.circles.getById(circleId) : null;
    // Your own circles, or the circle of the post you are answering.
    const usable =
      circle &&
      (circle.ownerId === author.id ||
        (parent?.audience === "circle" && parent.circleId === circle.id));
    if (!usable) return fail("circle_not_found");
  }

  const policyProblem = await checkPolicy(deps, author, input.interactionPolicy);
  if (policyProblem) return fail(policyProblem);

  const contentType = input.contentType ?? "text/plain";
  const text = await composeText(deps, input.source, contentType, author.id);
  // Mentioned actors are addressed: for `direct` they are the audience. A
  // reply that borrowed a conversation also goes to whoever the parent went to.
  const addressed = [...text.mentionIds];
  if (parent && chosen.addressParent)
    addressed.push(parent.authorId, ...(await deps.stores.posts.recipientsOf(parent.id)));
  const id = newId();
  const post = await deps.stores
    .transaction(async (tx) => {
      const created = await tx.posts.create({
        id,
        authorId: author.id,
        uri: null,
        url: null,
        audience,
        circleId,
        audienceOwnerId: chosen.audienceOwnerId,
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
        recipientIds: [...new Set(addressed)].filter((m) => m !== author.id),
        hashtags: text.hashtags,
      });
      // Checked above; a concurrent post may have taken an upload since: then nothing is kept.
      if ((await tx.media.attach(created.id, author.id, mediaIds)) !== mediaIds.length)
        throw new AttachmentTaken();
      await tx.outbox.record({ kind: "post-created", post: created }, deps.now());
      // Mentioned members are told, each only if they may see the post.
      await notifyMentions(tx, created, text.mentionIds, deps.now());
      return created;
    })
    .catch((error: unknown) => {
      if (error instanceof AttachmentTaken) return null;
      throw error;
    });
  if (!post) return fail("media_not_found");
  return ok(post);
}

/** An audience in words, naming whose it is ("your followers", "alice's circle"). */
async function describeAudience(
  deps: Deps,
  audience: Audience,
  ownerId: string,
  replierId: string,
): Promise<string> {
  const owner = ownerId === replierId ? null : await deps.stores.actors.getById(ownerId);
  const whose = owner ? `@${owner.username}'s` : "your";
  switch (audience) {
    case "public":
      return "public";
    case "unlisted":
      return "unlisted";
    case "followers":
      return `${whose} followers`;
    case "friends":
      return `${whose} friends`;
    case "circle":
      return `${whose} circle`;
    case "clique":
      return "the Clique";
    case "direct":
      return "only the people it mentions";
    default: {
      const unreachable: never = audience;
      return unreachable;
    }
  }
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
