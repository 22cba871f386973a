import type { Deps } from "../deps.ts";
import type {
  AudienceRef,
  DefaultAudience,
  MediaFile,
  Member,
  ProfileField,
} from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import { composeText } from "./compose-text.ts";

/** Most profile fields, as on Mastodon. */
export const MAX_FIELDS = 4;

/** Why `updateProfile` refused. */
export type UpdateProfileProblem =
  | "invalid_display_name"
  | "bio_too_long"
  | "too_many_fields"
  | "invalid_field"
  | "circle_not_found";

/** What a member may change about their profile. */
export interface ProfileUpdate {
  displayName?: string;
  bio?: string;
  bioAudience?: AudienceRef;
  /** Each field may carry its own audience (default everyone). */
  fields?: ProfileField[];
  followsAudience?: AudienceRef;
  manuallyApprovesFollowers?: boolean;
  discoverable?: boolean;
  /** The audience of new posts when none is chosen. */
  defaultAudience?: DefaultAudience;
  /**
   * An avatar or header the server has processed and stored (`null` removes
   * it). The files they replace are deleted once the change is committed.
   */
  avatar?: MediaFile | null;
  header?: MediaFile | null;
}

async function checkRef(
  deps: Deps,
  member: Member,
  ref: AudienceRef | undefined,
): Promise<boolean> {
  if (ref?.audience !== "circle") return true;
  const circle =
    ref.circleId && isId(ref.circleId) ? await deps.stores.circles.getById(ref.circleId) : null;
  return circle !== null && circle.ownerId === member.id;
}

/** Updates a member's own profile. */
export async function updateProfile(
  deps: Deps,
  member: Member,
  input: ProfileUpdate,
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
  // Parts may only be shown to the member's own circles.
  const refs = [
    input.bioAudience,
    input.followsAudience,
    ...(input.fields ?? []).map(
      (f) => f.audience && { audience: f.audience, circleId: f.circleId ?? null },
    ),
  ];
  for (const ref of refs)
    if (!(await checkRef(deps, member, ref || undefined))) return fail("circle_not_found");

  const bioHtml =
    input.bio === undefined
      ? undefined
      : input.bio.trim() === ""
        ? ""
        : (await composeText(deps, input.bio, "text/plain")).html;
  // What the public actor document shows: other servers hear of a change with `Update(Person)`.
  const actorChanged = [
    input.displayName,
    input.bio,
    input.bioAudience,
    input.fields,
    input.manuallyApprovesFollowers,
    input.discoverable,
    input.avatar,
    input.header,
  ].some((part) => part !== undefined);
  await deps.stores.transaction(async (tx) => {
    await tx.members.updateProfile(member.id, {
      ...(input.displayName !== undefined ? { displayName: input.displayName.trim() } : {}),
      ...(input.bio !== undefined ? { bio: input.bio, bioHtml: bioHtml ?? "" } : {}),
      ...(input.bioAudience !== undefined ? { bioAudience: input.bioAudience } : {}),
      ...(input.followsAudience !== undefined ? { followsAudience: input.followsAudience } : {}),
      ...(input.fields !== undefined
        ? {
            fields: input.fields.map((f) => ({
              name: f.name.trim(),
              value: f.value.trim(),
              audience: f.audience ?? "public",
              circleId: f.audience === "circle" ? (f.circleId ?? null) : null,
            })),
          }
        : {}),
      ...(input.manuallyApprovesFollowers !== undefined
        ? { manuallyApprovesFollowers: input.manuallyApprovesFollowers }
        : {}),
      ...(input.discoverable !== undefined ? { discoverable: input.discoverable } : {}),
      ...(input.defaultAudience !== undefined ? { defaultAudience: input.defaultAudience } : {}),
    });
    const replaced = await tx.members.setProfileImages(member.id, {
      ...(input.avatar !== undefined ? { avatar: input.avatar } : {}),
      ...(input.header !== undefined ? { header: input.header } : {}),
    });
    if (replaced.length > 0)
      await tx.outbox.record({ kind: "media-deleted", keys: replaced }, deps.now());
    if (actorChanged)
      await tx.outbox.record({ kind: "actor-updated", actorId: member.id }, deps.now());
  });
  return ok((await deps.stores.members.getById(member.id))!);
}
