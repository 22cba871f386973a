/**
 * A chat device is bound to the session or token that registered it; when
 * that ends (sign-out, a revoked app, a password change) nothing can act as
 * the device again. On real PostgreSQL: such a device leaves the key
 * directory (a `remove` entry) before the directory is next read or
 * KeyPackages are handed out, and holds no place in the member's limit.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, it } from "node:test";
import { openTestClique, seedWorld, type TestClique, type World } from "@clique/testing";

let t: TestClique;
let world: World;

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
});

after(() => t.drop());

/** A session of `member` and the device registered with it. */
async function deviceOnSession(member: World["members"][keyof World["members"]]) {
  const secret = await t.clique.issueToken(member, "session", "a browser");
  const found = await t.clique.authenticate(secret);
  assert.ok(found);
  const registered = await t.clique.e2ee.registerDevice(
    { member, tokenId: found.token.id },
    { name: "browser", signatureKey: new Uint8Array(randomBytes(32)) },
  );
  assert.ok(registered.ok);
  return { secret, tokenId: found.token.id, device: registered.value.device };
}

it("retires the device of an ended session before the directory is read again", async () => {
  const bob = world.members.bob_member;
  const kept = await deviceOnSession(bob);
  const ended = await deviceOnSession(bob);
  const before = await t.clique.e2ee.readDirectory(1);
  const head = before.at(-1)!.seq;

  assert.equal(await t.clique.revokeToken(ended.secret), true);
  const after = await t.clique.e2ee.readDirectory(head + 1);
  assert.deepEqual(
    after.map((e) => [e.action, e.deviceId]),
    [["remove", ended.device.id]],
    "one remove entry, for the ended session's device only",
  );
  const listed = await t.clique.e2ee.listOwnDevices({ member: bob });
  assert.deepEqual(
    listed.map((d) => d.id),
    [kept.device.id],
  );
  // Read again: nothing more to retire, the directory does not grow.
  assert.deepEqual(await t.clique.e2ee.readDirectory(head + 2), []);
});

it("hands out no KeyPackage of a device whose session ended", async () => {
  const alice = world.members.alice_owner;
  const dave = world.members.dave_moderator;
  const asker = await deviceOnSession(alice);
  const gone = await deviceOnSession(dave);
  const uploaded = await t.clique.e2ee.uploadKeyPackages(
    { member: dave, tokenId: gone.tokenId },
    gone.device.id,
    [new Uint8Array(randomBytes(64))],
    null,
  );
  assert.ok(uploaded.ok);
  await t.clique.revokeToken(gone.secret);
  const claimed = await t.clique.e2ee.claimKeyPackages(
    { member: alice, tokenId: asker.tokenId },
    asker.device.id,
    [dave.id],
  );
  assert.ok(claimed.ok);
  assert.deepEqual(claimed.value, []);
});
