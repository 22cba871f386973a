/**
 * Remote moderation at the door: a blocked server (or a suspended account)
 * is turned away before Fedify reads, verifies or queues anything of its
 * requests, so nothing of it is fetched, stored or processed.
 *
 * - An inbox POST whose signature's key, or whose activity's actor, belongs
 *   to a blocked server or a suspended account: **403**.
 * - A signed GET (ActivityPub objects and collections, actors, media) whose
 *   key belongs to one: **404**, as for something that does not exist.
 *
 * It judges by what the request claims, before the signature is checked:
 * a claim can only get its claimant refused, which it could do by itself.
 * Requests that pass are still judged after verification (core's inbox and
 * visibility rules), by the same decisions.
 */
import { hostOfUrl } from "@clique/core";
import { getLogger } from "@logtape/logtape";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

const log = getLogger(["clique", "http", "moderation"]);

const INBOX_PATH = /^\/(?:users\/[^/]+\/)?inbox$/;
/** Paths never signed by servers (the client API). */
const NOT_FEDERATED = ["/api/"];

/** The key ids a request's signatures name: draft-cavage `Signature`, RFC 9421 `Signature-Input`. */
export function signatureKeyIds(headers: Headers): string[] {
  const ids: string[] = [];
  for (const header of ["signature", "signature-input"]) {
    const value = headers.get(header);
    if (!value) continue;
    for (const m of value.matchAll(/keyid\s*=\s*"([^"]*)"/gi)) ids.push(m[1]!);
  }
  return ids;
}

/** The actor an activity says it is from (`actor` as a string, an object's `id`, or the first of a list). */
export function claimedActor(body: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (!json || typeof json !== "object") return null;
  let actor = (json as { actor?: unknown }).actor;
  if (Array.isArray(actor)) actor = actor[0];
  if (typeof actor === "string") return actor;
  if (actor && typeof actor === "object" && typeof (actor as { id?: unknown }).id === "string")
    return (actor as { id: string }).id;
  return null;
}

/** The document a key id names (`…/users/x#main-key` is `…/users/x`): its owner, as far as the id says. */
function keyOwner(keyId: string): string | null {
  if (!hostOfUrl(keyId)) return null;
  const url = new URL(keyId);
  url.hash = "";
  return url.href;
}

/** Refuses blocked servers and suspended accounts before Fedify sees their requests. */
export function remoteRefusal(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    const inbox = method === "POST" && INBOX_PATH.test(path);
    const signedRead =
      (method === "GET" || method === "HEAD") &&
      !NOT_FEDERATED.some((prefix) => path.startsWith(prefix));
    if (!inbox && !signedRead) return next();
    const keyIds = signatureKeyIds(c.req.raw.headers);
    if (!inbox && keyIds.length === 0) return next();
    const claimed = keyIds.map(keyOwner);
    if (inbox) claimed.push(claimedActor(await c.req.raw.clone().text()));
    const standing = c.get("services").clique.remoteModeration.standing;
    for (const uri of claimed) {
      if (!uri || (await standing.ofActor({ uri })) !== "blocked") continue;
      log.debug("Refused {method} {path} from {uri}: its server is blocked or it is suspended", {
        method,
        path,
        uri,
      });
      return inbox
        ? c.json({ error: "Activities from there are not accepted here", code: "forbidden" }, 403)
        : c.json({ error: "Record not found", code: "not_found" }, 404);
    }
    return next();
  };
}
