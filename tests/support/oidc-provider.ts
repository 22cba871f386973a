/**
 * A real OpenID Connect provider for the tests: `oidc-provider` on loopback
 * (plain http, which a Clique accepts only with CLIQUE_ALLOW_PRIVATE_ADDRESS
 * on), with one confidential client for the Clique. Its login and consent are
 * answered by the test's own interaction handler: at once, as whichever
 * subject the scenario names, or (`loginPage`) with a tiny page whose
 * "Continue" button a real browser presses.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import type { Cleanup } from "./sites.ts";

/** A provider listening on loopback; built (`attach`) once the Clique's origin is known. */
export interface IdentityProvider {
  /** `http://127.0.0.1:PORT`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Who the provider signs in next (the test plays the person at the provider's login page). */
  subject: string;
  /** The Clique's configuration for this provider, shown to members under `name`. */
  env(name: string): Record<string, string>;
  /** Registers the Clique at `origin` as the client and starts answering. */
  attach(origin: string): void;
}

const CLIENT_ID = "clique-test";
const CLIENT_SECRET = "a-client-secret-for-the-test-only";

/**
 * Listens first: the provider's port must be known before the Clique starts
 * (its issuer is configuration), and the Clique's before the provider is
 * built (the client's redirect URI).
 */
export async function startIdentityProvider(options: {
  cleanup: Cleanup;
  /** Show a login page with a "Continue" button (for a real browser) instead of signing in at once. */
  loginPage?: boolean;
}): Promise<IdentityProvider> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  options.cleanup.unshift(() => new Promise((resolve) => server.close(resolve)));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const idp: IdentityProvider = {
    issuer,
    clientId: CLIENT_ID,
    subject: "nobody",
    env: (name) => ({
      CLIQUE_OIDC_ISSUER: issuer,
      CLIQUE_OIDC_CLIENT_ID: CLIENT_ID,
      CLIQUE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      CLIQUE_OIDC_NAME: name,
    }),
    attach(origin) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            redirect_uris: [`${origin}/auth/oidc/callback`],
            grant_types: ["authorization_code"],
            response_types: ["code"],
            token_endpoint_auth_method: "client_secret_post",
          },
        ],
        findAccount: (_ctx, id) => ({
          accountId: id,
          claims: () => ({ sub: id, email: `${id}@idp.test`, email_verified: true }),
        }),
        claims: { openid: ["sub"], email: ["email", "email_verified"] },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        features: { devInteractions: { enabled: false } },
        pkce: { required: () => true },
        cookies: { keys: ["a-cookie-key-for-the-test-only"] },
      });
      const callback = provider.callback();
      handler = (req, res) => {
        if (!req.url?.startsWith("/interaction/")) return void callback(req, res);
        interact(provider, idp, options.loginPage ?? false, req, res).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
      };
    },
  };
  return idp;
}

/** The provider's login and consent: consent is always granted; login as `idp.subject`, or as the page says. */
async function interact(
  provider: Provider,
  idp: IdentityProvider,
  loginPage: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === "login") {
    if (!loginPage) {
      await provider.interactionFinished(req, res, { login: { accountId: idp.subject } });
      return;
    }
    if (req.method !== "POST") {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(loginHtml(details.uid, idp.subject));
      return;
    }
    const account = new URLSearchParams(await bodyOf(req)).get("account")?.trim();
    await provider.interactionFinished(req, res, { login: { accountId: account || idp.subject } });
    return;
  }
  const grant = new provider.Grant({
    accountId: details.session!.accountId,
    clientId: String(details.params.client_id),
  });
  const missing = details.prompt.details as { missingOIDCScope?: string[] };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}

/** The provider's login page: who to be, and "Continue". */
function loginHtml(uid: string, subject: string): string {
  const attr = (s: string) =>
    s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><main>
<h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${attr(uid)}">
<label for="account">Account</label>
<input id="account" name="account" value="${attr(subject)}">
<button type="submit">Continue</button>
</form>
</main></body>
</html>
`;
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
