/**
 * The benchmark's baseline: the smallest Fedify server that answers the same
 * reads as Clique, so every Clique figure can be put beside its framework's on
 * the same machine in the same run. In-memory KV, one Person with an RSA key
 * pair, WebFinger, and one Note whose object dispatcher is `.authorize`d: a
 * GET of the Note must carry a signature Fedify verifies (fetching the
 * signer's key, then caching it in the KV store). Served with `node:http`.
 *
 * It runs in the benchmark's own process: that process only waits on `wrk`
 * (a child process) while the baseline is measured.
 *
 * Its inboxes (the shared one and the actor's) take signed activities, as
 * Fedify verifies them (the signer's key fetched, then cached in the KV
 * store), and count the `Create`s that verified: the inbox benchmark's
 * baseline. With no queue, Fedify runs the listener before it answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { Create, Note, Person, PUBLIC_COLLECTION } from "@fedify/vocab";

const USERNAME = "bench";
const NOTE_ID = "1";

/** A running baseline server and the URLs the benchmark loads. */
export interface Baseline {
  origin: string;
  webfinger: string;
  actor: string;
  note: string;
  /** The shared inbox, `{origin}/inbox`. */
  inbox: string;
  /** How many `Create`s its inboxes accepted (signature verified) so far. */
  creates(): number;
  close(): Promise<void>;
}

/**
 * Starts the baseline on a free port of 127.0.0.1. `allowPrivateAddress`,
 * because the signers it verifies are fake remotes on loopback.
 */
export async function startBaseline(): Promise<Baseline> {
  const pair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const federation = createFederation<void>({
    kv: new MemoryKvStore(),
    allowPrivateAddress: true,
  });

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== USERNAME) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: "Bench",
        summary: "The baseline's one actor.",
        inbox: ctx.getInboxUri(identifier),
        publicKey: keys[0]?.cryptographicKey ?? null,
        assertionMethods: keys.map((k) => k.multikey),
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => (identifier === USERNAME ? [pair] : []));

  // Fedify verifies each POST's signature before a listener sees it.
  let creates = 0;
  federation.setInboxListeners("/users/{identifier}/inbox", "/inbox").on(Create, () => {
    creates++;
  });

  federation
    .setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (ctx, values) => {
      if (values.identifier !== USERNAME || values.id !== NOTE_ID) return null;
      return new Note({
        id: ctx.getObjectUri(Note, values),
        attribution: ctx.getActorUri(USERNAME),
        to: PUBLIC_COLLECTION,
        content: "<p>The baseline's one note.</p>",
      });
    })
    // Only a request whose signature verifies gets the Note (as Clique's
    // dispatcher, which asks who signed before deciding what to show).
    .authorize(async (ctx) => (await ctx.getSignedKeyOwner()) !== null);

  let origin = "";
  const server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    if (method === "POST") for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = new Request(new URL(req.url ?? "/", origin), {
      method,
      headers,
      ...(method === "POST" ? { body: Buffer.concat(chunks) } : {}),
    });
    const response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("Not Found", { status: 404 }),
      onNotAcceptable: () => new Response("Not Acceptable", { status: 406 }),
    });
    const body = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, {
      ...Object.fromEntries(response.headers),
      "content-length": String(body.length),
    });
    res.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    webfinger: `${origin}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${USERNAME}@127.0.0.1:${port}`)}`,
    actor: `${origin}/users/${USERNAME}`,
    note: `${origin}/users/${USERNAME}/notes/${NOTE_ID}`,
    inbox: `${origin}/inbox`,
    creates: () => creates,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
