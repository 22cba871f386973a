import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { looseBoolean, pageSchema, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";
import { renderFeed, renderStatuses, setPaginationLinks } from "./render.ts";

/** Mastodon's `/api/v1/timelines` endpoints. */
export const timelinesApi = new Hono<AppEnv>();

timelinesApi.get("/home", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const page = toPage(validate(pageSchema.passthrough(), readQuery(c)));
  // With the boosts of followed accounts, as reblog wrappers (issue 11).
  const entries = await clique.listHomeEntries(member, page);
  setPaginationLinks(c, entries);
  return c.json(await renderFeed(c, entries));
});

// --- The Clique's timeline and tag timelines (issue 11) ---------------------

const timelineQuery = pageSchema
  .extend({
    local: looseBoolean.optional(),
    remote: looseBoolean.optional(),
    only_media: looseBoolean.optional(),
  })
  .passthrough();

/**
 * `GET /api/v1/timelines/public`: on a Clique, with or without `local=true`,
 * the Clique's own timeline (its members' posts that the viewer may see).
 * `remote=true` (Mastodon's federated-only timeline) is an empty list: a
 * Clique shows no timeline of other servers' posts. Anonymous visitors get
 * 401 unless the Clique's `public_timeline_anonymous` setting is on.
 */
timelinesApi.get("/public", async (c) => {
  const { clique } = c.get("services");
  const query = validate(timelineQuery, readQuery(c));
  const page = toPage(query);
  const result = await clique.listLocalTimeline(c.get("viewer"), page, {
    onlyMedia: query.only_media ?? false,
  });
  if (!result.ok) throw problem(result.reason);
  if (query.remote === true && query.local !== true) return c.json([]);
  setPaginationLinks(c, result.value);
  return c.json(await renderStatuses(c, result.value));
});

const tagList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.string().max(200)).max(4))
  .optional();

/** `GET /api/v1/timelines/tag/:hashtag`: posts carrying the tag that the viewer may see. */
timelinesApi.get("/tag/:hashtag", async (c) => {
  const { clique } = c.get("services");
  const query = validate(
    timelineQuery.extend({ any: tagList, all: tagList, none: tagList }),
    readQuery(c),
  );
  const tag = c.req.param("hashtag");
  if (tag.length > 200) throw problem("not_found");
  const result = await clique.listTagTimeline(
    c.get("viewer"),
    {
      tag,
      any: query.any ?? [],
      all: query.all ?? [],
      none: query.none ?? [],
      localOnly: query.local ?? false,
      onlyMedia: query.only_media ?? false,
    },
    toPage(query),
  );
  if (!result.ok) throw problem(result.reason);
  if (query.remote === true && query.local !== true) return c.json([]);
  setPaginationLinks(c, result.value);
  return c.json(await renderStatuses(c, result.value));
});
