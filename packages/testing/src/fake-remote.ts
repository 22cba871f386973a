/**
 * A fake remote ActivityPub server that is not Fedify: a plain `node:http`
 * server on loopback serving Mastodon-shaped actor documents (RSA-2048 keys,
 * PEM in `publicKeyPem`), WebFinger and NodeInfo, and recording everything
 * sent to it. Tests sign requests *as* its accounts with the private keys it
 * hands out, and assert what Clique delivered to its inboxes.
 *
 * It knows nothing of HTTP signatures itself: whether an inbox POST is
 * accepted is the test's call (`inboxStatus`), so a test can verify them with
 * the library of its choice and answer 401 as a strict server would.
 */

import { generateKeyPair } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { promisify } from "node:util";

const generateKeyPairAsync = promisify(generateKeyPair);

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
const ACTOR_CONTEXT = [
  AS_CONTEXT,
  "https://w3id.org/security/v1",
  {
    manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
    toot: "http://joinmastodon.org/ns#",
    featured: { "@id": "toot:featured", "@type": "@id" },
    discoverable: "toot:discoverable",
    indexable: "toot:indexable",
  },
];
const BODY_LIMIT = 1_000_000;
const DEFAULT_WAIT_MS = 20_000;

/** One account of the fake server, with the keys to sign as it. */
export interface FakeAccount {
  username: string;
  /** The actor id, `{origin}/users/{username}`. */
  id: string;
  /** `{id}#main-key`, as Mastodon names it. */
  keyId: string;
  publicKeyPem: string;
  privateKeyPem: string;
  inbox: string;
  outbox: string;
  followers: string;
  following: string;
  /** Profile page, `{origin}/@{username}`. */
  url: string;
  /** `@username@host`. */
  handle: string;
  name: string;
  summary: string;
  /** A deleted account answers 410 Gone, as Mastodon's do. */
  gone: boolean;
  /**
   * The actor document's `@context` (default: Mastodon's, which defines
   * `manuallyApprovesFollowers`, `discoverable`, `indexable`...). A server with
   * a context of its own may leave those terms undefined.
   */
  context: unknown;
  /** Properties added to (or replacing those of) the actor document. */
  properties: Record<string, unknown>;
}

/** A request the fake server received, and what it answered. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  /** Lower-cased header names. */
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON; `undefined` if it is not JSON. */
  json: unknown;
  /** The status the fake server answered. */
  status: number;
  /** Whether it was a POST to an inbox (an account's or the shared one). */
  inbox: boolean;
}

/** How to start a fake remote server. */
export interface FakeRemoteOptions {
  /** The accounts to serve (`/users/{username}`). */
  usernames: readonly string[];
  /** The status answered to an inbox POST (default 202). May verify its signature. */
  inboxStatus?: (request: RecordedRequest) => number | Promise<number>;
}

