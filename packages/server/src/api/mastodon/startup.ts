/**
 * What Mastodon apps (Elk, Phanpy, Tusky, Ivory) call at start-up and Clique
 * has nothing (or nothing yet) to answer with: each answers the right shape,
 * mostly empty. Real answers live in `markers.ts`, `announcements.ts`,
 * `conversations.ts` and `instance.ts`.
 */
import { isId } from "@clique/core";
import { Hono } from "hono";
import { requireMember } from "../../http/auth.ts";
import { readQuery } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { mastodonVisibility } from "./serializers.ts";

/** Mounted at `/api/v1` (before the accounts routes: `familiar_followers` is not an account id). */
export const startupApi = new Hono<AppEnv>();

/** Mounted at `/api/v2`. */
export const startupV2Api = new Hono<AppEnv>();

startupApi.get("/preferences", (c) => {
  const member = requireMember(c);
  return c.json({
    // The member's default audience, as the nearest Mastodon visibility.
    "posting:default:visibility": mastodonVisibility(member.defaultAudience),
    "posting:default:sensitive": false,
    "posting:default:language": null,
    "reading:expand:media": "default",
    "reading:expand:spoilers": false,
    "reading:autoplay:gifs": false,
    // Clique extension: the exact default audience.
    "posting:default:audience": member.defaultAudience,
  });
});

// Clique has no custom emoji.
startupApi.get("/custom_emojis", (c) => c.json([]));

// Keyword filters are not kept yet: none, in both versions' shapes (an array of Filter).
startupApi.get("/filters", (c) => {
  requireMember(c);
  return c.json([]);
});
startupV2Api.get("/filters", (c) => {
  requireMember(c);
  return c.json([]);
});

// Lists are not kept: a member's home feed is the Clique already.
startupApi.get("/lists", (c) => {
  requireMember(c);
  return c.json([]);
});

startupApi.get("/followed_tags", (c) => {
  requireMember(c);
  return c.json([]);
});

startupApi.get("/featured_tags", (c) => {
  requireMember(c);
  return c.json([]);
});

// A member's own blocked domains (Mastodon's user-level domain blocks): not kept yet.
startupApi.get("/domain_blocks", (c) => {
  requireMember(c);
  return c.json([]);
});

// Trends would show what the Clique talks about to anyone who asks: none.
startupApi.get("/trends", (c) => c.json([]));
startupApi.get("/trends/tags", (c) => c.json([]));
startupApi.get("/trends/statuses", (c) => c.json([]));
startupApi.get("/trends/links", (c) => c.json([]));

// Suggestions: everyone in a Clique already knows everyone.
startupApi.get("/suggestions", (c) => {
  requireMember(c);
  return c.json([]);
});
startupV2Api.get("/suggestions", (c) => {
  requireMember(c);
  return c.json([]);
});

// The Clique's rules: none written yet.
startupApi.get("/instance/rules", (c) => c.json([]));
// Which servers the Clique talks to is its members' business: never listed.
startupApi.get("/instance/peers", (c) => c.json([]));
// Weekly activity would tell strangers how active a small group is: empty.
startupApi.get("/instance/activity", (c) => c.json([]));

/**
 * Followers of each account that the member also follows: Mastodon's shape
 * (`[{ id, accounts }]`), each list empty for now.
 */
startupApi.get("/accounts/familiar_followers", (c) => {
  requireMember(c);
  const raw = readQuery(c).id;
  const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
    .filter((v): v is string => typeof v === "string" && isId(v))
    .slice(0, 40);
  return c.json(ids.map((id) => ({ id, accounts: [] })));
});
