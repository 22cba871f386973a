/**
 * Clique's User-Agent, and a time limit, on every outgoing request. Fedify's
 * `userAgent` option reaches its document loaders (fetches of actors, objects,
 * WebFinger, NodeInfo), but Fedify 2.3.6 builds the POST of an activity
 * delivery without one, so deliveries went out as `User-Agent: node`; and
 * nothing limits how long a remote server may keep a request open (Node gives
 * up waiting for headers only after 300 s), during which a delivery holds a
 * worker's slot. Fedify calls the global `fetch`; wrapping it is the one place
 * every request passes through.
 */
import { getUserAgent } from "@fedify/fedify";

/** Clique's User-Agent, formatted as Fedify formats it: `Clique/VERSION (Fedify/…; Node.js/…; +ORIGIN)`. */
export function cliqueUserAgent(version: string, origin: string): string {
  return getUserAgent({ software: `Clique/${version}`, url: new URL(origin) });
}

/** How long an outgoing request may take, answer included, unless it says otherwise. */
export const OUTGOING_TIMEOUT_MS = 60_000;

/**
 * `fetch`, adding `userAgent` to requests that carry no `User-Agent` of their
 * own, and giving up after `timeoutMs` (on top of any signal of the caller's).
 */
export function withUserAgent(
  fetchImpl: typeof fetch,
  userAgent: string,
  timeoutMs = OUTGOING_TIMEOUT_MS,
): typeof fetch {
  return (input, init) => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    if (!headers.has("user-agent")) headers.set("user-agent", userAgent);
    const callers = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callers ? AbortSignal.any([callers, timeout]) : timeout;
    return fetchImpl(input, { ...init, headers, signal });
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
