import { timingSafeEqual } from "node:crypto";
import { hashSecret, randomSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import { type OAuthApp, OOB_REDIRECT_URI, parseScopes } from "../domain/oauth.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";

/** Why `registerApp` refused. */
export type RegisterAppProblem = "invalid_redirect_uri" | "invalid_scope" | "invalid_website";

/** What an app sends to register (`POST /api/v1/apps`). */
export interface RegisterAppInput {
  name: string;
  /** One or several; Mastodon also accepts them newline-separated in one string. */
  redirectUris: string | readonly string[];
  /** Space-separated; `read` when absent. */
  scopes?: string | null;
  website?: string | null;
}

/** At most this many redirect URIs per app. */
const MAX_REDIRECT_URIS = 20;

/**
 * Whether a redirect URI may be registered: absolute, without a fragment
 * (RFC 6749 §3.1.2), and not a script or data URI. Custom schemes
 * (`tusky://oauth`) are what native apps use, so any other scheme is fine.
 */
function acceptableRedirect(uri: string): boolean {
  if (uri === OOB_REDIRECT_URI) return true;
  if (uri.length > 2000) return false;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.hash !== "" || uri.includes("#")) return false;
  return !["javascript:", "data:", "vbscript:", "file:"].includes(url.protocol);
}

/**
 * Registers a client app. The client secret is returned once and kept only
 * as a hash; the client id is public.
 */
export async function registerApp(
  deps: Deps,
  input: RegisterAppInput,
): Promise<Result<{ app: OAuthApp; clientSecret: string }, RegisterAppProblem>> {
  const uris = (typeof input.redirectUris === "string" ? [input.redirectUris] : input.redirectUris)
    .flatMap((u) => u.split(/[\r\n]+/))
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  if (uris.length === 0 || uris.length > MAX_REDIRECT_URIS || !uris.every(acceptableRedirect))
    return fail("invalid_redirect_uri", "Redirect URI must be an absolute URI.");
  const scopes = parseScopes(input.scopes);
  if (!scopes)
    return fail("invalid_scope", "The requested scope is invalid, unknown, or malformed.");
  const website = input.website?.trim() || null;
  if (website !== null) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(website).protocol);
    } catch {}
    if (!ok) return fail("invalid_website", "Website must be an http or https URL.");
  }
  const clientSecret = randomSecret(32);
  const app: OAuthApp = {
    id: newId(),
    clientId: randomSecret(32),
    name: input.name.trim(),
    website,
    redirectUris: [...new Set(uris)],
    scopes,
    createdAt: deps.now(),
  };
  await deps.stores.oauth.createApp({ ...app, clientSecretHash: hashSecret(clientSecret) });
  return ok({ app, clientSecret });
}

/**
 * The app with this client id. With a secret, only if the secret is right
 * (compared in constant time); without one (`null`), the app as a public
 * client (authorization requests, PKCE exchanges).
 */
export async function findClientApp(
  deps: Deps,
  clientId: string,
  clientSecret: string | null,
): Promise<OAuthApp | null> {
  // Client ids are ours: URL-safe base64. Anything else names no app.
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(clientId)) return null;
  const found = await deps.stores.oauth.findApp(clientId);
  if (!found) return null;
  const { clientSecretHash, ...app } = found;
  if (clientSecret === null) return app;
  const given = Buffer.from(hashSecret(clientSecret));
  const expected = Buffer.from(clientSecretHash);
  return given.length === expected.length && timingSafeEqual(given, expected) ? app : null;
}
