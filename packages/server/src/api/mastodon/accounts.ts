import { type Actor, DEFAULT_AUDIENCES, type Member } from "@clique/core";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import {
  looseBoolean,
  pageSchema,
  readBody,
  readFormFields,
  readQuery,
  toPage,
  validate,
} from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import {
  PROFILE_SLOTS,
  type StoredProfileImages,
  storeProfileImages,
} from "../../media/profile-images.ts";
import { receiveForm } from "../../media/upload.ts";
import { findAccount, followAccountsApi } from "./follows.ts";
import { renderAccount, renderStatuses, setPaginationLinks } from "./render.ts";
import { serializeCredentialAccount } from "./serializers.ts";

/** Mastodon's `/api/v1/accounts` endpoints. */
export const accountsApi = new Hono<AppEnv>();

accountsApi.get("/verify_credentials", async (c) => {
  return c.json(await credentialAccount(c, requireMember(c)));
});

const updateCredentials = z.object({
  display_name: z.string().optional(),
  note: z.string().optional(),
  locked: looseBoolean.optional(),
  discoverable: looseBoolean.optional(),
  // Mastodon's posting defaults; `audience` is Clique's extension (it wins over `privacy`).
  source: z
    .object({
      privacy: z.enum(["public", "unlisted", "private"]).optional(),
      audience: z.enum(DEFAULT_AUDIENCES).optional(),
    })
    .optional(),
  fields_attributes: z
    .union([
      z.array(z.object({ name: z.string(), value: z.string() })),
      z.record(z.string(), z.object({ name: z.string(), value: z.string() })),
    ])
    .optional(),
});

/** A form with files goes through the upload path; anything else is read under the body limit. */
export function isProfileUpload(request: Request): boolean {
  return (request.headers.get("content-type") ?? "")
    .toLowerCase()
    .startsWith("multipart/form-data");
}

/**
 * The fields, and the avatar and header if the form carries them (processed
 * and stored; `discard` deletes them if the change is then refused).
 */
async function readProfileForm(c: Context<AppEnv>): Promise<{
  body: Record<string, unknown>;
  uploaded: StoredProfileImages | null;
}> {
  if (!isProfileUpload(c.req.raw)) return { body: await readBody(c), uploaded: null };
  const { config, blobs, scratch } = c.get("services");
  const form = await receiveForm(c.req.raw, scratch, {
    files: PROFILE_SLOTS,
    limits: { imageBytes: config.media.imageBytes, videoBytes: config.media.imageBytes },
    fieldBytes: config.bodyLimit,
  });
  try {
    const body = readFormFields(form.fields);
    // The fields are checked before the pictures cost any work.
    validate(updateCredentials, body);
    const uploaded =
      form.files.size > 0
        ? await storeProfileImages(form.files, scratch, blobs, config.media.maxPixels)
        : null;
    return { body, uploaded };
  } finally {
    await scratch.delete([...form.files.values()].map((f) => f.key));
  }
}

async function credentialAccount(c: Context<AppEnv>, member: Member) {
  const { clique, config } = c.get("services");
  const [actor, stats] = await Promise.all([
    clique.getActor(member.id),
    clique.accountStats(c.get("viewer"), [member.id]),
  ]);
  return serializeCredentialAccount(config.origin, actor as Actor, member, stats.get(member.id)!);
}

accountsApi.patch("/update_credentials", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const { body, uploaded } = await readProfileForm(c);
  const input = validate(updateCredentials, body);
  const fields =
    input.fields_attributes === undefined
      ? undefined
      : (Array.isArray(input.fields_attributes)
          ? input.fields_attributes
          : Object.entries(input.fields_attributes)
              .sort(([a], [b]) => Number(a) - Number(b))
              .map(([, f]) => f)
        ).filter((f) => f.name.trim() !== "" || f.value.trim() !== "");
  const privacy = input.source?.privacy;
  const defaultAudience = input.source?.audience ?? (privacy === "private" ? "followers" : privacy);
  const result = await clique
    .updateProfile(member, {
      ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
      ...(input.note !== undefined ? { bio: input.note } : {}),
      ...(fields !== undefined ? { fields } : {}),
      ...(input.locked !== undefined ? { manuallyApprovesFollowers: input.locked } : {}),
      ...(input.discoverable !== undefined ? { discoverable: input.discoverable } : {}),
      ...(defaultAudience !== undefined ? { defaultAudience } : {}),
      ...uploaded?.images,
    })
    .catch(async (error: unknown) => {
      await uploaded?.discard();
      throw error;
    });
  if (!result.ok) {
    await uploaded?.discard();
    throw problem(result.reason, result.detail);
  }
  return c.json(await credentialAccount(c, result.value));
});

/** Mastodon's `DELETE /api/v1/profile/avatar` and `/header`: back to the default. */
export const profileApi = new Hono<AppEnv>();

for (const slot of PROFILE_SLOTS)
  profileApi.delete(`/${slot}`, async (c) => {
    const member = requireMember(c);
    const { clique } = c.get("services");
    const result = await clique.updateProfile(member, { [slot]: null });
    if (!result.ok) throw problem(result.reason, result.detail);
    return c.json(await credentialAccount(c, result.value));
  });

accountsApi.get("/lookup", async (c) => {
  const { acct } = validate(
    z.object({ acct: z.string().min(1).max(300) }).passthrough(),
    readQuery(c),
  );
  // Mastodon's lookup also finds remote accounts it knows; a signed-in member may make us fetch one.
  const actor = await findAccount(c, acct, true);
  const account = actor ? await renderAccount(c, actor.id) : null;
  if (!account) throw notFound();
  return c.json(account);
});

accountsApi.route("/", followAccountsApi);

accountsApi.get("/:id", async (c) => {
  const account = await renderAccount(c, c.req.param("id"));
  if (!account) throw notFound();
  return c.json(account);
});

const statusesQuery = pageSchema.extend({
  exclude_replies: looseBoolean.optional(),
  only_media: looseBoolean.optional(),
  pinned: looseBoolean.optional(),
  exclude_reblogs: looseBoolean.optional(),
  tagged: z.string().optional(),
});

accountsApi.get("/:id/statuses", async (c) => {
  const { clique } = c.get("services");
  const actor = await clique.getActor(c.req.param("id"));
  if (!actor) throw notFound();
  const member = actor.kind === "local" ? await clique.getMember(actor.id) : null;
  if (member && member.status === "removed") throw notFound();
  const q = validate(statusesQuery, readQuery(c));
  // Pinned posts (issue 11): a handful, the ones this viewer may see, on one
  // page (a later page is empty, as on Mastodon).
  if (q.pinned) {
    if (q.max_id || q.min_id || q.since_id) return c.json([]);
    return c.json(await renderStatuses(c, await clique.listPinned(c.get("viewer"), actor.id)));
  }
  // The media tab: posts with photos or videos, through the same visibility filter.
  const posts = await clique.listAccountPosts(c.get("viewer"), actor.id, toPage(q), {
    excludeReplies: q.exclude_replies ?? false,
    onlyMedia: q.only_media ?? false,
  });
  setPaginationLinks(c, posts);
  return c.json(await renderStatuses(c, posts));
});
