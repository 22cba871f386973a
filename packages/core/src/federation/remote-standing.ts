/**
 * Where other servers and their accounts stand with this Clique, as the hot
 * paths ask it: the edge (every inbox POST and signed fetch), the inbox
 * handlers, the publisher and the resolver. The decisions are few and change
 * rarely, so each process keeps them in memory:
 *
 * - a change made in this process forgets them at once (`invalidate`, called
 *   by the use cases after their transaction commits);
 * - a change made in another process (a CLI command, another server
 *   process) reaches this one through PostgreSQL: every write to the store
 *   sends a notification when it commits, and the server, which listens on
 *   that channel, calls `invalidate` (`REMOTE_MODERATION_CHANNEL`);
 * - should a notification be missed (the listening connection dropped), the
 *   cache is read again at the latest `TTL_MS` after it was read.
 *
 * The visibility rules do not use this cache: their facts and SQL read the
 * tables in the same query as everything else (`visibility.kysely.ts`).
 */
import { domainCovers, hostOfUrl, type RemoteStandingKind } from "../domain/remote-moderation.ts";
import type { RemoteModerationSnapshot, RemoteModerationStore } from "../stores/stores.ts";

/** The longest a process keeps decisions without hearing of a change. */
export const STANDING_TTL_MS = 30_000;

/** What moderation says of someone elsewhere, for the hot paths. */
export interface RemoteStanding {
  /** How a host stands: `blocked`, `limited`, or `ok` (by the most severe block covering it). */
  ofHost(host: string | null | undefined): Promise<RemoteStandingKind>;
  /**
   * How a remote actor stands, by what is known of it (its stored id, its
   * URI, its host): its server's standing and its own, the more severe.
   */
  ofActor(actor: {
    id?: string | null;
    uri?: string | null;
    host?: string | null;
  }): Promise<RemoteStandingKind>;
  /** Forgets the decisions: they are read again on the next question. */
  invalidate(): void;
}

const RANK: Record<RemoteStandingKind, number> = { ok: 0, limited: 1, blocked: 2 };

function worse(a: RemoteStandingKind, b: RemoteStandingKind): RemoteStandingKind {
  return RANK[a] >= RANK[b] ? a : b;
}

interface Compiled {
  readAt: number;
  domains: RemoteModerationSnapshot["domains"];
  byId: Map<string, RemoteStandingKind>;
  byUri: Map<string, RemoteStandingKind>;
}

/** The standing of hosts and actors over a store, cached as described above. */
export function createRemoteStanding(
  store: () => RemoteModerationStore,
  clock: () => number = Date.now,
): RemoteStanding {
  let current: Promise<Compiled> | null = null;
  let generation = 0;

  async function load(): Promise<Compiled> {
    const started = generation;
    const snapshot = await store().snapshot();
    const byId = new Map<string, RemoteStandingKind>();
    const byUri = new Map<string, RemoteStandingKind>();
    for (const s of snapshot.sanctions) {
      const kind: RemoteStandingKind = s.kind === "suspend" ? "blocked" : "limited";
      byId.set(s.actorId, worse(byId.get(s.actorId) ?? "ok", kind));
      if (s.uri) byUri.set(s.uri, worse(byUri.get(s.uri) ?? "ok", kind));
    }
    const compiled = { readAt: clock(), domains: snapshot.domains, byId, byUri };
    // A change heard of while reading: this read may predate it; read again next time.
    if (started !== generation) compiled.readAt = Number.NEGATIVE_INFINITY;
    return compiled;
  }

  async function decisions(): Promise<Compiled> {
    const cached = current ? await current.catch(() => null) : null;
    if (cached && clock() - cached.readAt < STANDING_TTL_MS) return cached;
    const loading = load();
    current = loading;
    // A failed read is not kept: the next question reads again.
    loading.catch(() => {
      if (current === loading) current = null;
    });
    return loading;
  }

  function hostStanding(compiled: Compiled, host: string | null | undefined): RemoteStandingKind {
    if (!host) return "ok";
    let standing: RemoteStandingKind = "ok";
    for (const { domain, severity } of compiled.domains) {
      if (severity === "noop" || !domainCovers(domain, host)) continue;
      standing = worse(standing, severity === "block" ? "blocked" : "limited");
    }
    return standing;
  }

  return {
    async ofHost(host) {
      return hostStanding(await decisions(), host);
    },
    async ofActor(actor) {
      const compiled = await decisions();
      let standing = hostStanding(compiled, actor.host ?? hostOfUrl(actor.uri));
      if (actor.id) standing = worse(standing, compiled.byId.get(actor.id) ?? "ok");
      if (actor.uri) standing = worse(standing, compiled.byUri.get(actor.uri) ?? "ok");
      return standing;
    },
    invalidate() {
      generation++;
      current = null;
    },
  };
}
