/**
 * `/oauth/token`, `/oauth/revoke` and the authorization server's metadata.
 *
 * The token endpoint is `@node-oauth/oauth2-server`'s: it authenticates the
 * client (HTTP Basic or the body), runs the grant, checks PKCE (S256 only:
 * `plain` protects nothing once the authorization request leaks) and uses
 * each code once, through a model that stores everything in core's stores
 * (hashed). Grants: `authorization_code` and `client_credentials`. No
 * refresh tokens: like Mastodon's, tokens do not expire, so there is nothing
 * to refresh. The password grant is not offered (apps never see passwords).
 */
import type { Clique, Member, OAuthApp } from "@clique/core";
import { parseScopes, SCOPES, type Scope, scopesWithin } from "@clique/core";
import OAuth2Server from "@node-oauth/oauth2-server";
import { type Context, Hono } from "hono";
import { checkInput } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";

/** A client as the library sees it: our app, by its id. */
interface LibClient extends OAuth2Server.Client {
  id: string;
  app: OAuthApp;
}

/** A "user" as the library sees it: the member, or nobody for an app's own token. */
interface LibUser extends OAuth2Server.User {
  member: Member | null;
}

const GRANTS = ["authorization_code", "client_credentials"];

function toClient(app: OAuthApp): LibClient {
  return { id: app.id, app, grants: GRANTS, redirectUris: [...app.redirectUris] };
}

/** The library's model over the Clique's use cases. */
function createModel(
  clique: Clique,
): OAuth2Server.AuthorizationCodeModel & OAuth2Server.ClientCredentialsModel {
  return {
    async getClient(clientId: string, clientSecret: string | null | undefined) {
      const app = await clique.findClientApp(clientId, clientSecret ?? null);
      return app ? toClient(app) : false;
    },
    async getAuthorizationCode(code: string) {
      const found = await clique.findAuthorizationCode(code);
      if (!found) return false;
      const { app } = found;
      return {
        authorizationCode: code,
        codeId: found.code.id,
        expiresAt: found.code.expiresAt,
        redirectUri: found.code.redirectUri,
        scope: [...found.code.scopes],
        client: toClient(app),
        user: { member: found.member } satisfies LibUser,
        ...(found.code.codeChallenge
          ? {
              codeChallenge: found.code.codeChallenge,
              codeChallengeMethod: found.code.codeChallengeMethod ?? "S256",
            }
          : {}),
      };
    },
    // Used before PKCE is checked, so that a wrong verifier also spends the code.
    revokeAuthorizationCode(code: OAuth2Server.AuthorizationCode) {
      return clique.useAuthorizationCode(code.codeId as string);
    },
    // Codes are made by `/oauth/authorize` (authorize.ts), not by the library.
    async saveAuthorizationCode() {
      return false;
    },
    async getUserFromClient() {
      return { member: null } satisfies LibUser;
    },
    async validateScope(_user: OAuth2Server.User, client: OAuth2Server.Client, scope?: string[]) {
      const scopes = parseScopes(scope ?? null);
      if (!scopes || !scopesWithin((client as LibClient).app.scopes, scopes)) return false;
      return scopes;
    },
    async saveToken(
      token: OAuth2Server.Token,
      client: OAuth2Server.Client,
      user: OAuth2Server.User,
    ) {
      const issued = await clique.issueAppToken({
        app: (client as LibClient).app,
        member: (user as LibUser).member,
        scopes: (token.scope ?? []) as Scope[],
      });
      return {
        accessToken: issued.token,
        scope: token.scope ?? [],
        client,
        user,
        // Mastodon's Token entity carries its creation time (seconds).
        created_at: Math.floor(issued.createdAt.getTime() / 1000),
      };
    },
    // Bearer tokens are resolved by http/auth.ts, not by the library.
    async getAccessToken() {
      return false;
    },
  };
}

const servers = new WeakMap<Clique, OAuth2Server>();

function serverFor(clique: Clique): OAuth2Server {
  let server = servers.get(clique);
  if (!server) {
    server = new OAuth2Server({
      model: createModel(clique),
      // Required by the library; tokens are stored without an expiry (Mastodon's never expire).
      accessTokenLifetime: 60 * 60 * 24 * 365 * 10,
      refreshTokenLifetime: 60 * 60 * 24 * 365 * 10,
      allowExtendedTokenAttributes: true,
      allowEmptyState: true,
    });
    servers.set(clique, server);
  }
  return server;
}

