/** Remote actors: fetched (signed by the instance actor), sanitized and stored. */
import type { Context } from "@fedify/fedify";
import { type Actor as APActor, type Object as APObject, isActor } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { Deps } from "../deps.ts";
import type { Actor } from "../domain/types.ts";
import type { RemoteResolver } from "./events.ts";
import { localUsernameOf, remoteActorInput } from "./wire.ts";

const log = getLogger(["clique", "federation", "actors"]);

/** Identifier of the instance actor, which signs the server's own fetches. */
export const INSTANCE_IDENTIFIER = "instance.actor";

/** Refetch stored remote actors older than this when asked to resolve them. */
const REFRESH_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Stores (or refreshes) a remote actor document; local actors map to their
 * member. `container`: the activity that carried the document, if any.
 */
export async function persistActor(
  deps: Deps,
  actor: APActor,
  container?: APObject | null,
): Promise<Actor | null> {
  if (!actor.id) return null;
  const local = localUsernameOf(deps.config.origin, actor.id.href);
  if (local) {
    const member = await deps.stores.members.getByUsername(local);
    return member ? deps.stores.actors.getById(member.id) : null;
  }
  const input = remoteActorInput(actor, container);
  if (!input) return null;
  // Nothing of a blocked server is kept (what was is purged by the block).
  if ((await deps.standing.ofHost(input.host)) === "blocked") return null;
  return deps.stores.actors.upsertRemote(input, deps.now());
}

/** Looks remote accounts up over ActivityPub, keeping what it finds. */
export function createResolver(deps: Deps, context: () => Context<void>): RemoteResolver {
  /** A blocked server, or a suspended account, is not looked up, nor found when known. */
  async function shut(actor: { uri?: string | null; host?: string | null; id?: string }) {
    return (await deps.standing.ofActor(actor)) === "blocked";
  }
  async function lookup(identifier: string): Promise<Actor | null> {
    const ctx = context();
    try {
      const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_IDENTIFIER });
      const object = await ctx.lookupObject(identifier, { documentLoader });
      if (!isActor(object)) return null;
      return await persistActor(deps, object);
    } catch (error) {
      log.info("Could not look up {identifier}: {error}", { identifier, error: String(error) });
      return null;
    }
  }
  return {
    async resolveUri(uri) {
      const local = localUsernameOf(deps.config.origin, uri);
      if (local) {
        const member = await deps.stores.members.getByUsername(local);
        return member ? deps.stores.actors.getById(member.id) : null;
      }
      // Our own URLs that are not actors are never fetched over the network.
      if (!URL.canParse(uri) || new URL(uri).origin === new URL(deps.config.origin).origin)
        return null;
      if (await shut({ uri })) return null;
      const known = await deps.stores.actors.getByUri(uri);
      if (known && (await shut(known))) return null;
      // Fresh enough since its document was last fetched (or received whole).
      const fetchedAt = known?.fetchedAt ?? known?.createdAt;
      if (known && fetchedAt && deps.now().getTime() - fetchedAt.getTime() < REFRESH_AFTER_MS)
        return known;
      return (await lookup(uri)) ?? known;
    },
    async resolveHandle(username, host) {
      if (host.toLowerCase() === new URL(deps.config.origin).host.toLowerCase()) {
        const member = await deps.stores.members.getByUsername(username);
        return member ? deps.stores.actors.getById(member.id) : null;
      }
      if (await shut({ host: host.toLowerCase() })) return null;
      const known = await deps.stores.actors.getRemoteByHandle(username, host);
      if (known) return (await shut(known)) ? null : known;
      const found = await lookup(`acct:${username}@${host}`);
      // WebFinger may name an actor on another host.
      return found && (await shut(found)) ? null : found;
    },
  };
}
