/**
 * For whole-system tests that restart Clique processes on one database: a
 * public origin that outlives them, and clean-up of the job engine's Redis keys.
 *
 * Not a test file: its name does not end in `.test.ts`.
 */
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";

/** A public origin on a port of its own, relayed to whichever server process is current. */
export interface StableOrigin {
  origin: string;
  /** Sends new connections to this port (`null`: refuse them). */
  point(port: number | null): void;
  close(): Promise<void>;
}

/**
 * Starts a TCP relay on a free port of 127.0.0.1, as a reverse proxy in front
 * of a server would be: every process started behind it (`CLIQUE_ORIGIN` set
 * to `origin`) keeps the same actor ids, keys and Redis key prefix, whatever
 * port it listens on.
 */
export async function startStableOrigin(): Promise<StableOrigin> {
  let target: number | null = null;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    if (target === null) {
      client.destroy();
      return;
    }
    const upstream = connect(target, "127.0.0.1");
    track(upstream);
    // A killed server resets its side; the other side goes with it.
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on("error", () => b.destroy());
      a.once("close", () => b.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    point(port) {
      target = port;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Deletes the Redis keys under `prefix` (the job engine's, for this run's origin),
 * speaking Redis's protocol over a socket: the tests declare no Redis client.
 */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const url = new URL(redisUrl);
  const script =
    "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1";
  const command = ["EVAL", script, "0", `${prefix}:*`];
  const wire = `*${command.length}\r\n${command.map((c) => `$${Buffer.byteLength(c)}\r\n${c}\r\n`).join("")}`;
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    socket.once("error", reject);
    socket.once("data", (reply) => {
      socket.end();
      const text = reply.toString("utf8");
      if (text.startsWith("-")) reject(new Error(`Redis: ${text.trim()}`));
      else resolve();
    });
    socket.write(wire);
  });
}
