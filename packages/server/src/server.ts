import type { Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, isIPv6 } from "node:net";
import { serve } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";
import { compose } from "./compose.ts";
import { type Config, describeDatabase } from "./config.ts";
import { createApp } from "./http/app.ts";
import type { AppServices } from "./http/env.ts";
import { closeWebUi } from "./http/web-ui.ts";
import { type Streaming, startStreaming } from "./streaming/hub.ts";

const log = getLogger(["clique", "server"]);

/** A running server. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The port is taken: by another Clique (`clique`) or by something else (`other`). */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  readonly holder: "clique" | "other";

  constructor(holder: "clique" | "other", message: string) {
    super(message);
    this.holder = holder;
  }
}

/** Where people reach a server bound to `host` (an unspecified address means this machine). */
function displayUrl(host: string, port: number): string {
  const name = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return `http://${isIPv6(name) ? `[${name}]` : name}:${port}`;
}

/** Where this process reaches its own API: loopback when bound to every address. */
function internalUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "") return `http://127.0.0.1:${port}`;
  if (host === "::") return `http://[::1]:${port}`;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** Says who holds the port: a Clique answers `/health` with `{"ok":true}`. */
async function portInUse(config: Config): Promise<PortInUseError> {
  const url = displayUrl(config.host, config.port);
  const probe = url.replace("//localhost:", "//127.0.0.1:");
  let clique = false;
  try {
    const response = await fetch(`${probe}/health`, { signal: AbortSignal.timeout(3_000) });
    clique = response.ok && ((await response.json()) as { ok?: unknown }).ok === true;
  } catch {
    clique = false;
  }
  return clique
    ? new PortInUseError(
        "clique",
        `Clique is already running on ${url}. Stop it first, or set PORT to run another one.`,
      )
    : new PortInUseError(
        "other",
        `Port ${config.port} on ${config.host} is taken by another program (not a Clique). Stop it, or set PORT to use another port.`,
      );
}

/** Whether the port can be bound right now (a quick check before the slower start). */
function portFree(config: Config): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "EADDRINUSE" ? resolve(false) : reject(error),
    );
    probe.listen(config.port, config.host, () => probe.close(() => resolve(true)));
  });
}

/** The HTTP side of a worker process: its health, for supervisors and tests. */
function workerApp(): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.json({ ok: true, role: "worker" }));
  app.notFound((c) => c.json({ error: "A worker serves no API", code: "not_found" }, 404));
  return app;
}

/** Starts the HTTP server on the configured port. */
export async function startServer(config: Config): Promise<RunningServer> {
  // Before opening the database: a second `npm start` should say so at once.
  if (config.port !== 0 && !(await portFree(config))) throw await portInUse(config);
  log.info("Data directory {dir}; database: {database}.", {
    dir: config.dataDir,
    database: describeDatabase(config),
  });
  const composition = await compose(config);
  // Decisions about other servers taken elsewhere (the CLI) reach this process at once.
  await composition.watchDecisions().catch(async (error: unknown) => {
    await composition.close();
    throw error;
  });
  // A worker answers only /health: it runs the relay and the queues, not the API.
  const services: AppServices = {
    clique: composition.clique,
    config,
    blobs: composition.blobs,
    mediaProxy: composition.mediaProxy,
    scratch: composition.scratch,
    moderation: composition.moderation,
    sharedDocuments: composition.sharedDocuments,
  };
  const app = config.role === "worker" ? workerApp() : createApp(services);
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch(async (error: NodeJS.ErrnoException) => {
    await composition.close();
    // Taken since the check above.
    if (error.code === "EADDRINUSE") throw await portInUse(config);
    throw error;
  });
  // Live updates (issue 11): the streaming API's WebSocket on the same port, in every role that serves the API.
  let streaming: Streaming | null = null;
  if (config.role !== "worker") {
    try {
      streaming = await startStreaming(
        server as HttpServer,
        services,
        composition.storage.connectionString,
      );
    } catch (error) {
      server.close();
      await composition.close();
      throw error;
    }
  }
  if (config.role !== "web") await composition.startWorkers();
  const port = (server.address() as AddressInfo).port;
  const url = displayUrl(config.host, port);
  // The web interface's pages read this process's API over loopback (http/web-ui.ts).
  process.env.CLIQUE_INTERNAL_URL = internalUrl(config.host, port);
  if (config.allowPrivateAddress) {
    log.warn(
      "CLIQUE_ALLOW_PRIVATE_ADDRESS=true: this server will fetch from and deliver to private and loopback addresses. Use it only for tests and local trials.",
    );
  }
  log.info("Clique is listening on {url} (public origin {origin}; role {role}).", {
    url,
    origin: config.origin,
    role: config.role,
  });
  if (!(await composition.clique.getSettings())) {
    log.info(
      'Not set up yet. Create the Clique and its owner with: npx clique init --name "Our Clique" --owner yourname',
    );
    // Or from the web: each start makes a new one-time link (only its hash is stored).
    const token = config.role === "worker" ? null : await composition.clique.issueSetupToken();
    if (token) log.info(`Set up this Clique at ${config.origin}/setup?token=${token}`);
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        await streaming?.close();
        await closeWebUi();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections would hold the close open.
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await composition.close();
      })();
      return closing;
    },
  };
}
