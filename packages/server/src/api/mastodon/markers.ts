import { MARKER_TIMELINES, type Marker, type MarkerTimeline } from "@clique/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { readBody, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";

/** Mastodon's `/api/v1/markers`: where a member stopped reading home and notifications. */
export const markersApi = new Hono<AppEnv>();

function serializeMarkers(markers: readonly Marker[]) {
  return Object.fromEntries(
    markers.map((m) => [
      m.timeline,
      {
        last_read_id: m.lastReadId,
        version: m.version,
        updated_at: m.updatedAt.toISOString(),
      },
    ]),
  );
}

const timelines = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.enum(MARKER_TIMELINES)))
  .optional();

markersApi.get("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const query = validate(z.object({ timeline: timelines }).passthrough(), readQuery(c));
  const wanted: readonly MarkerTimeline[] = query.timeline ?? MARKER_TIMELINES;
  return c.json(serializeMarkers(await clique.getMarkers(member, wanted)));
});

const position = z.object({ last_read_id: z.string().min(1).max(64) }).passthrough();

markersApi.post("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(
    z.object({ home: position.optional(), notifications: position.optional() }).passthrough(),
    await readBody(c),
  );
  const saved = await clique.saveMarkers(member, {
    ...(input.home ? { home: input.home.last_read_id } : {}),
    ...(input.notifications ? { notifications: input.notifications.last_read_id } : {}),
  });
  return c.json(serializeMarkers(saved));
});
