/**
 * Live updates: Mastodon's streaming API as a WebSocket at `/api/v1/streaming`
 * on the API's own port, fed by PostgreSQL's LISTEN/NOTIFY so that a write
 * through any process of the Clique reaches sockets on every process.
 *
 * The database's triggers (migration `014_notifications`) announce, when a
 * transaction commits, only what changed: `{"kind":"post"|"post.update"|
 * "delete"|"notification","id":...}`. Each process then loads the object once
 * and, for each of its subscribers, asks the visibility module (through the
 * same use cases as the API) before rendering it as the API would for that
 * subscriber. Nothing reaches a socket that its member could not read through
 * the API at that moment.
 *
 * Deletions go only to subscribers who could have seen the post (judged on
 * the deleted row, whose audience is kept); a post purged outright (a remote
 * account forgotten) is announced to nobody: its id would tell nothing, but
 * nobody can be shown to have seen it either.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { AccessToken, Member, Notification, Post } from "@clique/core";
import { STREAM_CHANNEL } from "@clique/core/kysely";
import { getLogger } from "@logtape/logtape";
import { type WebSocket, WebSocketServer } from "ws";
import { listenForChanges } from "../db/change-listener.ts";
import { SESSION_COOKIE } from "../http/auth.ts";
import type { AppServices } from "../http/env.ts";
import { renderForMember } from "./render.ts";
import {
  parseSubscription,
  type Subscription,
  scopeAllows,
  streamLabel,
  subscriptionKey,
} from "./streams.ts";

const log = getLogger(["clique", "streaming"]);

/** The WebSocket's path (Mastodon's; a trailing slash is accepted). */
const PATH = /^\/api\/v1\/streaming\/?$/;
/** How often an idle socket is pinged (proxies drop silent connections). */
const PING_MS = 30_000;
/** Most subscriptions one socket may hold. */
const MAX_SUBSCRIPTIONS = 50;

/** One connected client. */
interface Connection {
  socket: WebSocket;
  /** The token it authenticated with: asked again for every event (revocation, suspension). */
  secret: string;
  /** What kind of secret: an app's token, or the web interface's session. */
  kind: "api" | "session";
  member: Member;
  /** The session or token's id: e2ee devices are bound to one (issue 15). */
  tokenId: string;
  scopes: readonly string[];
  subscriptions: Map<string, Subscription>;
}

/** What the triggers announce. */
type Change =
  | { kind: "post" | "post.update"; id: string }
  | { kind: "delete"; id: string }
  | { kind: "notification"; id: string; recipient: string }
  /** End-to-end encrypted chats (issue 15): something waits for a device (never what). */
  | { kind: "e2ee"; device: string };

/** The running streaming side of a server process. */
export interface Streaming {
  /** Subscribers connected to this process. */
  readonly connections: number;
  /** Closes every socket and stops listening. */
  close(): Promise<void>;
}

/** The bearer token of an upgrade: `access_token`, the `Authorization` header, or `Sec-WebSocket-Protocol`. */
function tokenOf(request: IncomingMessage, url: URL): string | null {
  const query = url.searchParams.get("access_token");
  if (query) return query;
  const header = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  if (header) return header[1]!;
  const protocol = request.headers["sec-websocket-protocol"];
  return protocol ? (protocol.split(",")[0]?.trim() ?? null) : null;
}

/**
 * The session cookie of an upgrade from a page of this origin. A page of any
 * other origin (whose browser would send the cookie too) gets nothing.
 */
function sessionOf(request: IncomingMessage, origin: string): string | null {
  if (request.headers.origin !== origin) return null;
  const cookies = request.headers.cookie ?? "";
  for (const part of cookies.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === SESSION_COOKIE) return decodeURIComponent(value.join("="));
  }
  return null;
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Bad Request"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Attaches the streaming API to a node HTTP server (its `upgrade` event) and
 * starts listening for changes on the Clique's database.
 */
