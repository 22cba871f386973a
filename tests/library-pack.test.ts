/**
 * `@clique/core` and `@clique/moderation` as a library (issue 14): packed as
 * they would be published, installed with npm into a project under the temp
 * dir (outside the repository: no workspace links, no TypeScript sources),
 * a consumer written in TypeScript is compiled against the packed `.d.ts`
 * with `strict: true`, and its output runs on plain Node, with no loader: it
 * creates a Clique on a fresh PostgreSQL database, a member and a post, and
 * answers a WebFinger request and an actor fetch through Fedify.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { createTestDatabase, type TestDatabase } from "@clique/testing";
import {
  npmInstall,
  outsideNpm,
  packLibrary,
  peerSpecs,
  repoVersion,
  TSC,
} from "./support/library.ts";

const run = promisify(execFile);

/** The consumer: what a host application writes (also shown in the closing note). */
const CONSUMER = `import {
  ANONYMOUS,
  type Clique,
  type CreateCliqueOptions,
  createClique,
  type EventSubscriber,
  type Member,
  type Result,
} from "@clique/core";
import { createKyselyStores, migrateToLatest, openDatabase } from "@clique/core/kysely";
import { createModeration, migrateModeration, type ModerationDatabase } from "@clique/moderation";
import { MemoryKvStore } from "@fedify/fedify";
import type { Kysely } from "kysely";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is not set");
const origin = "https://club.example";

function valueOf<T, R extends string>(result: Result<T, R>, what: string): T {
  if (!result.ok) throw new Error(\`\${what} refused: \${result.reason}\`);
  return result.value;
}

// Your PostgreSQL, Clique's tables (and moderation's) migrated in it.
const db = openDatabase(databaseUrl);
await migrateToLatest(db);
await migrateModeration(db);

// An extension point: a subscriber sees every recorded event after it committed.
const seen: string[] = [];
const logger: EventSubscriber = {
  name: "consumer-log",
  async handle({ event }) {
    seen.push(event.kind);
  },
};
// Moderation keeps its own tables in the same database (typed apart from core's).
const moderation = createModeration({ db: db as unknown as Kysely<ModerationDatabase> });
const options: CreateCliqueOptions = {
  stores: createKyselyStores(db),
  config: { origin, defaultMemberCap: 25 },
  federation: { kv: new MemoryKvStore(), allowPrivateAddress: false, version: "0.1.0" },
  subscribers: [logger, ...moderation.subscribers],
  inboxListeners: moderation.inboxListeners,
};
const clique: Clique = createClique(options);
moderation.attach(clique);

const { owner } = valueOf(
  await clique.initClique({ name: "Book club", ownerUsername: "ada", ownerPassword: "a long passphrase" }),
  "initClique",
);
const post = valueOf(
  await clique.createPost(owner, { source: "Hello from an embedded Clique", audience: "public" }),
  "createPost",
);
// The outbox relay: a host runs this in a loop (the server does, woken by NOTIFY).
while ((await clique.relayNext()) !== "idle") {}

const federation = clique.federation;
if (!federation) throw new Error("federation is off");
const webfinger = await federation.fetch(
  new Request(\`\${origin}/.well-known/webfinger?resource=acct:ada@club.example\`),
  { contextData: undefined },
);
const finger = (await webfinger.json()) as { subject: string; links: { rel: string; href?: string }[] };
const actor = await federation.fetch(
  new Request(\`\${origin}/users/ada\`, { headers: { accept: "application/activity+json" } }),
  { contextData: undefined },
);
const person = (await actor.json()) as { type: string; preferredUsername: string; inbox: string };
const visible = await clique.listAccountPosts(ANONYMOUS, owner.id, { limit: 10 });

console.log(
  JSON.stringify(
    {
      member: { username: owner.username, role: owner.role },
      post: { audience: post.audience, contentHtml: post.contentHtml },
      relayed: seen,
      webfinger: {
        status: webfinger.status,
        subject: finger.subject,
        self: finger.links.find((link) => link.rel === "self")?.href,
      },
      actor: { status: actor.status, type: person.type, preferredUsername: person.preferredUsername, inbox: person.inbox },
      anonymousSees: visible.map((p) => p.source),
    },
    null,
    2,
  ),
);
await db.destroy();

// Type probes, never run: each line must fail to compile, which shows that the
// packed declarations carry real types (an unresolved one would be \`any\`).
export function typeProbes(member: Member): void {
  // @ts-expect-error a post's source is a string
  void clique.createPost(member, { source: 42 });
  // @ts-expect-error "everyone" is not an audience
  void clique.createPost(member, { source: "hi", audience: "everyone" });
  // @ts-expect-error the Kysely stores take a Kysely instance, not a URL
  createKyselyStores("postgres://localhost/clique");
  // @ts-expect-error moderation needs the database
  createModeration({});
  // @ts-expect-error Fedify's KvStore is required for federation
  createClique({ ...options, federation: { allowPrivateAddress: false, version: "1" } });
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2023",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    // As most hosts have it (checking every dependency's declarations takes
    // four times as long); the type probes show that ours resolve.
    skipLibCheck: true,
    outDir: "out",
    types: ["node"],
  },
  files: ["consumer.ts"],
};

let app: string;
let database: TestDatabase;

before(async () => {
  const [packed, dir, db] = await Promise.all([
    packLibrary(),
    mkdtemp(join(tmpdir(), "clique-consumer-")),
    createTestDatabase(),
  ]);
  app = dir;
  database = db;
  await writeFile(
    join(app, "package.json"),
    JSON.stringify({ name: "clique-consumer", private: true, type: "module" }),
  );
  await npmInstall(app, [
    packed.core,
    packed.moderation,
    ...peerSpecs(),
    `@types/node@${repoVersion("@types/node")}`,
  ]);
  await writeFile(join(app, "consumer.ts"), CONSUMER);
  await writeFile(join(app, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
});

after(async () => {
  await database?.drop();
  if (app) await rm(app, { recursive: true, force: true });
});

test("the packed manifests point at dist/, name the host's peers, and are not private", async () => {
  const manifest = JSON.parse(
    await readFile(join(app, "node_modules/@clique/core/package.json"), "utf8"),
  ) as Record<string, unknown>;
  assert.equal(manifest.private, undefined);
  assert.equal(manifest.license, "MIT");
  assert.equal(manifest.sideEffects, false);
  assert.deepEqual(manifest.exports, {
    ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
    "./kysely": {
      types: "./dist/storage/kysely/index.d.ts",
      import: "./dist/storage/kysely/index.js",
    },
  });
  assert.deepEqual(Object.keys(manifest.peerDependencies as object).sort(), [
    "@fedify/fedify",
    "@fedify/vocab",
    "kysely",
    "pg",
  ]);
  const moderation = JSON.parse(
    await readFile(join(app, "node_modules/@clique/moderation/package.json"), "utf8"),
  ) as { peerDependencies: Record<string, string> };
  assert.equal(moderation.peerDependencies["@clique/core"], "^0.1.0");
});

test("a strict TypeScript consumer compiles against the packed declarations", async () => {
  try {
    await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: app, env: outsideNpm() });
  } catch (error) {
    const e = error as { stdout?: string; message: string };
    assert.fail(`tsc failed in the consumer project:\n${e.stdout || e.message}`);
  }
});

test("plain Node runs the consumer: a Clique on PostgreSQL, a member, a post, WebFinger", async () => {
  const { stdout } = await run(process.execPath, ["out/consumer.js"], {
    cwd: app,
    env: { ...outsideNpm(), DATABASE_URL: database.url, NODE_OPTIONS: "" },
  });
  const output = JSON.parse(stdout) as {
    member: { username: string; role: string };
    post: { audience: string; contentHtml: string };
    relayed: string[];
    webfinger: { status: number; subject: string; self: string };
    actor: { status: number; type: string; preferredUsername: string; inbox: string };
    anonymousSees: string[];
  };
  assert.deepEqual(output.member, { username: "ada", role: "owner" });
  assert.equal(output.post.audience, "public");
  assert.match(output.post.contentHtml, /Hello from an embedded Clique/);
  assert.ok(output.relayed.includes("post-created"), `relayed: ${output.relayed.join(", ")}`);
  assert.deepEqual(output.webfinger, {
    status: 200,
    subject: "acct:ada@club.example",
    self: "https://club.example/users/ada",
  });
  assert.deepEqual(output.actor, {
    status: 200,
    type: "Person",
    preferredUsername: "ada",
    inbox: "https://club.example/users/ada/inbox",
  });
  assert.deepEqual(output.anonymousSees, ["Hello from an embedded Clique"]);
});