/** A running fake remote server. */
export interface FakeRemote {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** `127.0.0.1:PORT`, as in handles and `URL.host`. */
  host: string;
  /** The shared inbox, `{origin}/inbox`. */
  sharedInbox: string;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  account(username: string): FakeAccount;
  /** The actor document served for an account (Mastodon's shape). */
  actorDocument(username: string): Record<string, unknown>;
  /** Changes what an account's document says from now on. */
  update(
    username: string,
    changes: Partial<Pick<FakeAccount, "name" | "summary" | "gone" | "context" | "properties">>,
  ): void;
  /** Serves an object (a Note...) at its `id`, as its origin server would. */
  publish(object: { id: string } & Record<string, unknown>): void;
  /**
   * Serves a file at `path` (GET, unsigned), as a media server would: `body`
   * as `type` (and `status`, default 200). Replaces what was there.
   */
  serveFile(path: string, file: { body: Uint8Array; type: string; status?: number }): void;
  /** The inbox POSTs received so far. */
  inboxPosts(): RecordedRequest[];
  /** Resolves with the first request (received or to come) that matches; rejects after a timeout. */
  waitFor(
    predicate: (request: RecordedRequest) => boolean,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** Starts a fake remote server with fresh RSA-2048 keys for each account. */
export async function startFakeRemote(options: FakeRemoteOptions): Promise<FakeRemote> {
  const keys = await Promise.all(
    options.usernames.map(() =>
      generateKeyPairAsync("rsa", {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
      }),
    ),
  );
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Record<string, unknown>>();
  const files = new Map<string, { body: Uint8Array; type: string; status?: number }>();
  const events = new EventEmitter();
  const accounts = new Map<string, FakeAccount>();
  let origin = "";

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", origin);
    let json: unknown;
    try {
      json = body === "" ? undefined : JSON.parse(body);
    } catch {
      json = undefined;
    }
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: req.headers,
      body,
      json,
      status: 0,
      inbox: false,
    };
    const send = (status: number, payload?: unknown, type = "application/activity+json") => {
      record.status = status;
      requests.push(record);
      events.emit("request", record);
      if (payload === undefined) {
        res.writeHead(status);
        res.end();
      } else {
        res.writeHead(status, { "content-type": `${type}; charset=utf-8` });
        res.end(JSON.stringify(payload));
      }
    };

    const userPath = /^\/users\/([A-Za-z0-9_]+)(?:\/(inbox|outbox|followers|following))?$/.exec(
      url.pathname,
    );
    const account = userPath ? accounts.get(userPath[1]!) : undefined;
    if (record.method === "POST") {
      if (url.pathname === "/inbox" || (account && userPath?.[2] === "inbox")) {
        record.inbox = true;
        return send(options.inboxStatus ? await options.inboxStatus(record) : 202);
      }
      return send(404);
    }
    if (record.method !== "GET" && record.method !== "HEAD") return send(405);

    if (url.pathname === "/.well-known/webfinger") {
      const found = findByResource(url.searchParams.get("resource") ?? "");
      if (!found) return send(404);
      return send(
        200,
        {
          subject: `acct:${found.username}@${new URL(origin).host}`,
          aliases: [found.url, found.id],
          links: [
            { rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: found.url },
            { rel: "self", type: "application/activity+json", href: found.id },
          ],
        },
        "application/jrd+json",
      );
    }
    if (url.pathname === "/.well-known/nodeinfo") {
      return send(
        200,
        {
          links: [
            {
              rel: "http://nodeinfo.diaspora.software/ns/schema/2.0",
              href: `${origin}/nodeinfo/2.0`,
            },
          ],
        },
        "application/json",
      );
    }
    if (url.pathname === "/nodeinfo/2.0") {
      return send(
        200,
        {
          version: "2.0",
          software: { name: "mastodon", version: "4.3.0" },
          protocols: ["activitypub"],
          services: { outbound: [], inbound: [] },
          usage: { users: { total: accounts.size }, localPosts: objects.size },
          openRegistrations: false,
          metadata: {},
        },
        "application/json",
      );
    }
    if (account) {
      if (account.gone) return send(410, { error: "Gone" }, "application/json");
      if (!userPath?.[2]) return send(200, actorDocument(account));
      if (userPath[2] === "inbox") return send(405);
      return send(200, {
        "@context": AS_CONTEXT,
        id: `${account.id}/${userPath[2]}`,
        type: "OrderedCollection",
        totalItems: 0,
        orderedItems: [],
      });
    }
    const object = objects.get(`${origin}${url.pathname}`);
    if (object) return send(200, object);
    const file = files.get(url.pathname);
    if (file) {
      record.status = file.status ?? 200;
      requests.push(record);
      events.emit("request", record);
      res.writeHead(record.status, {
        "content-type": file.type,
        "content-length": String(file.body.length),
      });
      res.end(record.method === "HEAD" ? undefined : file.body);
      return;
    }
    return send(404);
  }

