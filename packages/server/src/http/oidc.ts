/**
 * Signing in through an OpenID Connect provider (single sign-on). The
 * provider proves who the person is; core decides what that identity may do.
 *
 *   GET /auth/oidc/start?intent=signin|link|signup  → the provider (PKCE, state, nonce)
 *   GET /auth/oidc/callback                         → back here: sign in, link, or hold for joining
 *
 * Between the two, the flow's secrets (state, nonce, PKCE verifier) wait in a
 * signed, http-only, short-lived cookie scoped to `/auth/oidc`. An identity
 * proven for joining waits in another signed cookie, scoped to the invite
 * routes, until the invitee picks a username (`POST /api/v1/clique/invites/redeem`
 * with `oidc: true`).
 */
import { CliqueError, type OidcIdentity, type VerifiedIdentity } from "@clique/core";
import { getLogger } from "@logtape/logtape";
import { type Context, Hono } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import * as client from "openid-client";
import { z } from "zod";
import type { Config, OidcSettings } from "../config.ts";
import { authentication, requireMember, sessionName, setSessionCookie } from "./auth.ts";
import { readBody, validate } from "./body.ts";
import { clientAddress, throttleKey } from "./client-address.ts";
import type { AppEnv } from "./env.ts";
import { problem } from "./errors.ts";

const log = getLogger(["clique", "http", "oidc"]);

const FLOW_COOKIE = "clique_oidc";
const FLOW_PATH = "/auth/oidc";
const FLOW_TTL_S = 10 * 60;
const PENDING_COOKIE = "clique_oidc_pending";
/** Only the invite routes read the held identity. */
const PENDING_PATH = "/api/v1/clique/invites";
const PENDING_TTL_S = 30 * 60;

/** What a sign-in in progress remembers between the redirect and the return. */
interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  intent: "signin" | "link" | "signup";
  invite: string | null;
  returnTo: string | null;
  /** For `link`: the member who started it (the callback must come back as them). */
  memberId: string | null;
  /** Unix seconds. */
  exp: number;
}

/** An identity proven for joining, held until the invite is redeemed. */
interface Pending extends VerifiedIdentity {
  invite: string;
  exp: number;
}

function notConfigured(): CliqueError {
  return new CliqueError("not_found", "Single sign-on is not configured");
}

function settingsOf(c: Context<AppEnv>): OidcSettings {
  const settings = c.get("services").config.oidc;
  if (!settings) throw notConfigured();
  return settings;
}

// The provider's metadata, fetched once per process; a failed fetch is retried next time.
const discovered = new Map<string, Promise<client.Configuration>>();

function providerConfig(config: Config, settings: OidcSettings): Promise<client.Configuration> {
  let found = discovered.get(settings.issuer);
  if (!found) {
    found = client.discovery(
      new URL(settings.issuer),
      settings.clientId,
      settings.clientSecret,
      undefined,
      // Plain http only where config allowed it (loopback tests): see config.ts.
      settings.issuer.startsWith("http:") && config.allowPrivateAddress
        ? { execute: [client.allowInsecureRequests] }
        : undefined,
    );
    discovered.set(settings.issuer, found);
    found.catch(() => discovered.delete(settings.issuer));
  }
  return found.catch((error: unknown) => {
    log.warn("Could not reach the OpenID Connect provider {issuer}: {error}", {
      issuer: settings.issuer,
      error,
    });
    throw new CliqueError("unavailable", "The single sign-on provider cannot be reached now", {
      cause: error,
    });
  });
}

function cookieBase(config: Config) {
  return {
    httpOnly: true,
    sameSite: "Lax" as const,
    secure: config.origin.startsWith("https:"),
  };
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** The signed cookie's object if the signature holds and it has not expired. */
async function readSigned(
  c: Context<AppEnv>,
  name: string,
): Promise<Record<string, unknown> | null> {
  const secret = await c.get("services").clique.oidcStateSecret();
  const raw = await getSignedCookie(c, secret, name);
  if (!raw) return null;
  try {
    const value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as unknown;
    if (typeof value !== "object" || value === null) return null;
    const exp = (value as { exp?: unknown }).exp;
    if (typeof exp !== "number" || exp < Date.now() / 1000) return null;
    return value as Record<string, unknown>;
  } catch {
    return null;
  }
}

const returnTo = z
  .string()
  .max(1000)
  // A path of this site: not `//host`, not `/\host` (browsers read both as another site),
  // no spaces, backslashes or control characters.
  .refine(
    (path) =>
      /^\/(?![/\\])/.test(path) &&
      ![...path].some((ch) => ch === "\\" || ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f),
    "must be a path on this site",
  );

const startQuery = z.object({
  intent: z.enum(["signin", "link", "signup"]).default("signin"),
  invite: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "must be an invite code")
    .optional(),
  return_to: returnTo.optional(),
});