export async function startStreaming(
  server: Server,
  services: AppServices,
  connectionString: string,
): Promise<Streaming> {
  const { clique } = services;
  const connections = new Set<Connection>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024,
    // A token sent as the subprotocol is answered with itself, as Mastodon does.
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });

  async function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(request.url ?? "/", "http://streaming.invalid");
    if (!PATH.test(url.pathname)) {
      socket.destroy();
      return;
    }
    const bearer = tokenOf(request, url);
    // The web interface (issue 12) connects with its session cookie, from this origin only.
    const session = bearer ? null : sessionOf(request, services.config.origin);
    const secret = bearer ?? session;
    const found = secret
      ? await clique.authenticate(secret, bearer ? "api" : "session").catch(() => null)
      : null;
    if (!secret || !found) {
      refuse(socket, 401, "Error: Invalid access token");
      return;
    }
    const first = url.searchParams.get("stream");
    const subscription = first
      ? parseSubscription(first, url.searchParams.get("tag") ?? undefined)
      : null;
    if (first && !subscription) {
      refuse(socket, 400, "Error: Unknown stream type");
      return;
    }
    if (subscription && !scopeAllows(found.token.scopes, subscription.stream)) {
      refuse(socket, 403, "Error: Access token does not have the required scopes");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection: Connection = {
        socket: ws,
        secret,
        kind: bearer ? "api" : "session",
        member: found.member,
        tokenId: found.token.id,
        scopes: found.token.scopes,
        subscriptions: new Map(),
      };
      if (subscription) connection.subscriptions.set(subscriptionKey(subscription), subscription);
      connections.add(connection);
      let alive = true;
      ws.on("pong", () => {
        alive = true;
      });
      const ping = setInterval(() => {
        if (!alive) ws.terminate();
        alive = false;
        ws.ping();
      }, PING_MS);
      ping.unref();
      ws.on("message", (data) => onMessage(connection, String(data)));
      ws.on("close", () => {
        clearInterval(ping);
        connections.delete(connection);
      });
      ws.on("error", () => ws.terminate());
    });
  }

  function onMessage(connection: Connection, text: string): void {
    const error = subscribe(connection, text);
    if (error) connection.socket.send(JSON.stringify({ error, status: 400 }));
  }

  /** Applies a `subscribe` or `unsubscribe` message; what went wrong, if anything. */
  function subscribe(connection: Connection, text: string): string | null {
    let message: { type?: unknown; stream?: unknown; tag?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      return "Error: Invalid JSON";
    }
    if (!message || typeof message !== "object") return null;
    if (message.type !== "subscribe" && message.type !== "unsubscribe") return null;
    const subscription = parseSubscription(message.stream, message.tag);
    if (!subscription) return "Error: Unknown stream type";
    const key = subscriptionKey(subscription);
    if (message.type === "unsubscribe") {
      connection.subscriptions.delete(key);
      return null;
    }
    if (!scopeAllows(connection.scopes, subscription.stream))
      return "Error: Access token does not have the required scopes";
    if (connection.subscriptions.size >= MAX_SUBSCRIPTIONS) return "Error: Too many subscriptions";
    connection.subscriptions.set(key, subscription);
    return null;
  }

  function send(connection: Connection, s: Subscription, event: string, payload: string): void {
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    connection.socket.send(JSON.stringify({ stream: streamLabel(s), event, payload }));
  }

  /** The member behind a connection right now, or `null` (token revoked, member suspended): then it is closed. */
  async function stillSignedIn(connection: Connection): Promise<Member | null> {
    const found: { member: Member; token: AccessToken } | null = await clique
      .authenticate(connection.secret, connection.kind)
      .catch(() => null);
    if (!found) {
      connection.socket.close(4001, "Invalid access token");
      return null;
    }
    connection.member = found.member;
    return found.member;
  }

  /** The subscriptions of a connection a post belongs to (before visibility). */
  async function streamsFor(
    connection: Connection,
    member: Member,
    post: Post,
    tags: readonly string[],
  ): Promise<Subscription[]> {
    const local = post.uri === null;
    const matched: Subscription[] = [];
    let related: Awaited<ReturnType<typeof clique.relationship>> | null = null;
    for (const s of connection.subscriptions.values()) {
      if (s.stream === "user:notification") continue;
      if (post.authorId !== member.id) {
        related ??= await clique.relationship(member, post.authorId);
        // Nothing from an account the member blocks or mutes.
        if (related.blocking || related.blockedBy || related.muting) return [];
      }
      // The home feed's own rule (core's listHomeEntries): members' posts, followed
      // accounts' posts, and posts addressed to the member (a direct post they may see).
      const fits =
        s.stream === "user"
          ? post.authorId === member.id ||
            local ||
            related?.following === true ||
            post.audience === "direct"
          : s.stream === "public" || s.stream === "public:local"
            ? local
            : tags.includes(s.tag ?? "") && (s.stream === "hashtag" || local);
      if (fits) matched.push(s);
    }
    return matched;
  }

  async function onPost(change: { kind: "post" | "post.update"; id: string }): Promise<void> {
    const post = await clique.getPostForModeration(change.id);
    if (!post || post.deletedAt !== null || (post.hiddenAt ?? null) !== null) return;
    const tags = (await clique.hashtagsOf(post.id)).map((t) => t.toLowerCase());
    const event = change.kind === "post" ? "update" : "status.update";
    for (const connection of connections) {
      if (connection.subscriptions.size === 0) continue;
      const member = await stillSignedIn(connection);
      if (!member) continue;
      const streams = await streamsFor(connection, member, post, tags);
      if (streams.length === 0) continue;
      // The visibility module decides, for this subscriber, now.
      const viewer = { kind: "member", actorId: member.id, role: member.role } as const;
      if (!(await clique.canViewPost(viewer, post))) continue;
      const [status] = await renderForMember(services, member, connection.kind).statuses([post]);
      if (!status) continue;
      const payload = JSON.stringify(status);
      for (const s of streams) send(connection, s, event, payload);
    }
  }

  async function onDelete(change: { id: string }): Promise<void> {
    const post = await clique.getPostForModeration(change.id);
    if (!post) return;
    // Judged as it was before it went: its audience is kept on the deleted row.
    const before: Post = { ...post, deletedAt: null, hiddenAt: null };
    for (const connection of connections) {
      const streams = [...connection.subscriptions.values()].filter(
        (s) => s.stream !== "user:notification",
      );
      if (streams.length === 0) continue;
      const member = await stillSignedIn(connection);
      if (!member) continue;
      const viewer = { kind: "member", actorId: member.id, role: member.role } as const;
      if (!(await clique.canViewPost(viewer, before))) continue;
      for (const s of streams) send(connection, s, "delete", post.id);
    }
  }

  async function onNotification(change: { id: string; recipient: string }): Promise<void> {
    const mine = [...connections].filter(
      (c) =>
        c.member.id === change.recipient &&
        (c.subscriptions.has("user") || c.subscriptions.has("user:notification")),
    );
    if (mine.length === 0) return;
    const loaded: Notification | null = await clique.loadNotification(change.id);
    if (!loaded) return;
    for (const connection of mine) {
      const member = await stillSignedIn(connection);
      if (!member) continue;
      // The same rules as the API's list: still about something the member may see.
      const found = await clique.getNotification(member, loaded.id);
      if (!found) continue;
      const [rendered] = await renderForMember(services, member, connection.kind).notifications(
        [found.notification],
        found.post ? [found.post] : [],
      );
      if (!rendered) continue;
      const payload = JSON.stringify(rendered);
      for (const s of connection.subscriptions.values())
        if (s.stream === "user" || s.stream === "user:notification")
          send(connection, s, "notification", payload);
    }
  }

  /**
   * Something waits for an e2ee device (issue 15): the `user` streams of the
   * session or token the device is bound to hear `e2ee.delivery` with the
   * device's id, and fetch what waits through the API. No ciphertext here.
   */
  async function onE2ee(change: { device: string }): Promise<void> {
    const device = await clique.e2ee.findDevice(change.device);
    if (!device || device.removedAt) return;
    for (const connection of connections) {
      if (connection.member.id !== device.memberId || connection.tokenId !== device.tokenId)
        continue;
      if (!connection.subscriptions.has("user")) continue;
      if (!(await stillSignedIn(connection))) continue;
      const payload = JSON.stringify({ device_id: device.id });
      for (const s of connection.subscriptions.values())
        if (s.stream === "user") send(connection, s, "e2ee.delivery", payload);
    }
  }

  async function dispatch(change: Change): Promise<void> {
    switch (change.kind) {
      case "post":
      case "post.update":
        return onPost(change);
      case "delete":
        return onDelete(change);
      case "notification":
        return onNotification(change);
      case "e2ee":
        return onE2ee(change);
    }
  }

  // One change at a time, in the order the database committed them.
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  function onChange(payload?: string): void {
    if (!payload || connections.size === 0) return;
    let change: Change;
    try {
      change = JSON.parse(payload) as Change;
    } catch {
      return;
    }
    // Bounded: a burst larger than this is dropped rather than held in memory.
    if (pending > 1_000) return;
    pending++;
    queue = queue
      .then(() => dispatch(change))
      .catch((error: unknown) => {
        log.warn("Could not stream a {kind}: {error}", { kind: change.kind, error });
      })
      .finally(() => {
        pending--;
      });
  }

  const listener = await listenForChanges(connectionString, STREAM_CHANNEL, onChange);
  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    void onUpgrade(request, socket, head).catch((error: unknown) => {
      log.warn("Could not open a stream: {error}", { error });
      socket.destroy();
    });
  };
  server.on("upgrade", upgrade);

  return {
    get connections() {
      return connections.size;
    },
    async close() {
      server.off("upgrade", upgrade);
      for (const connection of connections) connection.socket.terminate();
      connections.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await listener.stop();
      await queue.catch(() => {});
    },
  };
}
