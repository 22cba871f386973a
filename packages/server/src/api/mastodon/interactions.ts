/**
 * Boosts, bookmarks, pins and who liked or boosted a post (issue 11):
 * Mastodon's `/api/v1/statuses/:id/{reblog,unreblog,bookmark,unbookmark,pin,unpin,
 * favourited_by,reblogged_by}`, `/api/v1/bookmarks` and `/api/v1/favourites`.
 * Every post and every list goes through the visibility module (in the use
 * cases): a post the member may not see is "not found".
 */
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { pageSchema, readBody, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { renderAccounts, renderFeed, renderStatuses, setPaginationLinks } from "./render.ts";

/** Routes under `/api/v1/statuses`. */
export const statusInteractionsApi = new Hono<AppEnv>();

/** Routes under `/api/v1`: the member's bookmarks and favourites. */
export const interactionListsApi = new Hono<AppEnv>();

// Mastodon's `visibility` of a boost: public and unlisted boosts are shown to
// everyone, private ones to the booster's followers. A boost cannot be direct.
const reblogSchema = z
  .object({ visibility: z.enum(["public", "unlisted", "private"]).optional() })
  .passthrough();

statusInteractionsApi.post("/:id/reblog", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(reblogSchema, await readBody(c));
  const result = await clique.boostPost(member, c.req.param("id"), {
    audience: input.visibility === "private" ? "followers" : "public",
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const [wrapper] = await renderFeed(c, [
    { id: result.value.boost.id, post: result.value.post, boost: result.value.boost },
  ]);
  if (!wrapper) throw notFound();
  return c.json(wrapper);
});

// The simple toggles answer the post as it now is (Mastodon's shape).
for (const [path, action] of [
  ["unreblog", "unboostPost"],
  ["bookmark", "bookmarkPost"],
  ["unbookmark", "unbookmarkPost"],
  ["pin", "pinPost"],
  ["unpin", "unpinPost"],
] as const) {
  statusInteractionsApi.post(`/:id/${path}`, async (c) => {
    const member = requireMember(c);
    const { clique } = c.get("services");
    const result = await clique[action](member, c.req.param("id"));
    if (!result.ok) throw problem(result.reason, result.detail);
    const [status] = await renderStatuses(c, [result.value]);
    return c.json(status);
  });
}

// Who liked or boosted a post the viewer may see (404 for any other), paged
// by the like's or boost's id; accounts the viewer may not see are left out.
for (const [path, kind] of [
  ["favourited_by", "like"],
  ["reblogged_by", "boost"],
] as const) {
  statusInteractionsApi.get(`/:id/${path}`, async (c) => {
    const { clique } = c.get("services");
    const page = toPage(validate(pageSchema.passthrough(), readQuery(c)), {
      limit: 40,
      max: 80,
    });
    const found = await clique.listPostInteractors(c.get("viewer"), c.req.param("id"), kind, page);
    if (!found) throw notFound();
    setPaginationLinks(c, found);
    return c.json(await renderAccounts(c, [...new Set(found.map((f) => f.actorId))]));
  });
}

for (const [path, action] of [
  ["bookmarks", "listBookmarks"],
  ["favourites", "listFavourites"],
] as const) {
  interactionListsApi.get(`/${path}`, async (c) => {
    const member = requireMember(c);
    const { clique } = c.get("services");
    const page = toPage(validate(pageSchema.passthrough(), readQuery(c)));
    const entries = await clique[action](member, page);
    // Pages go by when the post was bookmarked or liked (the entry's id), as on Mastodon.
    setPaginationLinks(c, entries);
    return c.json(
      await renderStatuses(
        c,
        entries.map((e) => e.post),
      ),
    );
  });
}
