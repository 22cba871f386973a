import type { Deps } from "../deps.ts";
import {
  type DomainBlock,
  type DomainSeverity,
  domainCovers,
  normalizeDomain,
} from "../domain/remote-moderation.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { type PurgeSummary, purgeRemoteActors } from "./purge-remote-actors.ts";

/** A decision about a server, as a moderator takes it. */
export interface DomainBlockInput {
  /** A host, a host with a port, or a URL (see `normalizeDomain`). */
  domain: string;
  severity: DomainSeverity;
  /** Why, for the Clique's staff. */
  reason: string;
  /** What may be said publicly. */
  publicComment?: string;
  /** The member deciding; `null` for the server's operator (the CLI). */
  by: string | null;
}

/** Why a domain cannot be blocked. */
export type BlockDomainProblem =
  /** Not a host. */
  | "invalid_domain"
  /** It covers this Clique's own host. */
  | "own_domain";

/** What a block did. */
export interface BlockedDomain {
  block: DomainBlock;
  /** The decision it replaced, if the domain had one. */
  previous: DomainBlock | null;
  /** What a `block` purged (nothing for `limit` and `noop`). */
  purged: PurgeSummary;
}

const NOTHING_PURGED: PurgeSummary = {
  accounts: 0,
  files: 0,
  posts: 0,
  follows: 0,
  interactions: 0,
};

/**
 * Blocks, limits or notes a server and its subdomains (a decision taken
 * again replaces the last one). A `block` also ends every follow between its
 * accounts and anyone here and purges what is stored of them
 * (`purgeRemoteActors`); from then on the inbox, the publisher, the resolver
 * and the visibility rules turn it away. A `limit` purges nothing: its
 * accounts' posts reach only the members who follow them (`visibility.ts`).
 */
export async function blockDomain(
  deps: Deps,
  input: DomainBlockInput,
): Promise<Result<BlockedDomain, BlockDomainProblem>> {
  const domain = normalizeDomain(input.domain);
  if (!domain) return fail("invalid_domain");
  if (domainCovers(domain, new URL(deps.config.origin).host))
    return fail("own_domain", "That would block this Clique itself");
  const now = deps.now();
  const previous = await deps.stores.remoteModeration.getDomainByName(domain);
  const block = await deps.stores.remoteModeration.saveDomain({
    id: previous?.id ?? newId(),
    domain,
    severity: input.severity,
    reason: input.reason,
    publicComment: input.publicComment ?? previous?.publicComment ?? "",
    createdBy: previous?.createdBy ?? input.by,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  });
  // The edge and the publisher stop at once; then what is stored goes.
  deps.standing.invalidate();
  const purged =
    block.severity === "block"
      ? await purgeRemoteActors(deps, await deps.stores.remoteModeration.actorIdsOnDomain(domain))
      : NOTHING_PURGED;
  return ok({ block, previous, purged });
}

/**
 * Lifts the decision about a server: its activities are accepted and it is
 * delivered to again. What a block purged stays gone, and follows it ended
 * are not restored (members follow again). `null` when there was none.
 */
export async function unblockDomain(deps: Deps, domainInput: string): Promise<DomainBlock | null> {
  const domain = normalizeDomain(domainInput);
  if (!domain) return null;
  const lifted = await deps.stores.remoteModeration.deleteDomain(domain);
  deps.standing.invalidate();
  return lifted;
}
