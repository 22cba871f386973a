/**
 * The one named fixture world (GoToSocial's testrig): a Clique with an owner,
 * members in every standing, remote actors in every relationship, and a circle.
 * Tests read it by name (`world.members.bob_member`, `world.viewer("carol_remote")`)
 * so a table row says who is looking, not which row id.
 *
 * Everything that a use case can create is created through the use case;
 * only what has none yet (roles, remote actors) is written directly.
 */
import {
  type Actor,
  type Clique,
  type CliqueSettings,
  createClique,
  type Member,
  newId,
  type Stores,
  type Viewer,
} from "@clique/core";
import {
  createKyselyStores,
  type Database,
  migrateToLatest,
  openDatabase,
} from "@clique/core/kysely";
import type { Kysely } from "kysely";
import { createTestDatabase, embeddedTestDatabase } from "./database.ts";

/** Origin of every test Clique. */
export const TEST_ORIGIN = "https://clique.test";
/** Host of the world's remote actors. */
export const REMOTE_HOST = "remote.example";
/** Member cap of the world's Clique. */
export const WORLD_MEMBER_CAP = 50;

/** A migrated, empty database with a Clique composed over it. */
export interface TestClique {
  clique: Clique;
  stores: Stores;
  db: Kysely<Database>;
  /** Which PostgreSQL this runs on, for test names. */
  backend: "embedded" | "DATABASE_URL";
  /** Closes the pool and drops the database. Idempotent. */
  drop(): Promise<void>;
}

/** A PostgreSQL a suite can run on. */
export interface TestBackend {
  /** For test names: which server this is. */
  name: string;
  /** Pass to `openTestClique`. */
  embedded: boolean;
}

/**
 * The back ends a suite that must cover both should run on: `createTestDatabase()`'s
 * (the `DATABASE_URL` server, or embedded when unset) and, when `DATABASE_URL` is
 * set, the embedded server too.
 */
export function testBackends(): TestBackend[] {
  return process.env.DATABASE_URL
    ? [
        { name: "DATABASE_URL PostgreSQL", embedded: false },
        { name: "embedded PostgreSQL", embedded: true },
      ]
    : [{ name: "embedded PostgreSQL (DATABASE_URL unset)", embedded: true }];
}

/**
 * Creates a fresh database (on `DATABASE_URL`'s server, or embedded when unset or
 * when `embedded` is set), migrates it and composes a Clique with origin
 * `https://clique.test`.
 */
export async function openTestClique(
  options: { embedded?: boolean; maxConnections?: number; now?: () => Date } = {},
): Promise<TestClique> {
  const embedded = options.embedded === true || !process.env.DATABASE_URL;
  const database = embedded ? await embeddedTestDatabase() : await createTestDatabase();
  const db = openDatabase(
    database.url,
    options.maxConnections ? { maxConnections: options.maxConnections } : {},
  );
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    await database.drop();
    throw error;
  }
  const stores = createKyselyStores(db);
  const clique = createClique({
    stores,
    config: { origin: TEST_ORIGIN, defaultMemberCap: WORLD_MEMBER_CAP },
    ...(options.now ? { now: options.now } : {}),
  });
  let dropping: Promise<void> | undefined;
  return {
    clique,
    stores,
    db,
    backend: embedded ? "embedded" : "DATABASE_URL",
    drop() {
      dropping ??= db.destroy().then(() => database.drop());
      return dropping;
    },
  };
}

/** Local members of the world. */
export type MemberName = "alice_owner" | "bob_member" | "dave_moderator" | "erin_removed";
/** Remote actors of the world. */
export type RemoteName =
  | "carol_remote"
  | "frank_remote"
  | "grace_remote"
  | "heidi_blocked"
  | "ivan_friend";
/** Everyone in the world. */
export type ActorName = MemberName | RemoteName;
/** The instance actor of `remote.example`, as a viewer: it stands for every actor on that host. */
export const REMOTE_SERVER = "remote_server";
/** Every viewer the world can build: its actors, `remote.example`'s server, and no one. */
export type WorldViewerName = ActorName | typeof REMOTE_SERVER | "anonymous";

/** Every member's password (at least 10 characters, as the rules require). */
export const WORLD_PASSWORDS: Readonly<Record<MemberName, string>> = {
  alice_owner: "alice-owner-password",
  bob_member: "bob-member-password",
  dave_moderator: "dave-moderator-password",
  erin_removed: "erin-removed-password",
};

/** What `seedWorld` made. */
export interface World {
  settings: CliqueSettings;
  /** Members as they are after seeding (roles and statuses applied). */
  members: Record<MemberName, Member>;
  remotes: Record<RemoteName, Actor>;
  /** Actor id of everyone, by name. */
  ids: Record<ActorName, string>;
  passwords: Readonly<Record<MemberName, string>>;
  /** Circle ids: `family` is alice_owner's, holding bob_member and grace_remote. */
  circles: { family: string };
  /** The invite bob, dave and erin joined with (no max uses, no expiry). */
  invite: { id: string; code: string };
  /**
   * A viewer as the visibility rules see them; `"anonymous"` for no one signed
   * in, `"remote_server"` for `remote.example`'s instance actor.
   */
  viewer(name: WorldViewerName): Viewer;
}