/** The form fields of a token or revocation request: form-encoded, JSON or multipart (clients send all three). */
async function readFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  let raw: Record<string, unknown> = {};
  try {
    if (type.includes("application/json")) {
      const parsed = await c.req.json();
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) raw = parsed;
    } else if (
      type.includes("application/x-www-form-urlencoded") ||
      type.includes("multipart/form-data")
    ) {
      raw = await c.req.parseBody();
    } else {
      raw = Object.fromEntries(new URLSearchParams(await c.req.text()));
    }
  } catch {
    raw = {};
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string") fields[key] = value;
    else if (typeof value === "number") fields[key] = String(value);
  }
  // NUL bytes, lone surrogates and the like: refused as everywhere else (a 422).
  checkInput(fields);
  return fields;
}

function oauthError(c: Context<AppEnv>, status: number, error: string, description: string) {
  c.header("Cache-Control", "no-store");
  // `code` as on every error of this API (the OAuth `error` is one already).
  return c.json({ error, error_description: description, code: error }, status as 400);
}

/** The client credentials of a request: HTTP Basic, or `client_id`/`client_secret` fields. */
function clientCredentials(
  c: Context<AppEnv>,
  fields: Record<string, string>,
): { id: string; secret: string } | null {
  const header = c.req.header("authorization");
  const basic = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  }
  if (fields.client_id && fields.client_secret)
    return { id: fields.client_id, secret: fields.client_secret };
  return null;
}

/** Mounted at `/oauth`. */
export const tokenApi = new Hono<AppEnv>();

tokenApi.post("/token", async (c) => {
  const { clique } = c.get("services");
  const fields = await readFields(c);
  if (fields.grant_type === "password" || fields.grant_type === "refresh_token")
    return oauthError(
      c,
      400,
      "unsupported_grant_type",
      "The authorization grant type is not supported by the authorization server.",
    );
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, key) => {
    headers[key] = value;
  });
  // The library reads a form body; whatever the client sent has been read into `fields`.
  headers["content-type"] = "application/x-www-form-urlencoded";
  headers["content-length"] = "1";
  const request = new OAuth2Server.Request({ method: "POST", headers, query: {}, body: fields });
  const response = new OAuth2Server.Response({ headers: {} });
  try {
    await serverFor(clique).token(request, response);
  } catch (error) {
    if (error instanceof OAuth2Server.OAuthError) {
      for (const [key, value] of Object.entries(response.headers ?? {}))
        if (key.toLowerCase() === "www-authenticate") c.header("WWW-Authenticate", String(value));
      // RFC 6749 §5.2: a redirect URI that differs from the authorization request's is invalid_grant.
      const name =
        /redirect_uri/.test(error.message) && error.name === "invalid_request"
          ? "invalid_grant"
          : error.name;
      return oauthError(c, error.code, name, error.message);
    }
    throw error;
  }
  const body = response.body as Record<string, unknown>;
  c.header("Cache-Control", "no-store");
  c.header("Pragma", "no-cache");
  return c.json({
    access_token: body.access_token,
    token_type: "Bearer",
    scope: body.scope,
    created_at: body.created_at,
  });
});

tokenApi.post("/revoke", async (c) => {
  const { clique } = c.get("services");
  const fields = await readFields(c);
  const credentials = clientCredentials(c, fields);
  const app = credentials ? await clique.findClientApp(credentials.id, credentials.secret) : null;
  if (!app)
    return oauthError(
      c,
      401,
      "invalid_client",
      "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    );
  if (!fields.token) return oauthError(c, 400, "invalid_request", "Missing parameter: `token`");
  const outcome = await clique.revokeAppToken(app, fields.token);
  if (outcome === "not_owner")
    return oauthError(c, 403, "unauthorized_client", "You are not authorized to revoke this token");
  c.header("Cache-Control", "no-store");
  return c.json({});
});

/** What the server's OAuth endpoints are (RFC 8414), as Mastodon 4.3 answers. */
export function authorizationServerMetadata(origin: string) {
  return {
    issuer: `${origin}/`,
    service_documentation: "https://docs.joinmastodon.org/",
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    app_registration_endpoint: `${origin}/api/v1/apps`,
    scopes_supported: [...SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [...GRANTS],
    code_challenge_methods_supported: ["S256"],
    // `none`: an app may exchange a code with PKCE alone, as a public client (RFC 8252).
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
  };
}
