/**
 * Throttling of password guesses. Usernames are public, so a limit keyed on
 * the username alone lets anyone lock a member out; the limits here are keyed
 * on the client address first, and only a much higher ceiling is kept per
 * username, against guesses spread over many addresses.
 */
import type { Deps } from "../deps.ts";

/** Failed attempts allowed for one username from one client address, within the window. */
export const MAX_FAILED_SIGN_INS = 5;
/** Failed attempts allowed from one client address, whatever the usernames, within the window. */
export const MAX_FAILED_SIGN_INS_PER_ADDRESS = 20;
/**
 * Failed attempts allowed for one username from all addresses together, within
 * the window: a ceiling for guesses spread over many addresses. Reaching it
 * locks the member out too, so it is set far above what one address may try.
 */
export const MAX_FAILED_SIGN_INS_PER_USERNAME = 50;
/** How long a failure counts. */
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
// Each recorded failure deletes at most this many expired ones, so the table
// shrinks back to the window's rows without one request doing unbounded work.
const EXPIRE_BATCH = 100;

/** The key a username is throttled under (case and surrounding spaces do not matter). */
export function usernameKey(username: string): string {
  return username.trim().toLowerCase();
}

/**
 * Counts a password check against the limits *before* it is made, so that
 * guesses sent in parallel count against each other. Returns `false` when the
 * check must not be made at all. A right password then calls `forgetFailures`.
 */
export async function countAttempt(deps: Deps, key: string, address: string): Promise<boolean> {
  const store = deps.stores.loginAttempts;
  const now = deps.now();
  const since = new Date(now.getTime() - SIGN_IN_WINDOW_MS);
  // Already over a limit: refuse without recording, so a throttled flood adds no rows.
  if (overLimit(await store.countFailuresSince(key, address, since), 0)) return false;
  await store.recordFailure(key, address, now);
  await store.deleteOlderThan(since, EXPIRE_BATCH);
  // Parallel attempts that got past the first check meet here.
  return !overLimit(await store.countFailuresSince(key, address, since), 1);
}

/** Forgets this username's failures from this address, after the right password. */
export async function forgetFailures(deps: Deps, key: string, address: string): Promise<void> {
  await deps.stores.loginAttempts.clear(key, address);
}

function overLimit(
  counts: { pair: number; address: number; username: number },
  counted: 0 | 1,
): boolean {
  return (
    counts.pair - counted >= MAX_FAILED_SIGN_INS ||
    counts.address - counted >= MAX_FAILED_SIGN_INS_PER_ADDRESS ||
    counts.username - counted >= MAX_FAILED_SIGN_INS_PER_USERNAME
  );
}
