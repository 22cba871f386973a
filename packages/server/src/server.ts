import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import { compose } from "./compose.ts";
import type { Config } from "./config.ts";
import { createApp } from "./http/app.ts";

const log = getLogger(["clique", "server"]);

/** A running server. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the HTTP server on the configured port. */
export async function startServer(config: Config): Promise<RunningServer> {
  const composition = await compose(config);
  const app = createApp({ clique: composition.clique, config });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch(async (error) => {
    await composition.close();
    throw error;
  });
  await composition.startQueue();
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port}`;
  if (config.allowPrivateAddress) {
    log.warn(
      "CLIQUE_ALLOW_PRIVATE_ADDRESS=true: this server will fetch from and deliver to private and loopback addresses. Use it only for tests and local trials.",
    );
  }
  log.info("Clique is listening on {url} (public origin {origin}).", {
    url,
    origin: config.origin,
  });
  if (!(await composition.clique.getSettings())) {
    log.info(
      'Not set up yet. Create the Clique and its owner with: npx clique init --name "Our Clique" --owner yourname',
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
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
