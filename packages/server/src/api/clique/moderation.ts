/**
 * Clique's own moderation API for members and their content, under
 * `/api/v1/clique/moderation`: remove a member's post, hide a post from
 * elsewhere, remove, suspend, warn and give roles to members, and read the
 * audit log. Every action goes through `@clique/moderation`'s workflows, whose
 * core use cases ask the permission table (refusals come back as 403 with
 * the table's reason: `not_allowed`, `outranked`, `last_owner`, `self`).
 */
import { isId, type Member, mayTake, ROLES } from "@clique/core";
import type { AuditEntry } from "@clique/moderation";
import { MAX_REASON } from "@clique/moderation";
import { Hono } from "hono";
import { z } from "zod";
import { requireAction, requireMember } from "../../http/auth.ts";
import { looseInt, readBody, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";

/** Mounted at `/api/v1/clique/moderation`. */
export const moderationApi = new Hono<AppEnv>();

const reason = z.string().trim().min(1).max(MAX_REASON);
const optionalReason = z.string().max(MAX_REASON).optional();
const idSchema = z.string().refine(isId, "not a valid id");

/** A member as the moderation API answers: who, which role, which standing. */
export function memberJson(member: Member) {
  return {
    id: member.id,
    username: member.username,
    role: member.role,
    status: member.status,
    suspended_until: member.suspendedUntil?.toISOString() ?? null,
  };
}

/** An audit entry on the wire. */
export function auditJson(entry: AuditEntry) {
  const { via, ...details } = entry.details;
  return {
    id: entry.id,
    action: entry.action,
    // Who acted: a member's account id, or null for the server (its console, or its worker).
    actor_id: entry.actorId,
    via: typeof via === "string" ? via : entry.actorId === null ? "server" : "api",
    subject: entry.subject,
    reason: entry.reason,
    details,
    created_at: entry.createdAt.toISOString(),
  };
}

// --- Posts -------------------------------------------------------------------

moderationApi.post("/posts/:id/remove", async (c) => {
  const by = requireAction(c, "post.remove");
  const { moderation } = c.get("services");
  const input = validate(z.object({ reason }).strict(), await readBody(c));
  const result = await moderation.members.removePost(by, c.req.param("id"), input.reason);
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json({ id: result.value.id, removed: true });
});

for (const step of ["hide", "unhide"] as const) {
  moderationApi.post(`/posts/:id/${step}`, async (c) => {
    const by = requireAction(c, "post.hide");
    const { moderation } = c.get("services");
    const input = validate(z.object({ reason: optionalReason }).strict(), await readBody(c));
    const id = c.req.param("id");
    const result =
      step === "hide"
        ? await moderation.members.hidePost(by, id, input.reason ?? "")
        : await moderation.members.unhidePost(by, id, input.reason ?? "");
    if (!result.ok) throw problem(result.reason, result.detail);
    return c.json({ id: result.value.id, hidden: step === "hide" });
  });
}

// --- Members -----------------------------------------------------------------

moderationApi.post("/members/:id/remove", async (c) => {
  const by = requireAction(c, "member.remove");
  const { moderation } = c.get("services");
  const input = validate(
    z.object({ reason, delete_content: z.boolean().optional() }).strict(),
    await readBody(c),
  );
  const result = await moderation.members.removeMember(by, c.req.param("id"), {
    reason: input.reason,
    deleteContent: input.delete_content ?? false,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(memberJson(result.value));
});

moderationApi.post("/members/:id/suspend", async (c) => {
  const by = requireAction(c, "member.suspend");
  const { moderation } = c.get("services");
  const input = validate(
    z.object({ reason, until: z.iso.datetime({ offset: true }).nullish() }).strict(),
    await readBody(c),
  );
  const result = await moderation.members.suspendMember(by, c.req.param("id"), {
    reason: input.reason,
    until: input.until ? new Date(input.until) : null,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(memberJson(result.value));
});

moderationApi.post("/members/:id/unsuspend", async (c) => {
  const by = requireAction(c, "member.suspend");
  const { moderation } = c.get("services");
  const input = validate(z.object({ reason: optionalReason }).strict(), await readBody(c));
  const result = await moderation.members.unsuspendMember(
    by,
    c.req.param("id"),
    input.reason ?? "",
  );
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(memberJson(result.value));
});

moderationApi.post("/members/:id/warn", async (c) => {
  const by = requireAction(c, "member.warn");
  const { moderation } = c.get("services");
  const input = validate(z.object({ reason }).strict(), await readBody(c));
  const result = await moderation.members.warn(by, c.req.param("id"), input.reason);
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(memberJson(result.value.member));
});

moderationApi.post("/members/:id/role", async (c) => {
  const by = requireAction(c, "member.role");
  const { moderation } = c.get("services");
  const input = validate(
    z.object({ role: z.enum(ROLES), reason: optionalReason }).strict(),
    await readBody(c),
  );
  const result = await moderation.members.setRole(
    by,
    c.req.param("id"),
    input.role,
    input.reason ?? "",
  );
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(memberJson(result.value.member));
});

// --- The audit log -------------------------------------------------------------

/**
 * The audit log, newest first: everything for those the table lets read it
 * (`member_id` narrows to one member's account and posts), and for everyone
 * else what concerns them (actions on their account or their posts).
 */
moderationApi.get("/audit", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const query = validate(
    z
      .object({
        max_id: idSchema.optional(),
        member_id: idSchema.optional(),
        limit: looseInt.pipe(z.number().int().min(1).max(200)).optional(),
      })
      .strict(),
    readQuery(c),
  );
  const staff = mayTake(member.role, "audit.read");
  const concerning = staff ? query.member_id : member.id;
  const entries = await moderation.audit.list({
    limit: query.limit ?? 40,
    ...(query.max_id ? { before: query.max_id } : {}),
    ...(concerning ? { concerning } : {}),
  });
  return c.json(entries.map(auditJson));
});