const flowShape = z.object({
  state: z.string().min(1),
  nonce: z.string().min(1),
  verifier: z.string().min(1),
  intent: z.enum(["signin", "link", "signup"]),
  invite: z.string().nullable(),
  returnTo: z.string().nullable(),
  memberId: z.string().nullable(),
  exp: z.number(),
});

/** `/auth/oidc`: the redirects to and from the provider. */
export const oidcAuth = new Hono<AppEnv>();

// The session cookie names who links an identity.
oidcAuth.use("*", authentication());

oidcAuth.get("/start", async (c) => {
  const settings = settingsOf(c);
  const { config, clique } = c.get("services");
  const query = validate(startQuery, c.req.query());
  if (query.intent === "signup" && !query.invite)
    throw new CliqueError("invalid_input", "Joining through single sign-on needs an invite code");
  let memberId: string | null = null;
  if (query.intent === "link") {
    const member = requireMember(c);
    // A bearer token cannot start a browser flow: only the web session links.
    if (c.get("authKind") !== "session")
      throw new CliqueError("unauthorized", "Sign in on the web to link an identity");
    memberId = member.id;
  }
  const provider = await providerConfig(config, settings);
  const flow: Flow = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    intent: query.intent,
    invite: query.intent === "signup" ? (query.invite ?? null) : null,
    returnTo: query.intent === "signin" ? (query.return_to ?? null) : null,
    memberId,
    exp: Math.floor(Date.now() / 1000) + FLOW_TTL_S,
  };
  const url = client.buildAuthorizationUrl(provider, {
    redirect_uri: `${config.origin}${FLOW_PATH}/callback`,
    scope: "openid email",
    response_type: "code",
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: "S256",
    state: flow.state,
    nonce: flow.nonce,
  });
  await setSignedCookie(c, FLOW_COOKIE, encode(flow), await clique.oidcStateSecret(), {
    ...cookieBase(config),
    path: FLOW_PATH,
    maxAge: FLOW_TTL_S,
  });
  return c.redirect(url.href, 302);
});

/** Where a failed attempt sends the browser back to, by what was attempted. */
function failurePage(intent: Flow["intent"], error: string): string {
  return intent === "link" ? `/settings?error=${error}` : `/signin?error=${error}`;
}

/** The address a provider vouches for (shown to the member only, never used to sign in). */
function emailOf(claims: Record<string, unknown>): string | null {
  return typeof claims.email === "string" && claims.email_verified !== false
    ? claims.email.slice(0, 320)
    : null;
}

/** Providers that keep the ID token lean give the address at the UserInfo endpoint; without it, none. */
async function userInfoEmail(
  provider: client.Configuration,
  accessToken: string,
  subject: string,
): Promise<string | null> {
  if (!provider.serverMetadata().userinfo_endpoint) return null;
  try {
    return emailOf(await client.fetchUserInfo(provider, accessToken, subject));
  } catch (error) {
    log.info("No address from the provider's UserInfo endpoint: {error}", { error });
    return null;
  }
}

