import assert from "node:assert/strict";
import { test } from "node:test";
import { type InviteStatus, inviteStatus } from "./invite-status.ts";
import type { Invite } from "./types.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const BEFORE = new Date("2026-06-01T11:00:00Z");
const LATER = new Date("2026-06-01T13:00:00Z");

const base: Invite = {
  id: "00000000-0000-7000-8000-000000000001",
  codeHint: "abcd",
  createdBy: "00000000-0000-7000-8000-000000000002",
  maxUses: 2,
  uses: 0,
  expiresAt: LATER,
  revokedAt: null,
  createdAt: BEFORE,
};
const room = { seated: 3, cap: 5 };
const full = { seated: 5, cap: 5 };

const cases: {
  name: string;
  invite: Partial<Invite>;
  seats: typeof room;
  expected: InviteStatus;
}[] = [
  { name: "unused, in time, with seats", invite: {}, seats: room, expected: "valid" },
  {
    name: "no limits at all",
    invite: { maxUses: null, expiresAt: null },
    seats: room,
    expected: "valid",
  },
  { name: "one use left", invite: { uses: 1 }, seats: room, expected: "valid" },
  { name: "revoked", invite: { revokedAt: BEFORE }, seats: room, expected: "revoked" },
  {
    name: "expires this very moment",
    invite: { expiresAt: NOW },
    seats: room,
    expected: "expired",
  },
  { name: "used up", invite: { uses: 2 }, seats: room, expected: "used_up" },
  { name: "no seat left", invite: {}, seats: full, expected: "full" },
  // The first rule that fails is the answer, as redeeming reports it.
  {
    name: "revoked beats everything",
    invite: { revokedAt: BEFORE, expiresAt: BEFORE, uses: 2 },
    seats: full,
    expected: "revoked",
  },
  {
    name: "expired beats used up",
    invite: { expiresAt: BEFORE, uses: 2 },
    seats: full,
    expected: "expired",
  },
  { name: "used up beats full", invite: { uses: 2 }, seats: full, expected: "used_up" },
];

for (const { name, invite, seats, expected } of cases) {
  test(`invite status: ${name}`, () => {
    assert.equal(inviteStatus({ ...base, ...invite }, NOW, seats), expected);
  });
}
