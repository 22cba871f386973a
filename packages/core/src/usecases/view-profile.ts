import type { Deps } from "../deps.ts";
import type { AudienceRef, Member, ProfileField } from "../domain/types.ts";
import {
  canSeePart,
  canSeeParts,
  isOpenToEveryone,
  type PartQuestion,
  type Viewer,
} from "../visibility/visibility.ts";

/** The parts of a member's profile one viewer may see. */
export interface VisibleProfile {
  /** Empty when the viewer may not read the bio. */
  bioHtml: string;
  fields: ProfileField[];
  /** Whether the viewer may see the follower and following lists. */
  followLists: boolean;
}

/** What `viewer` may see of `member`'s profile; every part asks the visibility module. */
export async function viewProfile(
  deps: Deps,
  viewer: Viewer,
  member: Member,
): Promise<VisibleProfile> {
  const see = (ref: AudienceRef) => canSeePart(viewer, member.id, ref, deps.stores.facts);
  const fields: ProfileField[] = [];
  for (const field of member.fields) {
    if (await see({ audience: field.audience ?? "public", circleId: field.circleId ?? null }))
      fields.push(field);
  }
  return {
    bioHtml: (await see(member.bioAudience)) ? member.bioHtml : "",
    fields,
    followLists: await see(member.followsAudience),
  };
}

/**
 * What `viewer` may see of each member's profile, by member id: the same
 * parts as `viewProfile`, judged for every member at once (one query for a
 * page of authors, issue 13).
 */
export async function viewProfiles(
  deps: Deps,
  viewer: Viewer,
  members: readonly Member[],
): Promise<Map<string, VisibleProfile>> {
  const parts: PartQuestion[] = [];
  for (const member of members) {
    parts.push({ ownerId: member.id, ref: member.bioAudience });
    parts.push({ ownerId: member.id, ref: member.followsAudience });
    for (const field of member.fields)
      parts.push({
        ownerId: member.id,
        ref: { audience: field.audience ?? "public", circleId: field.circleId ?? null },
      });
  }
  const seen = await canSeeParts(viewer, parts, deps.stores.facts);
  const profiles = new Map<string, VisibleProfile>();
  let i = 0;
  for (const member of members) {
    const bio = seen[i++];
    const followLists = seen[i++] ?? false;
    const fields = member.fields.filter(() => seen[i++]);
    profiles.set(member.id, { bioHtml: bio ? member.bioHtml : "", fields, followLists });
  }
  return profiles;
}

/**
 * The profile as everyone sees it: what goes into the public actor document.
 * The same rule as `viewProfile` for an anonymous viewer, without lookups.
 */
export function publicProfile(member: Member): VisibleProfile {
  return {
    bioHtml: isOpenToEveryone(member.bioAudience) ? member.bioHtml : "",
    fields: member.fields.filter((f) =>
      isOpenToEveryone({ audience: f.audience ?? "public", circleId: f.circleId ?? null }),
    ),
    followLists: isOpenToEveryone(member.followsAudience),
  };
}
