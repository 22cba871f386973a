/**
 * Default avatars and the header image, as other servers and clients fetch
 * them: real PNGs that a real decoder (sharp, libvips) reads to the last
 * pixel, one per account, the same on every request, named by the actor
 * document, and gone with a removed member exactly as if she never existed.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import {
  createTestDatabase,
  lastLine,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import sharp from "sharp";

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let env: NodeJS.ProcessEnv = {};
const tokens = { alice: "", bob: "", erin: "" };
const accounts = {} as Record<
  keyof typeof tokens,
  { id: string; avatar: string; avatar_static: string }
>;

before(async () => {
  db = await createTestDatabase();
  env = { ...process.env, DATABASE_URL: db.url };
  await runCliOk(["init", "--name", "Faces", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: "alice-password-1",
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  for (const name of ["bob", "erin"] as const)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: `${name}-password-123`,
    });
  server = await startServerProcess({ env, databaseUrl: db.url });
  for (const name of ["alice", "bob", "erin"] as const) {
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    const response = await fetch(`${server.url}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${tokens[name]}` },
    });
    accounts[name] = await response.json();
  }
});

after(async () => {
  if (server && / ERR clique/.test(server.output())) console.error(server.output());
  await server?.stop();
  await db?.drop();
  await stopEmbeddedTestServer();
});

async function get(path: string, headers: Record<string, string> = {}) {
  assert.ok(server, "the server is running");
  const response = await fetch(new URL(path, server.url), { headers });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** Decodes a PNG to its last pixel; fails if it is not a complete, valid image. */
async function decode(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.format, "raw");
  assert.equal(data.length, info.width * info.height * info.channels, "every pixel decoded");
  const metadata = await sharp(png).metadata();
  assert.equal(metadata.format, "png");
  return { width: info.width, height: info.height, colours: countColours(data, info.channels) };
}

function countColours(data: Buffer, channels: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < data.length && seen.size < 10; i += channels)
    seen.add(data.subarray(i, i + channels).toString("hex"));
  return seen.size;
}

test("every account names its own avatar, under /avatars", () => {
  const origin = server!.origin;
  for (const [name, account] of Object.entries(accounts)) {
    assert.equal(account.avatar, `${origin}/avatars/${account.id}.png`, name);
    assert.equal(account.avatar_static, account.avatar, name);
  }
});

test("an avatar is a real 400×400 PNG, drawn in two colours, different for each account", async () => {
  const alice = await get(new URL(accounts.alice.avatar).pathname);
  const bob = await get(new URL(accounts.bob.avatar).pathname);
  for (const [name, answer] of [
    ["alice", alice],
    ["bob", bob],
  ] as const) {
    assert.equal(answer.status, 200, name);
    assert.equal(answer.headers.get("content-type"), "image/png", name);
    const image = await decode(answer.body);
    assert.deepEqual([image.width, image.height], [400, 400], name);
    assert.equal(image.colours, 2, `${name}: a face on a background`);
  }
  assert.ok(!alice.body.equals(bob.body), "alice's and bob's avatars differ");
  assert.notEqual(alice.headers.get("etag"), bob.headers.get("etag"));
});

test("an avatar is the same on every request, cached long, and revalidated by its ETag", async () => {
  const path = new URL(accounts.alice.avatar).pathname;
  const first = await get(path);
  const second = await get(path);
  assert.ok(first.body.equals(second.body), "the same bytes twice");
  const etag = first.headers.get("etag");
  assert.ok(etag && /^"[^"]+"$/.test(etag), `a strong ETag, got ${etag}`);
  assert.equal(second.headers.get("etag"), etag);
  const maxAge = Number(/max-age=(\d+)/.exec(first.headers.get("cache-control") ?? "")?.[1]);
  assert.ok(
    maxAge >= 7 * 24 * 3600,
    `cached for a week or more, got ${first.headers.get("cache-control")}`,
  );
  assert.match(first.headers.get("cache-control") ?? "", /\bpublic\b/);
  const revalidated = await get(path, { "if-none-match": etag });
  assert.equal(revalidated.status, 304);
  assert.equal(revalidated.body.length, 0);
  const changed = await get(path, { "if-none-match": '"something-else"' });
  assert.equal(changed.status, 200);
  assert.ok(changed.body.equals(first.body));
});

test("the actor document's icon is the account's avatar", async () => {
  const actor = await get("/users/alice", { accept: "application/activity+json" });
  assert.equal(actor.status, 200);
  const json = JSON.parse(actor.body.toString("utf8")) as {
    icon?: { type?: string; url?: string; mediaType?: string };
  };
  assert.equal(json.icon?.type, "Image");
  assert.equal(json.icon?.url, `${server!.origin}/avatars/${accounts.alice.id}.png`);
  assert.equal(json.icon?.url, accounts.alice.avatar, "the same as in the client API");
  assert.equal(json.icon?.mediaType, "image/png");
});

test("the header image and the old static avatar are real PNGs too", async () => {
  for (const path of ["/static/header.png", "/static/avatar.png"]) {
    const answer = await get(path);
    assert.equal(answer.status, 200, path);
    assert.equal(answer.headers.get("content-type"), "image/png", path);
    const image = await decode(answer.body);
    assert.ok(image.width >= 400 && image.height >= 400, `${path}: ${image.width}×${image.height}`);
  }
});

test("a removed member's avatar answers exactly like an unknown account's", async () => {
  const path = new URL(accounts.erin.avatar).pathname;
  // Drawn (and cached) while she is a member...
  assert.equal((await get(path)).status, 200);
  await runCliOk(["member", "set-status", "erin", "removed"], { env });
  // ...and gone once she is removed, the same way as an id nobody ever had.
  const removed = await get(path);
  const unknown = await get(`/avatars/${randomUUID()}.png`);
  const nonsense = await get("/avatars/not-an-id.png");
  const shape = (a: Awaited<ReturnType<typeof get>>) => ({
    status: a.status,
    body: a.body.toString("utf8"),
    headers: [...a.headers].filter(([name]) => name !== "date"),
  });
  assert.equal(removed.status, 404);
  assert.deepEqual(shape(removed), shape(unknown));
  assert.deepEqual(shape(nonsense), shape(unknown));
  // A remaining member's avatar still answers.
  assert.equal((await get(new URL(accounts.bob.avatar).pathname)).status, 200);
});
