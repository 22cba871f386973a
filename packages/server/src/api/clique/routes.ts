/**
 * Clique's own operations, under `/api/v1/clique`. Unlike the Mastodon-shaped
 * endpoints these are strict: unknown fields are an error.
 */
import {
  AUDIENCES,
  type Circle,
  CliqueError,
  canSeeMemberList,
  type Invite,
  type Member,
  mayTake,
  PERSONAL_TOKEN_SCOPES,
  parseScopes,
  ROLES,
  scopesWithin,
} from "@clique/core";
import { type Context, Hono } from "hono";
import { deleteCookie } from "hono/cookie";
import { z } from "zod";
import {
  requireAction,
  requireMember,
  SESSION_COOKIE,
  sessionName,
  setSessionCookie,
} from "../../http/auth.ts";
import { audienceRefSchema, readBody, toRef, validate } from "../../http/body.ts";
import { clientAddress, throttleKey } from "../../http/client-address.ts";
import type { AppEnv, AppServices } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { clearPendingIdentity, pendingIdentity } from "../../http/oidc.ts";
import { renderAccount, renderAccounts } from "../mastodon/render.ts";
import { durationSchema } from "./schemas.ts";

/** Clique's API, mounted at `/api/v1/clique`. */
export const cliqueApi = new Hono<AppEnv>();

const username = z.string().min(1).max(30);
const password = z.string().min(1).max(1024);

function serializeInvite(invite: Invite) {
  return {
    id: invite.id,
    code_hint: invite.codeHint,
    created_by: invite.createdBy,
    max_uses: invite.maxUses,
    uses: invite.uses,
    expires_at: invite.expiresAt?.toISOString() ?? null,
    revoked_at: invite.revokedAt?.toISOString() ?? null,
    created_at: invite.createdAt.toISOString(),
  };
}

function serializeCircle(circle: Circle) {
  return {
    id: circle.id,
    name: circle.name,
    member_ids: circle.memberIds,
    created_at: circle.createdAt.toISOString(),
  };
}

/** What sign-in throttling counts this request's client under (X-Forwarded-For only from trusted proxies). */
function clientIp(c: Context<AppEnv>): string {
  return throttleKey(clientAddress(c, c.get("services").config.trustedProxies));
}

// --- The Clique itself -------------------------------------------------------

cliqueApi.get("/", async (c) => {
  const { clique } = c.get("services");
  const settings = await clique.getSettings();
  if (!settings) throw problem("not_initialized");
  return c.json({
    name: settings.name,
    description: settings.description,
    member_cap: settings.memberCap,
    members: await clique.countSeated(),
    members_can_invite: settings.membersCanInvite,
    member_list_audience: settings.memberListAudience ?? "clique",
    // Timelines (issue 11): whether anonymous visitors see the Clique timeline's public posts.
    public_timeline_anonymous: settings.publicTimelineAnonymous ?? false,
    audiences: AUDIENCES,
  });
});

const settingsPatch = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(2000).optional(),
    member_cap: z.number().int().min(1).max(10_000).optional(),
    members_can_invite: z.boolean().optional(),
    member_list_audience: z.enum(["public", "clique", "staff"]).optional(),
    public_timeline_anonymous: z.boolean().optional(),
  })
  .strict();

cliqueApi.patch("/", async (c) => {
  requireAction(c, "settings.update");
  const { clique } = c.get("services");
  const input = validate(settingsPatch, await readBody(c));
  await clique.updateSettings({
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.member_cap !== undefined ? { memberCap: input.member_cap } : {}),
    ...(input.member_list_audience !== undefined
      ? { memberListAudience: input.member_list_audience }
      : {}),
    ...(input.members_can_invite !== undefined
      ? { membersCanInvite: input.members_can_invite }
      : {}),
    ...(input.public_timeline_anonymous !== undefined
      ? { publicTimelineAnonymous: input.public_timeline_anonymous }
      : {}),
  });
  return c.json({ ok: true });
});

// --- Sessions (the web UI's sign-in) ---------------------------------------------

cliqueApi.post("/sessions", async (c) => {
  const { clique } = c.get("services");
  const input = validate(z.object({ username, password }).strict(), await readBody(c));
  const result = await clique.signIn({
    ...input,
    ip: clientIp(c),
    kind: "session",
    name: sessionName(c),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  setSessionCookie(c, result.value.token);
  return c.json({ account: await renderAccount(c, result.value.member.id) });
});

cliqueApi.delete("/sessions/current", async (c) => {
  requireMember(c);
  const { clique } = c.get("services");
  const auth = c.req.header("authorization");
  const secret = auth
    ? auth.replace(/^Bearer\s+/i, "")
    : (c.req.header("cookie")?.match(/clique_session=([^;]+)/)?.[1] ?? "");
  await clique.revokeToken(decodeURIComponent(secret));
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  return c.json({ ok: true });
});

// The settings screen: one's own sessions, each of which can be ended.
cliqueApi.get("/sessions", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const current = c.get("tokenId");
  const sessions = await clique.listSessions(member);
  return c.json(
    sessions.map((s) => ({
      id: s.id,
      created_at: s.createdAt.toISOString(),
      last_used_at: s.lastUsedAt?.toISOString() ?? null,
      // Sessions name their browser since the settings screen (before: "" or the fixed "web").
      user_agent: s.name === "" || s.name === "web" ? null : s.name,
      current: s.id === current,
    })),
  );
});

cliqueApi.delete("/sessions/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  // Another member's session, a token, or an ended one: not found, all alike.
  if (!(await clique.revokeSession(member, c.req.param("id")))) throw notFound();
  return c.json({ ok: true });
});

