/**
 * Remote servers for the fan-out and inbox benchmarks: many light `node:http`
 * servers on loopback, each with many accounts, that (as Mastodon does)
 * verify the draft-cavage HTTP signature and the `Digest` of every inbox POST
 * before counting it, and serve their accounts' actor documents so that
 * Clique can verify what they sign.
 *
 * Unlike the test rig's `startFakeRemote` (one fresh RSA key per account,
 * every request recorded), thousands of accounts must start in seconds: the
 * accounts share a small pool of RSA-2048 keys (each account still has its own
 * key id, and every signature is really made and really checked), and only
 * verified deliveries are kept.
 *
 * A POST signed with RFC 9421 only is answered 401, as a server that knows
 * only draft-cavage answers; Fedify then knocks again with draft-cavage and
 * remembers that for the origin (counted in `refusedRfc9421`).
 */
import { generateKeyPair } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import {
  genRFC3230DigestHeader,
  type HeadersLike,
  parseRequestSignature,
  signAsDraftToRequest,
  verifyDraftSignature,
  verifyRFC3230DigestHeader,
} from "@misskey-dev/node-http-message-signatures";

const generateKeyPairAsync = promisify(generateKeyPair);
const AS = "https://www.w3.org/ns/activitystreams";
const ACTOR_CONTEXT = [AS, "https://w3id.org/security/v1"];
const POST_COMPONENTS = ["(request-target)", "host", "date", "digest", "content-type"];
const BODY_LIMIT = 1_000_000;

type Json = Record<string, unknown>;

/** An RSA-2048 key pair, PEM-encoded. */
export interface KeyPairPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

/** Generates `count` RSA-2048 key pairs (in the thread pool, in parallel). */
export function keyPool(count: number): Promise<KeyPairPem[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const pair = await generateKeyPairAsync("rsa", {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
      });
      return { publicKeyPem: pair.publicKey, privateKeyPem: pair.privateKey };
    }),
  );
}

/** One account of a bench server. */
export interface BenchAccount {
  username: string;
  /** `{origin}/users/{username}`. */
  id: string;
  /** `{id}#main-key`. */
  keyId: string;
  inbox: string;
  followers: string;
  /** The server it lives on. */
  origin: string;
  host: string;
  sharedInbox: string;
  keys: KeyPairPem;
}

/** An inbox POST whose signature and digest verified. */
export interface Delivery {
  /** performance.now() when it was verified. */
  at: number;
  type: string;
  /** The activity's object's id (embedded or referenced). */
  objectId: string | null;
  keyId: string;
  /** Whether it came to the shared inbox. */
  shared: boolean;
}

/** A running bench server. */
export interface BenchServer {
  origin: string;
  host: string;
  sharedInbox: string;
  accounts: BenchAccount[];
  /** Verified deliveries, oldest first. */
  deliveries: Delivery[];
  /** POSTs signed with RFC 9421 only, answered 401. */
  refusedRfc9421: number;
  /** POSTs whose draft signature or digest did not verify (answered 401), with why. */
  refusedInvalid: string[];
  /** Called with each verified delivery as it comes. */
  onDelivery?: (delivery: Delivery) => void;
  close(): Promise<void>;
}

/** How to start the bench servers. */
export interface BenchServerOptions {
  /** How many accounts each server has (one entry per server). */
  accounts: readonly number[];
  /** Account names are `{prefix}{server}x{n}`. */
  prefix: string;
  /** The keys the accounts share, server `i` using `keys[i % keys.length]`. */
  keys: readonly KeyPairPem[];
}

