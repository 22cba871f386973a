import assert from "node:assert/strict";
import { test } from "node:test";
import type { WireDirectoryEntry } from "./api.ts";
import {
  DirectoryAlarm,
  devicesOf,
  entryHash,
  GENESIS_HASH,
  verifyDirectory,
} from "./directory.ts";

const MEMBER = "0190a5d2-7c3e-7000-8000-00000000a11c";
const key = (n: number) => btoa(String.fromCharCode(...new Uint8Array(32).fill(n)));

/** A chain of `n` entries: device i added with key i, the last one removed again. */
async function chain(n: number): Promise<WireDirectoryEntry[]> {
  const entries: WireDirectoryEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields = {
      seq,
      member_id: MEMBER,
      device_id: `0190a5d2-7c3e-7000-8000-${String(seq === n ? n - 1 : seq).padStart(12, "0")}`,
      signature_key: key(seq === n ? n - 1 : seq),
      action: seq === n ? ("remove" as const) : ("add" as const),
      prev_hash: prev,
    };
    const hash = await entryHash(fields);
    entries.push({ ...fields, hash, created_at: new Date(0).toISOString() });
    prev = hash;
  }
  return entries;
}

const alarm = (pattern: RegExp) => (error: unknown) =>
  error instanceof DirectoryAlarm && pattern.test(error.message);

test("a whole chain verifies from the start, and from a remembered head", async () => {
  const entries = await chain(4);
  const head = await verifyDirectory(null, entries.slice(0, 2));
  assert.deepEqual(head, { seq: 2, hash: entries[1]!.hash });
  assert.deepEqual(await verifyDirectory(head, entries.slice(1)), {
    seq: 4,
    hash: entries[3]!.hash,
  });
  const devices = devicesOf(entries);
  assert.deepEqual(
    [...devices.values()].map((d) => d.removed),
    [false, false, true],
  );
});

test("an edited entry, a gap or a rewritten head is an alarm", async () => {
  const entries = await chain(4);
  const edited = entries.map((e) => (e.seq === 2 ? { ...e, signature_key: key(99) } : e));
  await assert.rejects(verifyDirectory(null, edited), alarm(/Entry 2 .* does not match its hash/));
  const gap = entries.filter((e) => e.seq !== 3);
  await assert.rejects(verifyDirectory(null, gap), alarm(/skips from entry 2 to 4/));
  const head = await verifyDirectory(null, entries.slice(0, 3));
  // The same length of history, every hash recomputed after an edit of entry 1.
  const other = await chain(4);
  other[0] = { ...other[0]!, signature_key: key(42) };
  let prev = GENESIS_HASH;
  for (const e of other) {
    e.prev_hash = prev;
    e.hash = await entryHash(e);
    prev = e.hash;
  }
  await verifyDirectory(null, other);
  await assert.rejects(verifyDirectory(head, other.slice(2)), alarm(/rewritten/));
  // A server that leaves the head out is caught the same way.
  await assert.rejects(verifyDirectory(head, []), alarm(/rewritten/));
});
