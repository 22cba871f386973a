import type { Deps } from "../deps.ts";
import type { Member, ProfileField } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { composeText } from "./compose-text.ts";

/** Most profile fields, as on Mastodon. */
export const MAX_FIELDS = 4;

/** Why `updateProfile` refused. */
export type UpdateProfileProblem =
  | "invalid_display_name"
  | "bio_too_long"
  | "too_many_fields"
  | "invalid_field";

/** Updates a member's own profile. */
export async function updateProfile(
  deps: Deps,
  member: Member,
  input: {
    displayName?: string;
    bio?: string;
    fields?: ProfileField[];
    manuallyApprovesFollowers?: boolean;
    discoverable?: boolean;
  },
): Promise<Result<Member, UpdateProfileProblem>> {
  if (input.displayName !== undefined && [...input.displayName].length > 100)
    return fail("invalid_display_name");
  if (input.bio !== undefined && [...input.bio].length > 2000) return fail("bio_too_long");
  if (input.fields !== undefined) {
    if (input.fields.length > MAX_FIELDS) return fail("too_many_fields");
    if (
      input.fields.some(
        (f) => f.name.trim() === "" || [...f.name].length > 255 || [...f.value].length > 255,
      )
    )
      return fail("invalid_field");
  }
  const bioHtml =
    input.bio === undefined
      ? undefined
      : input.bio.trim() === ""
        ? ""
        : (await composeText(deps, input.bio, "text/plain")).html;
  await deps.stores.transaction((tx) =>
    tx.members.updateProfile(member.id, {
      ...(input.displayName !== undefined ? { displayName: input.displayName.trim() } : {}),
      ...(input.bio !== undefined ? { bio: input.bio, bioHtml: bioHtml ?? "" } : {}),
      ...(input.fields !== undefined
        ? { fields: input.fields.map((f) => ({ name: f.name.trim(), value: f.value.trim() })) }
        : {}),
      ...(input.manuallyApprovesFollowers !== undefined
        ? { manuallyApprovesFollowers: input.manuallyApprovesFollowers }
        : {}),
      ...(input.discoverable !== undefined ? { discoverable: input.discoverable } : {}),
    }),
  );
  return ok((await deps.stores.members.getById(member.id))!);
}
