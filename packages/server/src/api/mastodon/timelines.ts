import { Hono } from "hono";
import { requireMember } from "../../http/auth.ts";
import { pageSchema, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { renderStatuses, setPaginationLinks } from "./render.ts";

/** Mastodon's `/api/v1/timelines` endpoints. */
export const timelinesApi = new Hono<AppEnv>();

timelinesApi.get("/home", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const page = toPage(validate(pageSchema.passthrough(), readQuery(c)));
  const posts = await clique.listHomeFeed(member, page);
  setPaginationLinks(c, posts);
  return c.json(await renderStatuses(c, posts));
});
