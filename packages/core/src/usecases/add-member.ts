import { generateActorKeys } from "../auth/keys.ts";
import { hashPassword } from "../auth/secrets.ts";
import type { Member, Role } from "../domain/types.ts";
import { newId } from "../ids.ts";
import type { Stores } from "../stores/stores.ts";

/** Work that is slow and needs no lock: done before the seat-taking transaction. */
export interface PreparedMember {
  id: string;
  passwordHash: string;
  keys: Awaited<ReturnType<typeof generateActorKeys>>;
}

/** Hashes the password and makes the member's keys, outside any transaction. */
export async function prepareMember(password: string): Promise<PreparedMember> {
  const [passwordHash, keys] = await Promise.all([hashPassword(password), generateActorKeys()]);
  return { id: newId(), passwordHash, keys };
}

/** Writes a prepared member; the caller runs it inside its transaction. */
export async function insertMember(
  tx: Stores,
  prepared: PreparedMember,
  input: { username: string; displayName?: string; role: Role; inviteId: string | null; now: Date },
): Promise<Member> {
  const member = await tx.members.create({
    id: prepared.id,
    username: input.username,
    displayName: input.displayName ?? input.username,
    passwordHash: prepared.passwordHash,
    role: input.role,
    inviteId: input.inviteId,
    createdAt: input.now,
  });
  await tx.keys.save(member.id, prepared.keys);
  return member;
}
