import type { Deps } from "../deps.ts";
import type { PurgeCounts } from "../stores/stores.ts";

/** What purging found and removed, for the audit log. */
export interface PurgeSummary extends PurgeCounts {
  /** How many accounts were purged. */
  accounts: number;
  /** How many media files are on their way out (`media-deleted`). */
  files: number;
}

/** Accounts purged per transaction: a large server does not hold one lock for long. */
const BATCH = 50;

/**
 * Forgets what this Clique stored of remote accounts — their posts, with
 * their photos and videos (the rows now, the files through `media-deleted`),
 * their likes and boosts, and every follow between them and anyone here —
 * keeping the accounts themselves, which remember the decision. Nothing is
 * sent: a blocked server or suspended account is sent nothing at all.
 */
export async function purgeRemoteActors(
  deps: Deps,
  actorIds: readonly string[],
): Promise<PurgeSummary> {
  const summary: PurgeSummary = {
    accounts: 0,
    files: 0,
    posts: 0,
    follows: 0,
    interactions: 0,
  };
  for (let i = 0; i < actorIds.length; i += BATCH) {
    const batch = actorIds.slice(i, i + BATCH);
    await deps.stores.transaction(async (tx) => {
      // The media rows first: their keys are lost once their posts are gone.
      const keys: string[] = [];
      for (const id of batch) keys.push(...(await tx.media.deleteByOwner(id)));
      const counts = await tx.remoteModeration.purgeActors(batch);
      if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, deps.now());
      summary.accounts += batch.length;
      summary.files += keys.length;
      summary.posts += counts.posts;
      summary.follows += counts.follows;
      summary.interactions += counts.interactions;
    });
  }
  return summary;
}
