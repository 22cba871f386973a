/**
 * `GET /api/v1/clique/profile/preview?as=anonymous|follower|member`: the
 * signed-in member's profile as someone else would see it, to check what
 * their audiences show before others do.
 *
 * The viewer is the visibility module's: anonymous, or a hypothetical one
 * described by its relations (an approved follower who is not a member and
 * in no circle; a member in none of the owner's circles, following no one,
 * named on no post). The account and the first page of statuses go through
 * the same use cases and renderers as `GET /api/v1/accounts/:id` and
 * `/api/v1/accounts/:id/statuses`, so the preview cannot say more or less
 * than those would.
 */
import { ANONYMOUS, hypotheticalViewer, type Member, type Viewer } from "@clique/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound } from "../../http/errors.ts";
import { renderAccount, renderStatuses } from "../mastodon/render.ts";

const previewQuery = z.object({ as: z.enum(["anonymous", "follower", "member"]) });

/** Whom the preview is for. */
function previewViewer(member: Member, as: z.infer<typeof previewQuery>["as"]): Viewer {
  switch (as) {
    case "anonymous":
      return ANONYMOUS;
    case "follower":
      return hypotheticalViewer({ follows: [member.id] });
    case "member":
      return hypotheticalViewer({ member: true });
  }
}

/** `GET /api/v1/clique/profile/preview`. */
export const profilePreviewApi = new Hono<AppEnv>();

profilePreviewApi.get("/", async (c) => {
  const member = requireMember(c);
  const { as } = validate(previewQuery, readQuery(c));
  const { clique } = c.get("services");
  // Everything below renders for the previewed viewer: the renderers take
  // the viewer from the request, as the real endpoints do.
  const viewer = previewViewer(member, as);
  c.set("viewer", viewer);
  const account = await renderAccount(c, member.id);
  if (!account) throw notFound();
  const posts = await clique.listAccountPosts(viewer, member.id, toPage({}));
  return c.json({ account, statuses: await renderStatuses(c, posts) });
});
