/**
 * ActivityPub, WebFinger and NodeInfo share the origin and port with the API
 * and (later) the web pages: Fedify answers what is for it, content
 * negotiation decides, and everything else falls through to the next handler.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

/** Hands requests to Fedify first; falls through on "not found" and "not acceptable". */
export function federationMiddleware(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { clique, config } = c.get("services");
    const federation = clique.federation;
    // The API, static files and the health check are never ActivityPub.
    const path = c.req.path;
    if (
      !federation ||
      path.startsWith("/api/") ||
      path.startsWith("/static/") ||
      path === "/health"
    )
      return next();
    // Behind a proxy the request arrives for an inner address: Fedify must see
    // the public URL, which signatures and object ids are made of.
    const incoming = new URL(c.req.url);
    const request = new Request(
      new URL(incoming.pathname + incoming.search, config.origin),
      c.req.raw,
    );
    let fallThrough = false;
    const response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => {
        fallThrough = true;
        return new Response(null, { status: 404 });
      },
      onNotAcceptable: () => {
        fallThrough = true;
        return new Response(null, { status: 406 });
      },
      // What a viewer may not see does not exist for them.
      onUnauthorized: () => new Response("Not Found", { status: 404 }),
    });
    if (fallThrough) return next();
    return response;
  };
}
