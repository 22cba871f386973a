/**
 * Client apps: Mastodon's `POST /api/v1/apps` and
 * `GET /api/v1/apps/verify_credentials`; and, in Clique's own namespace
 * (Mastodon has no standard endpoint for it), the apps a member has
 * authorised: `GET /api/v1/clique/apps` and `DELETE /api/v1/clique/apps/:id`.
 */
import { CliqueError, type OAuthApp } from "@clique/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../http/auth.ts";
import { readBody, validate } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { problem } from "../http/errors.ts";
import { authorizationServerMetadata } from "./token.ts";

/** Mastodon's Application entity. */
function renderApp(app: OAuthApp) {
  return {
    id: app.id,
    name: app.name,
    website: app.website,
    scopes: [...app.scopes],
    redirect_uri: app.redirectUris.join("\n"),
    redirect_uris: [...app.redirectUris],
  };
}

const registration = z.object({
  client_name: z.string().trim().min(1).max(100),
  redirect_uris: z.union([z.string().max(20_000), z.array(z.string().max(2000)).max(20)]),
  scopes: z.string().max(2000).optional().nullable(),
  website: z.string().max(2000).optional().nullable(),
});

/** Mounted at `/api/v1/apps`. */
export const appsApi = new Hono<AppEnv>();

appsApi.post("/", async (c) => {
  const { clique } = c.get("services");
  const input = validate(registration, await readBody(c));
  const result = await clique.registerApp({
    name: input.client_name,
    redirectUris: input.redirect_uris,
    scopes: input.scopes ?? null,
    website: input.website ?? null,
  });
  if (!result.ok) throw problem(result.reason, `Validation failed: ${result.detail}`);
  c.header("Cache-Control", "no-store");
  return c.json({
    ...renderApp(result.value.app),
    client_id: result.value.app.clientId,
    client_secret: result.value.clientSecret,
    client_secret_expires_at: 0,
  });
});

appsApi.get("/verify_credentials", (c) => {
  // Any token will do (the app's own or a member's); a session cookie is not an app.
  const scopes = c.get("scopes");
  if (scopes === null) throw new CliqueError("unauthorized", "The access token is invalid");
  const app = c.get("oauthApp");
  if (app) return c.json(renderApp(app));
  // A personal token (`clique token create`) stands for an app of its own.
  return c.json({
    id: c.get("tokenId"),
    name: "Personal access token",
    website: null,
    scopes: [...scopes],
    redirect_uri: "",
    redirect_uris: [],
  });
});

/** Mounted at `/api/v1/clique/apps`. */
export const memberAppsApi = new Hono<AppEnv>();

memberAppsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const apps = await clique.listAuthorizedApps(member);
  return c.json(
    apps.map((a) => ({
      id: a.app.id,
      name: a.app.name,
      website: a.app.website,
      scopes: [...a.scopes],
      created_at: a.createdAt.toISOString(),
      last_used_at: a.lastUsedAt?.toISOString() ?? null,
    })),
  );
});

memberAppsApi.delete("/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.revokeAuthorizedApp(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json({ ok: true, revoked_tokens: result.value.revoked });
});

/** Mounted at `/.well-known/oauth-authorization-server`. */
export const metadataApi = new Hono<AppEnv>();

metadataApi.get("/", (c) => c.json(authorizationServerMetadata(c.get("services").config.origin)));
