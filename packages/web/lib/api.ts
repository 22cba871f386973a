/**
 * Server-side reads for the pages: every page asks Clique's own API, over
 * loopback, as the visitor (their session cookie is passed on), so the
 * visibility module decides what a page shows exactly as it does for apps.
 */
import { cookies, headers } from "next/headers";
import { cache } from "react";
import type { CredentialAccount } from "./types";

/** Name of the session cookie the server sets at sign-in. */
export const SESSION_COOKIE = "clique_session";

/** Where this process's API answers (set by the server that runs the pages). */
function internalUrl(): string {
  return process.env.CLIQUE_INTERNAL_URL ?? "http://127.0.0.1:3000";
}

/** The result of a read: the body, or the status it failed with. */
export type ApiResult<T> =
  | { ok: true; data: T; link: string | null }
  | { ok: false; status: number };

/**
 * The visitor's credentials, as the API takes them: the session cookie of a
 * browser, or the bearer token of an app opening a page.
 */
async function credentials(): Promise<Record<string, string>> {
  const authorization = (await headers()).get("authorization");
  if (authorization) return { authorization };
  const session = (await cookies()).get(SESSION_COOKIE)?.value;
  // A cookie that is no token the server could have set (hand-made, or garbled) is no one.
  return session && /^[A-Za-z0-9._~-]{1,512}$/.test(session)
    ? { cookie: `${SESSION_COOKIE}=${session}` }
    : {};
}

/** Reads `path` of the API as the visitor (once per page render: layout and page share it). */
export const apiGet = cache(async function apiGet<T>(path: string): Promise<ApiResult<T>> {
  const response = await fetch(new URL(path, internalUrl()), {
    headers: { accept: "application/json", ...(await credentials()) },
    cache: "no-store",
  });
  if (!response.ok) {
    // Read the error body rather than awaiting `cancel()`: Next shares one fetch between
    // generateMetadata and the page (a tee), and cancelling one branch waits for the other,
    // which hung every notFound() page.
    await response.arrayBuffer().catch(() => null);
    return { ok: false, status: response.status };
  }
  return { ok: true, data: (await response.json()) as T, link: response.headers.get("link") };
}) as <T>(path: string) => Promise<ApiResult<T>>;

/** The signed-in member, or null for an anonymous visitor. */
export const currentAccount = cache(async (): Promise<CredentialAccount | null> => {
  if (Object.keys(await credentials()).length === 0) return null;
  const result = await apiGet<CredentialAccount>("/api/v1/accounts/verify_credentials");
  return result.ok ? result.data : null;
});

/** The `max_id` of a Link header's `rel="next"`, for load-more. */
export function nextMaxId(link: string | null): string | null {
  if (!link) return null;
  const match = /<([^>]+)>;\s*rel="next"/.exec(link);
  if (!match) return null;
  return new URL(match[1]!).searchParams.get("max_id");
}
