/**
 * Encrypted attachments on real PostgreSQL: a member's devices keep at most a
 * quota of bytes in blobs not yet expired, counted across all their devices
 * and groups; expired blobs free their share; one member's blobs do not count
 * against another's.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, it } from "node:test";
import { openTestClique, seedWorld, type TestClique, type World } from "@clique/testing";
import { newId } from "../../ids.ts";

let t: TestClique;
let world: World;

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
});

after(() => t.drop());

/** A device of `memberId` seated in a new group of its own; its id and the group's. */
async function deviceInGroup(memberId: string): Promise<{ device: string; group: string }> {
  const store = t.stores.e2ee;
  const device = newId();
  await store.createDevice({
    id: device,
    memberId,
    tokenId: newId(),
    name: "phone",
    signatureKey: new Uint8Array(randomBytes(32)),
    createdAt: new Date(),
    removedAt: null,
  });
  const group = newId();
  await store.createGroup(
    { id: group, epoch: 0, createdBy: device, createdAt: new Date() },
    device,
  );
  return { device, group };
}

function blob(at: { device: string; group: string }, size: number, expiresAt: Date | null = null) {
  return {
    id: newId(),
    groupId: at.group,
    deviceId: at.device,
    body: new Uint8Array(size).fill(7),
    createdAt: new Date(),
    expiresAt,
  };
}

it("keeps a member's attachments under the quota, across devices, until older ones expire", async () => {
  const store = t.stores.e2ee;
  const quota = 1_000;
  const now = new Date();
  const phone = await deviceInGroup(world.members.bob_member.id);
  const laptop = await deviceInGroup(world.members.bob_member.id);
  const alices = await deviceInGroup(world.members.alice_owner.id);

  assert.equal(await store.putBlob(blob(phone, 600), quota, now), true);
  // The laptop is bob's too: 600 + 500 is over the quota.
  assert.equal(await store.putBlob(blob(laptop, 500), quota, now), false);
  assert.equal(await store.putBlob(blob(laptop, 400), quota, now), true);
  assert.equal(await store.putBlob(blob(phone, 1), quota, now), false);
  // Alice's share is her own.
  assert.equal(await store.putBlob(blob(alices, 900), quota, now), true);

  // One that has expired no longer counts.
  const soon = new Date(now.getTime() + 1_000);
  const later = new Date(now.getTime() + 2_000);
  const dave = await deviceInGroup(world.members.dave_moderator.id);
  assert.equal(await store.putBlob(blob(dave, 800, soon), quota, now), true);
  assert.equal(await store.putBlob(blob(dave, 800), quota, now), false);
  assert.equal(await store.putBlob(blob(dave, 800), quota, later), true);
});
