/**
 * One signed GET, signed once and replayed: the headers a Mastodon server
 * would send for an ActivityPub GET (draft-cavage, `rsa-sha256`, over
 * `(request-target) host date accept`), to hand to `wrk -H` unchanged.
 * Before a figure is measured, {@link checkReplay} makes sure the server
 * accepts the same headers twice, so throughput is never made of refusals.
 */
import { signAsDraftToRequest } from "@misskey-dev/node-http-message-signatures";
import type { Signer } from "../../support/mastodon-signing.ts";

/** What Mastodon's ActivityPub GETs accept. */
export const ACTIVITY_ACCEPT = "application/activity+json, application/ld+json";

/**
 * The headers of a GET of `url` signed as `signer` (no `host`: wrk and fetch
 * send the URL's own, which is the one signed).
 */
export async function signedGetHeaders(
  url: string,
  signer: Signer,
): Promise<Record<string, string>> {
  const target = new URL(url);
  const headers: Record<string, string> = {
    host: target.host,
    date: new Date().toUTCString(),
    accept: ACTIVITY_ACCEPT,
  };
  await signAsDraftToRequest(
    { url: target.href, method: "GET", headers },
    { keyId: signer.keyId, privateKeyPem: signer.privateKeyPem },
    ["(request-target)", "host", "date", "accept"],
  );
  const { host: _host, ...rest } = headers;
  return rest;
}

/**
 * GETs `url` with `headers` twice (the second a replay of the first) and
 * throws unless both answer `expected`; returns the second answer's body.
 */
export async function checkReplay(
  url: string,
  headers: Record<string, string>,
  expected = 200,
): Promise<string> {
  let text = "";
  for (const attempt of ["first", "replayed"]) {
    const response = await fetch(url, { headers });
    text = await response.text();
    if (response.status !== expected)
      throw new Error(
        `${attempt} GET ${url} answered ${response.status}, not ${expected}: ${text.slice(0, 300)}`,
      );
  }
  return text;
}
