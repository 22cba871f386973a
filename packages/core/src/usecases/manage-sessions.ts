import type { Deps } from "../deps.ts";
import type { AccessToken, Member } from "../domain/types.ts";

/** A member's live browser sessions (tokens of kind `session`), newest first. */
export async function listSessions(deps: Deps, member: Member): Promise<AccessToken[]> {
  const tokens = await deps.stores.tokens.listFor(member.id);
  return tokens
    .filter((t) => t.kind === "session")
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}

/**
 * Ends one of a member's own live sessions; `false` when there is no such
 * session of theirs (another member's, an API token, or already ended).
 */
export async function revokeSession(deps: Deps, member: Member, id: string): Promise<boolean> {
  const session = (await listSessions(deps, member)).find((t) => t.id === id);
  if (!session) return false;
  await deps.stores.tokens.revoke(session.id, deps.now());
  return true;
}
