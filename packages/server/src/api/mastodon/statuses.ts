import {
  AUDIENCES,
  type Audience,
  type CreatePostInput,
  isId,
  MAX_ATTACHMENTS,
  NO_STATS,
} from "@clique/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { audienceRefSchema, looseBoolean, readBody, toRef, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { profilesFor, renderStatuses } from "./render.ts";
import { serializeEdit } from "./serializers.ts";

/** Mastodon's `/api/v1/statuses` endpoints. */
export const statusesApi = new Hono<AppEnv>();

const MASTODON_VISIBILITY: Record<string, Audience> = {
  public: "public",
  unlisted: "unlisted",
  private: "followers",
  direct: "direct",
};

// Mastodon's fields; anything else a client sends is ignored, as Mastodon does.
const createSchema = z.object({
  status: z.string().max(100_000).optional(),
  spoiler_text: z.string().max(10_000).optional(),
  sensitive: looseBoolean.optional(),
  language: z.string().max(16).nullish(),
  in_reply_to_id: z.string().max(64).nullish(),
  visibility: z.enum(["public", "unlisted", "private", "direct"]).optional(),
  media_ids: z.array(z.string().max(64)).max(MAX_ATTACHMENTS).optional(),
  poll: z
    .unknown()
    .refine((v) => v === undefined || v === null, "polls are not supported")
    .optional(),
  // Clique extensions: `audience` wins over `visibility` when given.
  audience: z.enum(AUDIENCES).optional(),
  circle_id: z.string().max(64).nullish(),
  content_type: z.enum(["text/plain", "text/markdown"]).optional(),
  interaction_policy: z
    .object({
      reply: audienceRefSchema.optional(),
      like: audienceRefSchema.optional(),
      boost: audienceRefSchema.optional(),
    })
    .optional(),
  // Clique extension: the author saw that this reply reaches beyond the parent's audience.
  confirm_wider_audience: looseBoolean.optional(),
});

statusesApi.post("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(createSchema, await readBody(c));
  if (input.in_reply_to_id && !isId(input.in_reply_to_id)) throw problem("reply_target_not_found");
  if (input.circle_id && !isId(input.circle_id)) throw problem("circle_not_found");
  const audience =
    input.audience ?? (input.visibility ? MASTODON_VISIBILITY[input.visibility] : undefined);
  const create: CreatePostInput = {
    source: input.status ?? "",
    ...(input.media_ids ? { mediaIds: input.media_ids } : {}),
    ...(input.content_type ? { contentType: input.content_type } : {}),
    ...(audience ? { audience } : {}),
    circleId: input.circle_id ?? null,
    inReplyToId: input.in_reply_to_id ?? null,
    spoilerText: input.spoiler_text ?? "",
    sensitive: input.sensitive ?? false,
    language: input.language ?? null,
    ...(input.interaction_policy
      ? {
          interactionPolicy: {
            reply: toRef(input.interaction_policy.reply),
            like: toRef(input.interaction_policy.like),
            boost: toRef(input.interaction_policy.boost),
          },
        }
      : {}),
    // A reply that would reach people who cannot see its parent: Clique's own
    // clients choose `audience` and can confirm; Mastodon clients cannot, so
    // their reply takes the parent's audience instead of failing.
    widerReply: input.confirm_wider_audience
      ? "allow"
      : input.audience === undefined
        ? "narrow"
        : "refuse",
  };
  const result = await clique.createPost(member, create);
  if (!result.ok) throw problem(result.reason, result.detail);
  const [status] = await renderStatuses(c, [result.value]);
  return c.json(status);
});

statusesApi.get("/:id", async (c) => {
  const { clique } = c.get("services");
  const post = await clique.getVisiblePost(c.get("viewer"), c.req.param("id"));
  if (!post) throw notFound();
  const [status] = await renderStatuses(c, [post]);
  return c.json(status);
});

statusesApi.get("/:id/source", async (c) => {
  const { clique } = c.get("services");
  const member = requireMember(c);
  const post = await clique.getVisiblePost(c.get("viewer"), c.req.param("id"));
  if (!post || post.authorId !== member.id) throw notFound();
  return c.json({ id: post.id, text: post.source, spoiler_text: post.spoilerText });
});

const editSchema = z.object({
  // Empty when the post is only photos.
  status: z.string().max(100_000).optional(),
  spoiler_text: z.string().max(10_000).optional(),
  sensitive: looseBoolean.optional(),
  language: z.string().max(16).nullish(),
  media_ids: z.array(z.string().max(64)).max(MAX_ATTACHMENTS).optional(),
});

statusesApi.put("/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(editSchema, await readBody(c));
  const result = await clique.editPost(member, c.req.param("id"), {
    source: input.status ?? "",
    ...(input.media_ids !== undefined ? { mediaIds: input.media_ids } : {}),
    ...(input.spoiler_text !== undefined ? { spoilerText: input.spoiler_text } : {}),
    ...(input.sensitive !== undefined ? { sensitive: input.sensitive } : {}),
    ...(input.language !== undefined ? { language: input.language } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const [status] = await renderStatuses(c, [result.value]);
  return c.json(status);
});

statusesApi.delete("/:id", async (c) => {
  const member = requireMember(c);
  const { clique, moderation } = c.get("services");
  // A moderator deleting someone else's post from a Mastodon app removes it as
  // moderation does: by the table, its author told, the audit log written.
  const seen = await clique.getVisiblePost(c.get("viewer"), c.req.param("id"));
  const result =
    seen && seen.authorId !== member.id && seen.uri === null
      ? await moderation.members.removePost(member, seen.id, "")
      : await clique.deletePost(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason, result.detail);
  // Mastodon returns the deleted status with its source, for "delete and redraft".
  const [status] = await renderStatuses(c, [result.value], { withSource: true });
  return c.json(status);
});

statusesApi.get("/:id/context", async (c) => {
  const { clique } = c.get("services");
  const context = await clique.getContext(c.get("viewer"), c.req.param("id"));
  if (!context) throw notFound();
  const [ancestors, descendants] = await Promise.all([
    renderStatuses(c, context.ancestors),
    renderStatuses(c, context.descendants),
  ]);
  return c.json({ ancestors, descendants });
});

statusesApi.get("/:id/history", async (c) => {
  const { clique, config } = c.get("services");
  const viewer = c.get("viewer");
  const post = await clique.getVisiblePost(viewer, c.req.param("id"));
  const history = post ? await clique.getPostHistory(viewer, post.id) : null;
  const author = post ? await clique.getActor(post.authorId) : null;
  if (!post || !history || !author) throw notFound();
  const [profiles, stats] = await Promise.all([
    profilesFor(c, [author]),
    clique.accountStats(viewer, [author.id]),
  ]);
  return c.json(
    history.map((edit) =>
      serializeEdit(
        config.origin,
        edit,
        author,
        profiles.get(author.id) ?? null,
        stats.get(author.id) ?? NO_STATS,
      ),
    ),
  );
});

for (const [path, action] of [
  ["favourite", "likePost"],
  ["unfavourite", "unlikePost"],
] as const) {
  statusesApi.post(`/:id/${path}`, async (c) => {
    const member = requireMember(c);
    const { clique } = c.get("services");
    const result = await clique[action](member, c.req.param("id"));
    if (!result.ok) throw problem(result.reason);
    const [status] = await renderStatuses(c, [result.value]);
    return c.json(status);
  });
}

// Boosts, bookmarks, pins, favourited_by and reblogged_by: see interactions.ts (issue 11).
