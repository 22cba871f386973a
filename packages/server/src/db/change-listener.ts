/**
 * Hears, through PostgreSQL's LISTEN/NOTIFY, that another process changed
 * something this one caches (remote moderation's decisions: a CLI command, or
 * another server process). A notification is sent only when the change's
 * transaction commits. While the listening connection is down, notifications
 * are missed: `onChange` is called when it drops and again once it is back, so
 * a cache never trusts what it read before, and the cache's own expiry
 * covers the moments between.
 */
import { getLogger } from "@logtape/logtape";
import pg from "pg";

const log = getLogger(["clique", "db", "listener"]);

/** Longest wait before trying to listen again. */
const MAX_RETRY_MS = 30_000;

/** A listening connection. */
export interface ChangeListener {
  stop(): Promise<void>;
}

/**
 * Listens on `channel`, calling `onChange` for each notification with its
 * payload (live updates read it), and with none when it may have missed some.
 */
export async function listenForChanges(
  connectionString: string,
  channel: string,
  onChange: (payload?: string) => void,
): Promise<ChangeListener> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopping = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let delay = 1_000;

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString });
    next.on("notification", (message) => onChange(message.payload ?? ""));
    const lost = (error?: unknown) => {
      if (client !== next) return;
      client = null;
      next.end().catch(() => {});
      if (stopping) return;
      log.warn("Lost the {channel} listener; listening again soon: {error}", {
        channel,
        error: error ?? "connection ended",
      });
      onChange();
      schedule();
    };
    next.on("error", lost);
    next.on("end", () => lost());
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      delay = 1_000;
      // Whatever changed while nobody listened is read again.
      onChange();
    } catch (error) {
      lost(error);
    }
  }

  function schedule(): void {
    if (stopping || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }

  await connect();
  return {
    async stop() {
      stopping = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}
