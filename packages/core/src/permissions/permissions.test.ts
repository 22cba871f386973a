/**
 * The permission table, written out by hand: every role × every action
 * (before a target is known), then every action on a member × every pair of
 * ranks, oneself and the last owner. The expectations are literal, not
 * derived from `RANK`, so a change to the table shows up here as a diff.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ROLES, type Role } from "../domain/types.ts";
import {
  ACTIONS,
  type Action,
  decide,
  mayTake,
  type Refusal,
  SERVER_ACTOR,
} from "./permissions.ts";

const Y = true;
const N = false;

/** Who may take each action at all: owner, admin, moderator, member. */
const MAY: Readonly<Record<Action, readonly [boolean, boolean, boolean, boolean]>> = {
  "post.remove": [Y, Y, Y, N],
  "post.hide": [Y, Y, Y, N],
  "member.suspend": [Y, Y, Y, N],
  "member.remove": [Y, Y, Y, N],
  "member.warn": [Y, Y, Y, N],
  "member.role": [Y, Y, N, N],
  "member.list_all": [Y, Y, Y, N],
  "report.handle": [Y, Y, Y, N],
  "report.forward": [Y, Y, Y, N],
  "domain.block": [Y, Y, N, N],
  "remote.moderate": [Y, Y, Y, N],
  "audit.read": [Y, Y, Y, N],
  "settings.update": [Y, Y, N, N],
  "invite.revoke_any": [Y, Y, N, N],
  "invite.create": [Y, Y, N, N],
  "announcement.manage": [Y, Y, N, N],
};

const actor = (role: Role) => ({ id: `actor-${role}`, role });
const target = (role: Role) => ({ id: `target-${role}`, role });
const outcome = (r: Refusal | null) => r ?? "ok";

describe("decide: every role × every action, before a target", () => {
  it("lists every action of the table", () => {
    assert.deepEqual([...ACTIONS].sort(), Object.keys(MAY).sort());
  });
  for (const action of ACTIONS) {
    it(action, () => {
      const got = ROLES.map((role) => decide({ actor: actor(role), action }) === null);
      assert.deepEqual(got, [...MAY[action]], `owner, admin, moderator, member may ${action}`);
      assert.deepEqual(
        ROLES.map((role) => mayTake(role, action)),
        [...MAY[action]],
      );
    });
  }
});

/**
 * Acting on another member (suspend, remove, warn, remove a post of theirs),
 * by actor role (rows) and target role (columns: owner, admin, moderator,
 * member), with two owners in the Clique.
 */
const ON_OTHERS: Readonly<Record<Role, readonly string[]>> = {
  owner: ["ok", "ok", "ok", "ok"],
  admin: ["outranked", "outranked", "ok", "ok"],
  moderator: ["outranked", "outranked", "outranked", "ok"],
  member: ["not_allowed", "not_allowed", "not_allowed", "not_allowed"],
};

describe("decide: acting on another member", () => {
  for (const action of ["member.suspend", "member.remove", "member.warn", "post.remove"] as const) {
    it(`${action}: rank over the target, owners over owners`, () => {
      for (const role of ROLES) {
        const got = ROLES.map((t) =>
          outcome(decide({ actor: actor(role), action, target: target(t), owners: 2 })),
        );
        assert.deepEqual(got, [...ON_OTHERS[role]], `${role} ${action} on owner..member`);
      }
    });
    it(`${action}: never on oneself (leave or delete instead)`, () => {
      for (const role of ["owner", "admin", "moderator"] as const)
        assert.equal(
          outcome(decide({ actor: actor(role), action, target: actor(role), owners: 2 })),
          "self",
        );
    });
    if (action === "member.warn" || action === "post.remove") {
      it(`${action}: on the last owner too (it takes no owner away)`, () => {
        assert.equal(
          outcome(decide({ actor: SERVER_ACTOR, action, target: target("owner"), owners: 1 })),
          "ok",
        );
      });
      continue;
    }
    it(`${action}: never on the last owner, not even by another owner's hand or the server's`, () => {
      assert.equal(
        outcome(decide({ actor: actor("owner"), action, target: target("owner"), owners: 1 })),
        "last_owner",
      );
      assert.equal(
        outcome(decide({ actor: SERVER_ACTOR, action, target: target("owner"), owners: 1 })),
        "last_owner",
      );
      assert.equal(
        outcome(decide({ actor: SERVER_ACTOR, action, target: target("owner"), owners: 2 })),
        "ok",
      );
    });
  }
});

describe("decide: giving roles", () => {
  /** By actor role: what each target role may be given, as `target→new: outcome`. */
  const cases: [Role, Role, Role, string][] = [
    // Owners give any role to anyone, owner included.
    ["owner", "member", "owner", "ok"],
    ["owner", "admin", "member", "ok"],
    ["owner", "owner", "admin", "ok"],
    // Admins give roles below their own, to members below them.
    ["admin", "member", "moderator", "ok"],
    ["admin", "moderator", "member", "ok"],
    ["admin", "member", "admin", "outranked"],
    ["admin", "member", "owner", "outranked"],
    ["admin", "admin", "member", "outranked"],
    ["admin", "owner", "member", "outranked"],
    // Moderators and members give none.
    ["moderator", "member", "moderator", "not_allowed"],
    ["moderator", "member", "member", "not_allowed"],
    ["member", "member", "moderator", "not_allowed"],
  ];
  for (const [by, from, to, expected] of cases) {
    it(`${by} makes a ${from} ${to}: ${expected}`, () => {
      assert.equal(
        outcome(
          decide({
            actor: actor(by),
            action: "member.role",
            target: target(from),
            newRole: to,
            owners: 2,
          }),
        ),
        expected,
      );
    });
  }

  it("ownership is handed over: make someone owner, then step down; the last owner stays", () => {
    const me = actor("owner");
    // Step one: another owner.
    assert.equal(
      outcome(
        decide({
          actor: me,
          action: "member.role",
          target: target("admin"),
          newRole: "owner",
          owners: 1,
        }),
      ),
      "ok",
    );
    // Step two: stepping down, now that there are two.
    assert.equal(
      outcome(
        decide({ actor: me, action: "member.role", target: me, newRole: "member", owners: 2 }),
      ),
      "ok",
    );
    // Alone, an owner cannot step down, nor be demoted by the server.
    assert.equal(
      outcome(
        decide({ actor: me, action: "member.role", target: me, newRole: "admin", owners: 1 }),
      ),
      "last_owner",
    );
    assert.equal(
      outcome(
        decide({
          actor: SERVER_ACTOR,
          action: "member.role",
          target: target("owner"),
          newRole: "member",
          owners: 1,
        }),
      ),
      "last_owner",
    );
    // Nobody but an owner changes their own role.
    assert.equal(
      outcome(
        decide({
          actor: actor("admin"),
          action: "member.role",
          target: actor("admin"),
          newRole: "member",
        }),
      ),
      "self",
    );
  });
});