/** Starts one server per entry of `options.accounts`, each on a free port of 127.0.0.1. */
export async function startBenchServers(options: BenchServerOptions): Promise<BenchServer[]> {
  const servers: BenchServer[] = [];
  try {
    for (let i = 0; i < options.accounts.length; i++) {
      servers.push(
        await startBenchServer(
          options.accounts[i]!,
          `${options.prefix}${i}x`,
          options.keys[i % options.keys.length]!,
        ),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    throw error;
  }
  return servers;
}

async function startBenchServer(
  count: number,
  prefix: string,
  keys: KeyPairPem,
): Promise<BenchServer> {
  // Sender keys, by key id, as a Mastodon server caches them.
  const senderKeys = new Map<string, Promise<string>>();
  const accounts = new Map<string, BenchAccount>();
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const host = `127.0.0.1:${port}`;
  const sharedInbox = `${origin}/inbox`;
  for (let n = 0; n < count; n++) {
    const username = `${prefix}${n}`;
    const id = `${origin}/users/${username}`;
    accounts.set(username, {
      username,
      id,
      keyId: `${id}#main-key`,
      inbox: `${id}/inbox`,
      followers: `${id}/followers`,
      origin,
      host,
      sharedInbox,
      keys,
    });
  }

  const bench: BenchServer = {
    origin,
    host,
    sharedInbox,
    accounts: [...accounts.values()],
    deliveries: [],
    refusedRfc9421: 0,
    refusedInvalid: [],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", origin);
    const send = (status: number, payload?: unknown, type = "application/activity+json") => {
      if (payload === undefined) {
        res.writeHead(status);
        res.end();
      } else {
        res.writeHead(status, { "content-type": `${type}; charset=utf-8` });
        res.end(JSON.stringify(payload));
      }
    };
    const user = /^\/users\/([A-Za-z0-9_]+)(\/inbox|\/followers|\/following|\/outbox)?$/.exec(
      url.pathname,
    );
    const account = user ? accounts.get(user[1]!) : undefined;
    if (req.method === "POST") {
      const shared = url.pathname === "/inbox";
      if (!shared && !(account && user?.[2] === "/inbox")) return send(404);
      return send(await receive(req, url, body, shared));
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(405);
    if (!account) return send(404);
    if (!user?.[2]) return send(200, actorDocument(account));
    return send(200, {
      "@context": AS,
      id: `${account.id}${user[2]}`,
      type: "OrderedCollection",
      totalItems: 0,
      orderedItems: [],
    });
  }

  async function receive(
    req: IncomingMessage,
    url: URL,
    body: string,
    shared: boolean,
  ): Promise<number> {
    if (req.headers["signature-input"]) {
      bench.refusedRfc9421++;
      return 401;
    }
    const like = {
      url: `${url.pathname}${url.search}`,
      method: "POST",
      headers: req.headers as HeadersLike,
    };
    let keyId = "";
    try {
      const parsed = parseRequestSignature(like, {
        requiredComponents: { draft: ["(request-target)", "host", "date", "digest"] },
      });
      if (parsed.version !== "draft") throw new Error(`a ${parsed.version} signature`);
      keyId = parsed.value.keyId;
      if (!(await verifyRFC3230DigestHeader(like, body, true))) throw new Error("digest mismatch");
      let key = senderKeys.get(keyId);
      if (!key) {
        key = fetchKey(keyId);
        senderKeys.set(keyId, key);
        key.catch(() => senderKeys.delete(keyId));
      }
      if (!(await verifyDraftSignature(parsed.value, await key)))
        throw new Error("signature does not verify");
    } catch (error) {
      bench.refusedInvalid.push(`${keyId || "(no key id)"}: ${String(error)}`);
      return 401;
    }
    const activity = JSON.parse(body) as Json;
    const object = activity.object;
    const delivery: Delivery = {
      at: performance.now(),
      type: String(activity.type),
      objectId:
        typeof object === "string"
          ? object
          : object && typeof object === "object" && "id" in object
            ? String((object as Json).id)
            : null,
      keyId,
      shared,
    };
    bench.deliveries.push(delivery);
    bench.onDelivery?.(delivery);
    return 202;
  }

  function actorDocument(account: BenchAccount): Json {
    return {
      "@context": ACTOR_CONTEXT,
      id: account.id,
      type: "Person",
      preferredUsername: account.username,
      name: account.username,
      inbox: account.inbox,
      outbox: `${account.id}/outbox`,
      followers: account.followers,
      following: `${account.id}/following`,
      manuallyApprovesFollowers: false,
      publicKey: {
        id: account.keyId,
        owner: account.id,
        publicKeyPem: account.keys.publicKeyPem,
      },
      endpoints: { sharedInbox },
    };
  }

  return bench;
}

/** Fetches a signer's public key PEM from the document its key id names, as Mastodon does. */
async function fetchKey(keyId: string): Promise<string> {
  const response = await fetch(keyId.replace(/#.*$/, ""), {
    headers: { accept: "application/activity+json" },
  });
  if (!response.ok) throw new Error(`GET ${keyId}: ${response.status}`);
  const actor = (await response.json()) as { publicKey?: Json | Json[] };
  const keys = Array.isArray(actor.publicKey) ? actor.publicKey : [actor.publicKey];
  const key = keys.find((k) => k?.id === keyId);
  if (typeof key?.publicKeyPem !== "string") throw new Error(`no key ${keyId} in its document`);
  return key.publicKeyPem;
}

/** An inbox POST signed as Mastodon signs it, ready to send (and to send again). */
export interface SignedPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Signs a POST of `activity` to `inbox` as `account` (draft-cavage over
 * `(request-target) host date digest content-type`, with `Digest: SHA-256=`).
 */
export async function signPost(
  inbox: string,
  activity: unknown,
  account: BenchAccount,
): Promise<SignedPost> {
  const body = JSON.stringify(activity);
  const url = new URL(inbox);
  const headers: Record<string, string> = {
    host: url.host,
    date: new Date().toUTCString(),
    digest: await genRFC3230DigestHeader(body, "SHA-256"),
    "content-type": "application/activity+json",
  };
  await signAsDraftToRequest(
    { url: url.href, method: "POST", headers },
    { keyId: account.keyId, privateKeyPem: account.keys.privateKeyPem },
    POST_COMPONENTS,
  );
  const { host: _host, ...rest } = headers;
  return { url: url.href, headers: rest, body };
}

/** A public `Create(Note)` by `account`, the Note embedded as Mastodon sends it. */
export function createNote(account: BenchAccount, key: string, text: string): Json {
  const noteId = `${account.id}/statuses/${key}`;
  const published = new Date().toISOString();
  return {
    "@context": AS,
    id: `${noteId}/activity`,
    type: "Create",
    actor: account.id,
    published,
    to: [`${AS}#Public`],
    cc: [account.followers],
    object: {
      id: noteId,
      type: "Note",
      attributedTo: account.id,
      content: `<p>${text}</p>`,
      published,
      to: [`${AS}#Public`],
      cc: [account.followers],
    },
  };
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
