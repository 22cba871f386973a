import type { Announcement, MemberAnnouncement } from "@clique/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireAction, requireMember } from "../../http/auth.ts";
import { looseBoolean, readBody, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";

/** Mastodon's Announcement entity. */
function serializeAnnouncement(a: Announcement | MemberAnnouncement) {
  return {
    id: a.id,
    content: a.contentHtml,
    starts_at: a.startsAt?.toISOString() ?? null,
    ends_at: a.endsAt?.toISOString() ?? null,
    all_day: a.allDay,
    published: true,
    published_at: a.publishedAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
    read: "read" in a ? a.read : false,
    mentions: [],
    statuses: [],
    tags: [],
    emojis: [],
    reactions: [],
    // Clique extension: what the admin wrote.
    text: a.text,
  };
}

/** Mastodon's `/api/v1/announcements`, mounted there: members read and dismiss. */
export const announcementsApi = new Hono<AppEnv>();

announcementsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const query = validate(
    z.object({ with_dismissed: looseBoolean.optional() }).passthrough(),
    readQuery(c),
  );
  const list = await clique.listAnnouncements(member, {
    withDismissed: query.with_dismissed ?? false,
  });
  return c.json(list.map(serializeAnnouncement));
});

announcementsApi.post("/:id/dismiss", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.dismissAnnouncement(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json({});
});

/** Clique's `/api/v1/clique/announcements`: admins write, edit and delete announcements. */
export const cliqueAnnouncementsApi = new Hono<AppEnv>();

const when = z
  .string()
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .nullable()
  .optional();

const announcementInput = z
  .object({
    text: z.string().max(5000),
    starts_at: when,
    ends_at: when,
    all_day: z.boolean().optional(),
  })
  .strict();

cliqueAnnouncementsApi.post("/", async (c) => {
  const member = requireAction(c, "announcement.manage");
  const { clique } = c.get("services");
  const input = validate(announcementInput, await readBody(c));
  const result = await clique.createAnnouncement(member, {
    text: input.text,
    ...(input.starts_at !== undefined ? { startsAt: input.starts_at } : {}),
    ...(input.ends_at !== undefined ? { endsAt: input.ends_at } : {}),
    ...(input.all_day !== undefined ? { allDay: input.all_day } : {}),
  });
  if (!result.ok) throw problem(result.reason);
  return c.json(serializeAnnouncement(result.value), 201);
});

cliqueAnnouncementsApi.patch("/:id", async (c) => {
  const member = requireAction(c, "announcement.manage");
  const { clique } = c.get("services");
  const input = validate(announcementInput.partial(), await readBody(c));
  const result = await clique.updateAnnouncement(member, c.req.param("id"), {
    ...(input.text !== undefined ? { text: input.text } : {}),
    ...(input.starts_at !== undefined ? { startsAt: input.starts_at } : {}),
    ...(input.ends_at !== undefined ? { endsAt: input.ends_at } : {}),
    ...(input.all_day !== undefined ? { allDay: input.all_day } : {}),
  });
  if (!result.ok) throw problem(result.reason);
  return c.json(serializeAnnouncement(result.value));
});

cliqueAnnouncementsApi.delete("/:id", async (c) => {
  const member = requireAction(c, "announcement.manage");
  const { clique } = c.get("services");
  const result = await clique.deleteAnnouncement(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json({});
});
