import type { EventSubscriber, Publisher, RemoteResolver } from "./federation/events.ts";
import type { RemoteStanding } from "./federation/remote-standing.ts";
import type { Stores } from "./stores/stores.ts";

/** Settings core needs from its host; parsed by the server, never read from the environment here. */
export interface CliqueConfig {
  /** Public origin, e.g. `https://clique.example`; ids and links are built from it. */
  origin: string;
  /** Member cap used by `clique init` when none is given. */
  defaultMemberCap: number;
}

/** What every use case receives: explicit dependencies, no module-level state. */
export interface Deps {
  stores: Stores;
  config: CliqueConfig;
  /** The current time; tests may pin it. */
  now: () => Date;
  /** Turns recorded events into activities; a no-op without federation. */
  publisher: Publisher;
  /** What other packages added: they get every event after the publisher. */
  subscribers: readonly EventSubscriber[];
  /** Finds remote accounts; knows none without federation. */
  resolver: RemoteResolver;
  /**
   * Where other servers and remote accounts stand (domain blocks, suspended
   * and silenced accounts), cached for the inbox, the publisher and the edge.
   */
  standing: RemoteStanding;
  /** Values made once per Clique and kept (e.g. the secret that signs media URLs). */
  cache: { mediaSecret?: Promise<string> };
}
