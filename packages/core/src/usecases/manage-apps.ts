import type { Deps } from "../deps.ts";
import type { AuthorizedApp } from "../domain/oauth.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";

/** The apps a member has authorised and not revoked, most recent first. */
export function listAuthorizedApps(deps: Deps, member: Member): Promise<AuthorizedApp[]> {
  return deps.stores.oauth.listAuthorized(member.id);
}

/**
 * A member takes back an app's access: every token of the member issued to
 * that app is revoked at once. `not_found` when the member holds none.
 */
export async function revokeAuthorizedApp(
  deps: Deps,
  member: Member,
  appId: string,
): Promise<Result<{ revoked: number }, "not_found">> {
  if (!isId(appId)) return fail("not_found");
  const revoked = await deps.stores.tokens.revokeAllForApp(member.id, appId, deps.now());
  if (revoked === 0) return fail("not_found");
  return ok({ revoked });
}