// --- API tokens ------------------------------------------------------------

cliqueApi.post("/tokens", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(
    z
      .object({
        name: z.string().trim().min(1).max(100),
        // OAuth scopes (issue 11): fewer than a session's if asked.
        scopes: z.string().max(2000).optional(),
      })
      .strict(),
    await readBody(c),
  );
  // OAuth scopes (issue 11): a token never makes a token that may do more than it may.
  const scopes = parseScopes(input.scopes, PERSONAL_TOKEN_SCOPES);
  if (!scopes) throw problem("invalid_scope", "Unknown scope");
  const held = c.get("scopes");
  if (held !== null && !scopesWithin(held, scopes))
    throw new CliqueError("forbidden", "This action is outside the authorized scopes");
  const token = await clique.issueToken(member, "api", input.name, scopes);
  return c.json(
    { access_token: token, token_type: "Bearer", scope: scopes.join(" "), name: input.name },
    201,
  );
});

// --- Password ----------------------------------------------------------------

cliqueApi.post("/password", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(
    z
      .object({
        current_password: password,
        new_password: password,
        keep_other_sessions: z.boolean().optional(),
      })
      .strict(),
    await readBody(c),
  );
  const result = await clique.changePassword(member, {
    currentPassword: input.current_password,
    newPassword: input.new_password,
    ip: clientIp(c),
    currentTokenId: c.get("tokenId"),
    keepOtherSessions: input.keep_other_sessions ?? false,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json({ ok: true, revoked_sessions: result.value.revoked });
});

// --- Invites ---------------------------------------------------------------

cliqueApi.get("/invites", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  // Whoever may revoke anyone's invites sees them all; others see their own.
  const all = mayTake(member.role, "invite.revoke_any");
  const invites = (await clique.listInvites()).filter((i) => all || i.createdBy === member.id);
  return c.json(invites.map(serializeInvite));
});

cliqueApi.post("/invites", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(
    z
      .object({
        max_uses: z.number().int().min(1).max(1000).nullable().optional(),
        expires_in: durationSchema.nullable().optional(),
      })
      .strict(),
    await readBody(c),
  );
  const result = await clique.createInvite(member, {
    maxUses: input.max_uses ?? null,
    expiresInSeconds: input.expires_in === undefined ? 7 * 86400 : input.expires_in,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(
    { ...serializeInvite(result.value.invite), code: result.value.code, url: result.value.url },
    201,
  );
});

cliqueApi.delete("/invites/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.revokeInvite(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json({ ok: true });
});

