import type { Deps } from "../deps.ts";
import type { Marker, MarkerTimeline } from "../domain/timelines.ts";
import type { Member } from "../domain/types.ts";

/** A member's read positions, by timeline (those never saved are left out). */
export async function getMarkers(
  deps: Deps,
  member: Member,
  timelines: readonly MarkerTimeline[],
): Promise<Marker[]> {
  const markers = await deps.stores.markers.list(member.id);
  return markers.filter((m) => timelines.includes(m.timeline));
}

/**
 * Saves a member's read positions (Mastodon's `POST /api/v1/markers`); each
 * save counts up the timeline's version. Returns the saved markers.
 */
export async function saveMarkers(
  deps: Deps,
  member: Member,
  positions: Partial<Record<MarkerTimeline, string>>,
): Promise<Marker[]> {
  const at = deps.now();
  return deps.stores.transaction(async (tx) => {
    const saved: Marker[] = [];
    for (const [timeline, lastReadId] of Object.entries(positions) as [MarkerTimeline, string][])
      saved.push(await tx.markers.save(member.id, timeline, lastReadId, at));
    return saved;
  });
}