/**
 * Seeds the fixture world into an empty Clique:
 *
 * - the Clique (cap 50), owned by `alice_owner`;
 * - `bob_member`, `dave_moderator` (role moderator) and `erin_removed` (status
 *   removed), who joined with one invite of alice's;
 * - remote actors on `remote.example`: `carol_remote` (approved follower of
 *   alice), `frank_remote` (not a follower: his request to follow alice is still
 *   pending), `grace_remote` (in alice's circle), `heidi_blocked` (approved
 *   follower of alice, whom alice blocks) and `ivan_friend` (alice's friend: he
 *   follows her and she follows him, both approved);
 * - alice's circle `family`, holding bob_member and grace_remote.
 *
 * heidi's block is stored directly rather than through `blockAccount`, which
 * would also end her follow: her approved follow stays, so only the block rule
 * stands between her and alice's followers-only posts.
 *
 * `db` is needed for what no use case can create yet: remote actors.
 */
export async function seedWorld(clique: Clique, db: Kysely<Database>): Promise<World> {
  const stores = clique.deps.stores;
  const init = await clique.initClique({
    name: "Test Clique",
    description: "The fixture world.",
    memberCap: WORLD_MEMBER_CAP,
    ownerUsername: "alice_owner",
    ownerPassword: WORLD_PASSWORDS.alice_owner,
  });
  const { settings, owner: alice } = expectOk(init, "initClique");

  const invited = expectOk(
    await clique.createInvite(alice, { maxUses: null, expiresInSeconds: null }),
    "createInvite",
  );
  const join = async (username: "bob_member" | "dave_moderator" | "erin_removed") =>
    expectOk(
      await clique.redeemInvite({
        code: invited.code,
        username,
        password: WORLD_PASSWORDS[username],
      }),
      `redeemInvite(${username})`,
    );
  const bob = await join("bob_member");
  const dave = await join("dave_moderator");
  const erin = await join("erin_removed");
  // Given by the server itself, as `clique member role` does.
  expectOk(await clique.setMemberRole(null, dave.id, "moderator"), "setMemberRole(dave)");
  expectOk(await clique.setMemberStatus(erin.id, "removed"), "setMemberStatus(erin)");

  const carol = await insertRemoteActor(db, "carol_remote");
  const frank = await insertRemoteActor(db, "frank_remote");
  const grace = await insertRemoteActor(db, "grace_remote");
  const heidi = await insertRemoteActor(db, "heidi_blocked");
  const ivan = await insertRemoteActor(db, "ivan_friend");
  await insertFollow(stores, carol.id, alice.id, "accepted");
  await insertFollow(stores, frank.id, alice.id, "pending");
  await insertFollow(stores, heidi.id, alice.id, "accepted");
  await stores.blocks.add(alice.id, heidi.id, null, new Date());
  await insertFollow(stores, ivan.id, alice.id, "accepted");
  await insertFollow(stores, alice.id, ivan.id, "accepted");

  const family = expectOk(
    await clique.createCircle(alice, { name: "family", memberIds: [bob.id, grace.id] }),
    "createCircle(family)",
  );

  const members = {} as Record<MemberName, Member>;
  for (const m of [alice, bob, dave, erin]) {
    const fresh = await stores.members.getById(m.id);
    if (!fresh) throw new Error(`seedWorld: member ${m.username} vanished`);
    members[m.username as MemberName] = fresh;
  }
  const remotes: Record<RemoteName, Actor> = {
    carol_remote: carol,
    frank_remote: frank,
    grace_remote: grace,
    heidi_blocked: heidi,
    ivan_friend: ivan,
  };
  const ids = {} as Record<ActorName, string>;
  for (const [name, actor] of Object.entries({ ...members, ...remotes })) {
    ids[name as ActorName] = actor.id;
  }

  return {
    settings,
    members,
    remotes,
    ids,
    passwords: WORLD_PASSWORDS,
    circles: { family: family.id },
    invite: { id: invited.invite.id, code: invited.code },
    viewer(name) {
      if (name === "anonymous") return { kind: "anonymous" };
      if (name === REMOTE_SERVER) return { kind: "server", host: REMOTE_HOST };
      if (name in members) {
        const m = members[name as MemberName];
        return { kind: "member", actorId: m.id, role: m.role };
      }
      return { kind: "remote", actorId: ids[name as RemoteName] };
    },
  };
}

/** Inserts a remote actor on `remote.example` (no use case creates them yet). */
export async function insertRemoteActor(
  db: Kysely<Database>,
  username: string,
  host = REMOTE_HOST,
): Promise<Actor> {
  const id = newId();
  const base = `https://${host}/users/${username}`;
  const now = new Date();
  await db
    .insertInto("actors")
    .values({
      id,
      kind: "remote",
      username,
      host,
      display_name: username,
      summary_html: "",
      uri: base,
      url: `https://${host}/@${username}`,
      inbox_url: `${base}/inbox`,
      shared_inbox_url: `https://${host}/inbox`,
      followers_url: `${base}/followers`,
      manually_approves_followers: false,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const actor = await createKyselyStores(db).actors.getById(id);
  if (!actor) throw new Error(`insertRemoteActor: ${username} not found after insert`);
  return actor;
}

/** Records a follow in the given state (remote follows have no use case to create them). */
export async function insertFollow(
  stores: Stores,
  followerId: string,
  followeeId: string,
  state: "pending" | "accepted",
): Promise<void> {
  const id = newId();
  await stores.follows.create({
    id,
    followerId,
    followeeId,
    state: "pending",
    uri: null,
    createdAt: new Date(),
  });
  if (state === "accepted") await stores.follows.accept(id);
}

function expectOk<T>(
  result: { ok: true; value: T } | { ok: false; reason: string; detail?: string },
  what: string,
): T {
  if (!result.ok) throw new Error(`seedWorld: ${what} failed: ${result.reason}`);
  return result.value;
}
