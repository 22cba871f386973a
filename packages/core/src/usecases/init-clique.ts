import { checkPassword } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { CliqueSettings, Member } from "../domain/types.ts";
import { checkUsername, type UsernameProblem } from "../domain/username.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { Stores } from "../stores/stores.ts";
import { insertMember, prepareMember } from "./add-member.ts";

/** Input of `initClique`. */
export interface InitCliqueInput {
  name: string;
  description?: string;
  memberCap?: number;
  ownerUsername: string;
  ownerPassword: string;
  /** The owner's display name; the username if omitted or blank. */
  ownerDisplayName?: string;
}

/** Why `initClique` refused. */
export type InitCliqueProblem =
  | "already_initialized"
  | "invalid_name"
  | "invalid_member_cap"
  | UsernameProblem
  | "password_too_short"
  | "password_too_long";

/**
 * Creates the Clique and its owner, once. `claim`, if given, runs in the same
 * transaction once the Clique is known not to be set up yet; a refusal from
 * it rolls everything back (the web's setup consumes its one-time token so).
 */
export async function initClique<P extends string = never>(
  deps: Deps,
  input: InitCliqueInput,
  claim?: (tx: Stores) => Promise<Result<void, P>>,
): Promise<Result<{ settings: CliqueSettings; owner: Member }, InitCliqueProblem | P>> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100)
    return fail("invalid_name", "The name must be 1 to 100 characters.");
  const cap = input.memberCap ?? deps.config.defaultMemberCap;
  if (!Number.isInteger(cap) || cap < 1 || cap > 10_000)
    return fail("invalid_member_cap", "The member cap must be a whole number from 1 to 10000.");
  const usernameProblem = checkUsername(input.ownerUsername);
  if (usernameProblem) return fail(usernameProblem);
  const passwordProblem = checkPassword(input.ownerPassword);
  if (passwordProblem) return fail(passwordProblem);

  const prepared = await prepareMember(input.ownerPassword);
  const now = deps.now();
  return deps.stores.transaction(async (tx) => {
    if (await tx.settings.getForUpdate()) return fail("already_initialized");
    if (claim) {
      const claimed = await claim(tx);
      if (!claimed.ok) return claimed;
    }
    const settings: CliqueSettings = {
      name,
      description: input.description?.trim() ?? "",
      memberCap: cap,
      membersCanInvite: false,
      createdAt: now,
    };
    await tx.settings.create(settings);
    const owner = await insertMember(tx, prepared, {
      username: input.ownerUsername,
      ...(input.ownerDisplayName?.trim() ? { displayName: input.ownerDisplayName.trim() } : {}),
      role: "owner",
      inviteId: null,
      now,
    });
    return ok({ settings, owner });
  });
}
