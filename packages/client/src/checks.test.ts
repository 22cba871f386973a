import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isEpochCheck, openEpochCheck, safetyNumber, sealEpochCheck } from "./checks.ts";

const alice = { memberId: "11111111-1111-4111-8111-111111111111", keys: ["a2V5LWE=", "a2V5LWI="] };
const bob = { memberId: "22222222-2222-4222-8222-222222222222", keys: ["a2V5LWM="] };

describe("safety numbers", () => {
  it("are 60 digits in 12 groups, the same from either side and whatever the key order", async () => {
    const one = await safetyNumber(alice, bob);
    assert.match(one.digits, /^(\d{5} ){11}\d{5}$/);
    assert.deepEqual(await safetyNumber(bob, alice), one);
    assert.deepEqual(await safetyNumber({ ...alice, keys: [...alice.keys].reverse() }, bob), one);
    assert.match(
      one.qr,
      /^clique-safety:1:11111111-[0-9a-f-]+:[0-9a-f]{64}:22222222-[0-9a-f-]+:[0-9a-f]{64}$/,
    );
  });

  it("change when a device is added", async () => {
    const before = await safetyNumber(alice, bob);
    const after = await safetyNumber(alice, { ...bob, keys: [...bob.keys, "a2V5LWQ="] });
    assert.notEqual(after.digits, before.digits);
    // Only bob's half changed.
    assert.equal(after.digits.slice(0, 35), before.digits.slice(0, 35));
  });
});

describe("epoch checks", () => {
  it("open with the key they were sealed with, for their group and epoch only", async () => {
    const key = crypto.getRandomValues(new Uint8Array(16));
    const check = { epoch: 4, deviceId: "d", authenticator: "YXV0aA==" };
    const sealed = await sealEpochCheck(key, "g", check);
    assert.ok(isEpochCheck(sealed));
    assert.deepEqual(await openEpochCheck(key, "g", 4, sealed), check);
    assert.equal(await openEpochCheck(key, "g", 5, sealed), null, "another epoch");
    assert.equal(await openEpochCheck(key, "h", 4, sealed), null, "another group");
    const other = crypto.getRandomValues(new Uint8Array(16));
    assert.equal(await openEpochCheck(other, "g", 4, sealed), null, "another parent epoch");
  });
});