cliqueApi.post("/invites/redeem", async (c) => {
  const { clique } = c.get("services");
  const input = validate(
    z
      .object({
        code: z.string().min(1).max(200),
        username,
        password: password.optional(),
        display_name: z.string().max(30).optional(),
        // Join with the identity just proven through single sign-on (http/oidc.ts), not a password.
        oidc: z.literal(true).optional(),
      })
      .strict(),
    await readBody(c),
  );
  if (!input.oidc && input.password === undefined)
    throw problem("password_required", "Choose a password (or join through single sign-on)");
  const identity = input.oidc ? await pendingIdentity(c, input.code) : undefined;
  const result = await clique.redeemInvite({
    code: input.code,
    username: input.username,
    ...(input.password !== undefined ? { password: input.password } : {}),
    ...(identity ? { identity } : {}),
    ...(input.display_name ? { displayName: input.display_name } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  if (identity) clearPendingIdentity(c);
  const token = await clique.issueToken(result.value, "session", sessionName(c));
  setSessionCookie(c, token);
  return c.json({ account: await renderAccount(c, result.value.id) }, 201);
});

// --- Members ---------------------------------------------------------------

cliqueApi.get("/members", async (c) => {
  const member = c.get("member");
  const { clique } = c.get("services");
  const staff = member !== null && mayTake(member.role, "member.list_all");
  // The owner chooses who sees the member list; staff always do.
  const audience = (await clique.getSettings())?.memberListAudience ?? "clique";
  if (!canSeeMemberList(c.get("viewer"), audience)) throw notFound();
  const members = await clique.listMembers(staff ? undefined : "active");
  // One batch for the whole list, with counts as this viewer may see them.
  const accounts = await renderAccounts(
    c,
    members.map((m) => m.id),
  );
  const rendered = new Map(accounts.map((a) => [a.id, a]));
  return c.json(
    members.map((m) => ({
      ...(rendered.get(m.id) ?? { id: m.id, username: m.username }),
      role: m.role,
      status: m.status,
    })),
  );
});

cliqueApi.patch("/members/:id", async (c) => {
  const actor = requireMember(c);
  const { clique, moderation } = c.get("services");
  const input = validate(
    z
      .object({
        status: z.enum(["active", "suspended", "removed"]).optional(),
        role: z.enum(ROLES).optional(),
        reason: z.string().max(2000).optional(),
        delete_content: z.boolean().optional(),
      })
      .strict(),
    await readBody(c),
  );
  // A role that can take none of what is asked is told so before anything is looked up.
  if (input.role !== undefined && !mayTake(actor.role, "member.role")) throw problem("not_allowed");
  if (input.status !== undefined && !mayTake(actor.role, "member.suspend"))
    throw problem("not_allowed");
  const target = await clique.getMember(c.req.param("id"));
  if (!target || target.status === "removed") throw notFound();
  const reason = input.reason ?? "";
  // The same workflows as /moderation (the table decides, the audit log records).
  if (input.role !== undefined) {
    const result = await moderation.members.setRole(actor, target.id, input.role, reason);
    if (!result.ok) throw problem(result.reason, result.detail);
  }
  if (input.status !== undefined && input.status !== target.status) {
    const result = await changeStatus(c.get("services").moderation, actor, target, input.status, {
      reason,
      deleteContent: input.delete_content ?? false,
    });
    if (!result.ok) throw problem(result.reason, result.detail);
  }
  return c.json({ ok: true });
});

function changeStatus(
  moderation: AppServices["moderation"],
  actor: Member,
  target: Member,
  status: "active" | "suspended" | "removed",
  options: { reason: string; deleteContent: boolean },
) {
  switch (status) {
    case "suspended":
      return moderation.members.suspendMember(actor, target.id, {
        reason: options.reason,
        until: null,
      });
    case "removed":
      return moderation.members.removeMember(actor, target.id, options);
    case "active":
      return moderation.members.unsuspendMember(actor, target.id, options.reason);
    default: {
      const unreachable: never = status;
      throw new Error(`unknown status ${String(unreachable)}`);
    }
  }
}

// --- Leaving ---------------------------------------------------------------

cliqueApi.post("/leave", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const input = validate(z.object({ password }).strict(), await readBody(c));
  const result = await moderation.members.leave(member, {
    password: input.password,
    ip: clientIp(c),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  return c.json({ ok: true });
});

// --- Circles ---------------------------------------------------------------

const circleInput = z
  .object({ name: z.string().min(1).max(100), member_ids: z.array(z.string()).max(500).optional() })
  .strict();

cliqueApi.get("/circles", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  return c.json((await clique.listCircles(member)).map(serializeCircle));
});

cliqueApi.post("/circles", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(circleInput, await readBody(c));
  const result = await clique.createCircle(member, {
    name: input.name,
    memberIds: input.member_ids ?? [],
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(serializeCircle(result.value), 201);
});

cliqueApi.get("/circles/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const circle = await clique.getCircle(member, c.req.param("id"));
  if (!circle) throw notFound();
  return c.json(serializeCircle(circle));
});

cliqueApi.patch("/circles/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(circleInput.partial().strict(), await readBody(c));
  const result = await clique.updateCircle(member, c.req.param("id"), {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.member_ids !== undefined ? { memberIds: input.member_ids } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(serializeCircle(result.value));
});

cliqueApi.delete("/circles/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.deleteCircle(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json({ ok: true });
});

// --- Profile parts and their audiences -----------------------------------------

const profileInput = z
  .object({
    bio_audience: audienceRefSchema.optional(),
    follows_audience: audienceRefSchema.optional(),
    fields: z
      .array(
        z
          .object({
            name: z.string().min(1).max(255),
            value: z.string().max(255),
            audience: audienceRefSchema.optional(),
          })
          .strict(),
      )
      .max(4)
      .optional(),
  })
  .strict();

cliqueApi.patch("/profile", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(profileInput, await readBody(c));
  const result = await clique.updateProfile(member, {
    ...(input.bio_audience !== undefined ? { bioAudience: toRef(input.bio_audience) } : {}),
    ...(input.follows_audience !== undefined
      ? { followsAudience: toRef(input.follows_audience) }
      : {}),
    ...(input.fields !== undefined
      ? {
          fields: input.fields.map((f) => {
            const ref = toRef(f.audience);
            return {
              name: f.name,
              value: f.value,
              audience: ref.audience,
              circleId: ref.circleId ?? null,
            };
          }),
        }
      : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const m = result.value;
  return c.json({
    bio_audience: m.bioAudience,
    follows_audience: m.followsAudience,
    fields: m.fields.map((f) => ({
      name: f.name,
      value: f.value,
      audience: f.audience ?? "public",
      circle_id: f.circleId ?? null,
    })),
  });
});