oidcAuth.get("/callback", async (c) => {
  const settings = settingsOf(c);
  const { config, clique } = c.get("services");
  const parsed = flowShape.safeParse(await readSigned(c, FLOW_COOKIE));
  // The flow is single-use, whatever happens next.
  deleteCookie(c, FLOW_COOKIE, { ...cookieBase(config), path: FLOW_PATH });
  const state = c.req.query("state");
  if (!parsed.success || state === undefined || state !== parsed.data.state)
    throw new CliqueError(
      "invalid_input",
      "This sign-in was not started here or has expired: start again",
    );
  const flow: Flow = parsed.data;
  if (c.req.query("error") !== undefined) {
    // The person cancelled at the provider, or the provider refused.
    log.info("The provider ended a sign-in: {error}", { error: c.req.query("error") });
    return c.redirect(failurePage(flow.intent, "oidc_failed"), 302);
  }
  const provider = await providerConfig(config, settings);
  // The URL as the provider was told to send the browser to (this server may sit behind a proxy).
  const current = new URL(`${config.origin}${FLOW_PATH}/callback`);
  current.search = new URL(c.req.url).search;
  let identity: VerifiedIdentity;
  try {
    const tokens = await client.authorizationCodeGrant(provider, current, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error("no ID token");
    identity = {
      issuer: claims.iss,
      subject: claims.sub,
      email: emailOf(claims) ?? (await userInfoEmail(provider, tokens.access_token, claims.sub)),
    };
  } catch (error) {
    log.warn("A single sign-on could not be completed: {error}", { error });
    return c.redirect(failurePage(flow.intent, "oidc_failed"), 302);
  }

  switch (flow.intent) {
    case "signin": {
      const result = await clique.signInWithIdentity(identity, sessionName(c));
      if (!result.ok) {
        const error = result.reason === "unknown_identity" ? "oidc_unknown" : "account_disabled";
        return c.redirect(`/signin?error=${error}`, 302);
      }
      setSessionCookie(c, result.value.token);
      return c.redirect(flow.returnTo ?? "/home", 302);
    }
    case "link": {
      const member = c.get("member");
      // Came back as someone else, or signed out meanwhile: link nothing.
      if (!member || member.id !== flow.memberId || c.get("authKind") !== "session")
        return c.redirect("/settings?error=oidc_failed", 302);
      const result = await clique.linkIdentity(member, identity);
      if (!result.ok) return c.redirect("/settings?error=oidc_taken", 302);
      return c.redirect("/settings?linked=oidc", 302);
    }
    case "signup": {
      const invite = flow.invite ?? "";
      const pending: Pending = {
        ...identity,
        invite,
        exp: Math.floor(Date.now() / 1000) + PENDING_TTL_S,
      };
      await setSignedCookie(c, PENDING_COOKIE, encode(pending), await clique.oidcStateSecret(), {
        ...cookieBase(config),
        path: PENDING_PATH,
        maxAge: PENDING_TTL_S,
      });
      return c.redirect(`/invite/${encodeURIComponent(invite)}?oidc=1`, 302);
    }
  }
});

const pendingShape = z.object({
  issuer: z.string().min(1),
  subject: z.string().min(1),
  email: z.string().nullable(),
  invite: z.string(),
  exp: z.number(),
});

/**
 * The identity proven for joining with this invite code (`oidc: true` on the
 * redemption), or a 422 saying to sign in with the provider again.
 */
export async function pendingIdentity(
  c: Context<AppEnv>,
  invite: string,
): Promise<VerifiedIdentity> {
  settingsOf(c);
  const parsed = pendingShape.safeParse(await readSigned(c, PENDING_COOKIE));
  if (!parsed.success || parsed.data.invite !== invite.trim())
    throw problem(
      "oidc_required",
      "No single sign-on for this invite is waiting (or it expired): sign in with the provider again",
    );
  return { issuer: parsed.data.issuer, subject: parsed.data.subject, email: parsed.data.email };
}

/** Forgets the held identity once it was used. */
export function clearPendingIdentity(c: Context<AppEnv>): void {
  deleteCookie(c, PENDING_COOKIE, {
    ...cookieBase(c.get("services").config),
    path: PENDING_PATH,
  });
}

function serializeIdentity(identity: OidcIdentity) {
  return {
    id: identity.id,
    issuer: identity.issuer,
    email: identity.email,
    created_at: identity.createdAt.toISOString(),
  };
}

/** `/api/v1/clique/oidc`: whether single sign-on is offered, and a member's linked identities. */
export const oidcApi = new Hono<AppEnv>();

oidcApi.get("/", (c) => {
  const settings = c.get("services").config.oidc;
  return c.json({ enabled: settings !== null, name: settings?.name ?? null });
});

oidcApi.get("/identities", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  return c.json((await clique.listIdentities(member)).map(serializeIdentity));
});

oidcApi.delete("/identities/:id", async (c) => {
  const member = requireMember(c);
  const { clique, config } = c.get("services");
  // The last identity goes only with the member's password (see core's unlinkIdentity).
  const input = validate(
    z.object({ password: z.string().max(256).optional() }).strict(),
    await readBody(c),
  );
  const result = await clique.unlinkIdentity(member, c.req.param("id"), {
    password: input.password,
    ip: throttleKey(clientAddress(c, config.trustedProxies)),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json({ ok: true });
});
