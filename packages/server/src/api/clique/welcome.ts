/**
 * What the web UI shows before anyone is signed in: the first-run setup of
 * a new server, and the landing page of an invite. Public routes under
 * `/api/v1/clique`, strict like the rest of Clique's own API.
 */
import { Hono } from "hono";
import { z } from "zod";
import { sessionName, setSessionCookie } from "../../http/auth.ts";
import { readBody, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";
import { renderAccount } from "../mastodon/render.ts";

/** Setup and invite previews, mounted at `/api/v1/clique`. */
export const welcomeApi = new Hono<AppEnv>();

// --- First-run setup ------------------------------------------------------------

welcomeApi.get("/setup", async (c) => {
  const { clique } = c.get("services");
  return c.json({ needed: await clique.setupNeeded() });
});

const setupBody = z
  .object({
    token: z.string().min(1).max(200),
    name: z.string().max(100),
    description: z.string().max(2000).optional(),
    member_cap: z.number().int().min(1).max(10_000).optional(),
    username: z.string().min(1).max(30),
    display_name: z.string().max(30).optional(),
    password: z.string().min(1).max(1024),
  })
  .strict();

welcomeApi.post("/setup", async (c) => {
  const { clique } = c.get("services");
  const input = validate(setupBody, await readBody(c));
  const result = await clique.setupClique({
    token: input.token,
    name: input.name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.member_cap !== undefined ? { memberCap: input.member_cap } : {}),
    ownerUsername: input.username,
    ownerPassword: input.password,
    ...(input.display_name !== undefined ? { ownerDisplayName: input.display_name } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  // The owner is signed in at once: the setup page goes straight to the Clique.
  const token = await clique.issueToken(result.value.owner, "session", sessionName(c));
  setSessionCookie(c, token);
  return c.json(await renderAccount(c, result.value.owner.id), 201);
});

// --- An invite's landing page ---------------------------------------------------------

welcomeApi.get("/invites/preview", async (c) => {
  const { clique } = c.get("services");
  const { code } = validate(z.object({ code: z.string().min(1).max(200) }), c.req.query());
  const preview = await clique.previewInvite(code);
  // Unknown codes learn nothing, not even the Clique's name.
  if (!preview) throw problem("not_found", "This invite code is not valid");
  return c.json({
    clique: {
      name: preview.settings.name,
      description: preview.settings.description,
      member_cap: preview.settings.memberCap,
      members: preview.seated,
    },
    // As the visitor may see it; `null` once the inviter is gone.
    inviter: await renderAccount(c, preview.invite.createdBy),
    seats_left: preview.seatsLeft,
    status: preview.status,
  });
});
