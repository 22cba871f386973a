/**
 * Media URLs that name who they were given to. A photo of a post that is not
 * public is served only to someone the visibility module lets see that post.
 * Browsers of members send their session; but Mastodon apps load images
 * without their token, and Mastodon servers fetch attachments unsigned. So a
 * URL handed to a viewer carries a grant: the viewer it was given to (a
 * member, a remote actor, or a remote server), signed with the server's
 * secret. Each fetch checks again that *that* viewer may still see the post:
 * someone taken out of a circle loses the photo as they lose the post. Anyone
 * holding the URL acts as its grantee, so it is as private as the viewer keeps it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Viewer } from "../visibility/visibility.ts";

/** Who a media URL was given to. */
export type MediaGrantee =
  | { kind: "member"; actorId: string }
  | { kind: "remote"; actorId: string }
  | { kind: "server"; host: string };

/** The grantee of a viewer: `null` for anonymous viewers (they get plain URLs, for public media only). */
export function granteeOf(viewer: Viewer): MediaGrantee | null {
  switch (viewer.kind) {
    case "anonymous":
    // A hypothetical viewer is nobody: it gets the plain URLs of public media.
    case "hypothetical":
      return null;
    case "member":
      return { kind: "member", actorId: viewer.actorId };
    case "remote":
      return { kind: "remote", actorId: viewer.actorId };
    case "server":
      return { kind: "server", host: viewer.host.toLowerCase() };
    default: {
      const unreachable: never = viewer;
      throw new Error(`unknown viewer ${JSON.stringify(unreachable)}`);
    }
  }
}

function encode(grantee: MediaGrantee): string {
  return grantee.kind === "server"
    ? `s:${grantee.host}`
    : `${grantee.kind === "member" ? "m" : "r"}:${grantee.actorId}`;
}

function sign(secret: string, key: string, granteeText: string): string {
  return createHmac("sha256", secret)
    .update(`${key}\n${granteeText}`)
    .digest("base64url")
    .slice(0, 32);
}

/** The query string of a media URL for `grantee` (empty for anyone: public media). */
export function grantQuery(secret: string, key: string, grantee: MediaGrantee | null): string {
  if (grantee === null) return "";
  const g = encode(grantee);
  return `?for=${encodeURIComponent(g)}&sig=${sign(secret, key, g)}`;
}

/**
 * The viewer a media URL's grant names, if its signature is right; `null`
 * when there is no grant or it was not made here for this file.
 */
export function viewerOfGrant(
  secret: string,
  key: string,
  forParam: string | undefined,
  sig: string | undefined,
): Viewer | null {
  if (!forParam || !sig) return null;
  const expected = Buffer.from(sign(secret, key, forParam));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  const [kind, ...rest] = forParam.split(":");
  const value = rest.join(":");
  if (!value) return null;
  // A member's grant stands for an ordinary member: roles never widen what a post shows.
  if (kind === "m") return { kind: "member", actorId: value, role: "member" };
  if (kind === "r") return { kind: "remote", actorId: value };
  if (kind === "s") return { kind: "server", host: value };
  return null;
}