  function findByResource(resource: string): FakeAccount | undefined {
    const acct = /^acct:([^@]+)@(.+)$/.exec(resource);
    if (acct) {
      return acct[2]!.toLowerCase() === new URL(origin).host ? accounts.get(acct[1]!) : undefined;
    }
    return [...accounts.values()].find((a) => a.id === resource || a.url === resource);
  }

  function actorDocument(account: FakeAccount): Record<string, unknown> {
    return {
      "@context": account.context,
      id: account.id,
      type: "Person",
      following: account.following,
      followers: account.followers,
      inbox: account.inbox,
      outbox: account.outbox,
      featured: `${account.id}/collections/featured`,
      preferredUsername: account.username,
      name: account.name,
      summary: account.summary,
      url: account.url,
      manuallyApprovesFollowers: false,
      discoverable: true,
      indexable: false,
      published: "2024-01-01T00:00:00Z",
      publicKey: { id: account.keyId, owner: account.id, publicKeyPem: account.publicKeyPem },
      tag: [],
      attachment: [],
      endpoints: { sharedInbox: `${origin}/inbox` },
      ...account.properties,
    };
  }

  origin = `http://127.0.0.1:${await listen(server)}`;
  const host = new URL(origin).host;
  options.usernames.forEach((username, i) => {
    const id = `${origin}/users/${username}`;
    accounts.set(username, {
      username,
      id,
      keyId: `${id}#main-key`,
      publicKeyPem: keys[i]!.publicKey,
      privateKeyPem: keys[i]!.privateKey,
      inbox: `${id}/inbox`,
      outbox: `${id}/outbox`,
      followers: `${id}/followers`,
      following: `${id}/following`,
      url: `${origin}/@${username}`,
      handle: `@${username}@${host}`,
      name: username[0]!.toUpperCase() + username.slice(1),
      summary: `<p>${username} lives on a server that is not Fedify.</p>`,
      gone: false,
      context: ACTOR_CONTEXT,
      properties: {},
    });
  });

  function account(username: string): FakeAccount {
    const found = accounts.get(username);
    if (!found) throw new Error(`the fake remote has no account ${username}`);
    return found;
  }

  return {
    origin,
    host,
    sharedInbox: `${origin}/inbox`,
    requests,
    account,
    actorDocument: (username) => actorDocument(account(username)),
    update(username, changes) {
      Object.assign(account(username), changes);
    },
    publish(object) {
      objects.set(object.id, object);
    },
    serveFile(path, file) {
      files.set(path, file);
    },
    inboxPosts: () => requests.filter((r) => r.inbox),
    waitFor(predicate, waitOptions = {}) {
      const found = requests.find(predicate);
      if (found) return Promise.resolve(found);
      const timeoutMs = waitOptions.timeoutMs ?? DEFAULT_WAIT_MS;
      return new Promise((resolve, reject) => {
        const onRequest = (request: RecordedRequest) => {
          if (!predicate(request)) return;
          clearTimeout(timer);
          events.off("request", onRequest);
          resolve(request);
        };
        const timer = setTimeout(() => {
          events.off("request", onRequest);
          const seen = requests.map((r) => `${r.method} ${r.path} → ${r.status} ${typeOf(r.json)}`);
          reject(
            new Error(
              `The fake remote did not receive ${waitOptions.what ?? "the expected request"} within ${timeoutMs} ms; it received:\n${seen.join("\n") || "(nothing)"}`,
            ),
          );
        }, timeoutMs);
        events.on("request", onRequest);
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function typeOf(json: unknown): string {
  return json && typeof json === "object" && "type" in json ? String(json.type) : "";
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Listens on a free port of 127.0.0.1 and returns it. */
async function listen(server: Server): Promise<number> {
  await bind(server, "127.0.0.1", 0);
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the fake remote has no address");
  return address.port;
}

function bind(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
