/**
 * Clique's User-Agent on every outgoing request. Fedify's `userAgent` option
 * reaches its document loaders (fetches of actors, objects, WebFinger,
 * NodeInfo), but Fedify 2.3.6 builds the POST of an activity delivery without
 * one, so deliveries went out as `User-Agent: node`. Fedify calls the global
 * `fetch`; wrapping it is the one place every request passes through.
 */
import { getUserAgent } from "@fedify/fedify";

/** Clique's User-Agent, formatted as Fedify formats it: `Clique/VERSION (Fedify/…; Node.js/…; +ORIGIN)`. */
export function cliqueUserAgent(version: string, origin: string): string {
  return getUserAgent({ software: `Clique/${version}`, url: new URL(origin) });
}

/** `fetch`, adding `userAgent` to requests that carry no `User-Agent` of their own. */
export function withUserAgent(fetchImpl: typeof fetch, userAgent: string): typeof fetch {
  return (input, init) => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    if (headers.has("user-agent")) return fetchImpl(input, init);
    headers.set("user-agent", userAgent);
    return fetchImpl(input, { ...init, headers });
  };
}

/**
 * Makes the process's `fetch` add `userAgent` where a request has none.
 * Returns a function that puts the previous `fetch` back.
 */
export function installUserAgent(userAgent: string): () => void {
  const previous = globalThis.fetch;
  const wrapped = withUserAgent(previous, userAgent);
  globalThis.fetch = wrapped;
  return () => {
    // Only if nobody wrapped it again since.
    if (globalThis.fetch === wrapped) globalThis.fetch = previous;
  };
}
