"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { profileHref } from "../lib/format";
import { type MemberEntry, memberName, ROLE_LABELS, type Role } from "./members-format";

const ROLE_HINTS: Record<Role, string> = {
  owner: "Owners run the Clique: settings, members, everything.",
  admin: "Admins manage members, invites and other servers.",
  moderator: "Moderators handle reports and can remove posts or suspend members.",
  member: "Members post, follow and invite (if the Clique allows).",
};

const STATUS_LABELS: Record<string, string> = {
  active: "Active",
  suspended: "Suspended",
  removed: "Removed",
};

const RANK: Record<Role, number> = { owner: 3, admin: 2, moderator: 1, member: 0 };

/**
 * The roles the viewer may give this member, as the server's permission table
 * rules (the server decides; this only keeps impossible choices out of the menu):
 * an owner gives any role, an admin gives roles below their own to members below them.
 */
function rolesFor(viewer: { id: string; role: Role }, target: MemberEntry): Role[] {
  if (target.status === "removed") return [];
  if (viewer.role === "owner") return ["owner", "admin", "moderator", "member"];
  if (target.id === viewer.id) return [];
  if (RANK[target.role] >= RANK[viewer.role]) return [];
  return (Object.keys(RANK) as Role[]).filter((r) => RANK[r] < RANK[viewer.role]).reverse();
}

function RoleControl({
  viewer,
  member,
}: {
  viewer: { id: string; role: Role };
  member: MemberEntry;
}) {
  const [role, setRole] = useState<Role>(member.role);
  const [saved, setSaved] = useState<Role>(member.role);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const options = rolesFor(viewer, member);
  const name = memberName(member);
  if (options.length === 0) return <span>{ROLE_LABELS[saved]}</span>;

  async function save() {
    if (role === saved) return;
    const self = member.id === viewer.id;
    const question =
      role === "owner"
        ? `Make ${name} an owner? Owners can do everything, including removing other owners.`
        : self
          ? `Give up your own ${ROLE_LABELS[saved]} role and become ${ROLE_LABELS[role]}? You cannot undo this yourself.`
          : `Make ${name} ${ROLE_LABELS[role]} instead of ${ROLE_LABELS[saved]}?`;
    if (!window.confirm(question)) return;
    setBusy(true);
    setMessage(null);
    try {
      await api(`/api/v1/clique/moderation/members/${member.id}/role`, { json: { role } });
      setSaved(role);
      setMessage({ ok: true, text: `${name} is now ${ROLE_LABELS[role]}.` });
    } catch (e) {
      setRole(saved);
      setMessage({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  const id = `role-${member.id}`;
  return (
    <div className="members-role">
      <label htmlFor={id} className="visually-hidden">
        Role of {name}
      </label>
      <div className="row">
        <select
          id={id}
          className="members-role-select"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          disabled={busy}
          aria-describedby={`${id}-hint`}
        >
          {options.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="secondary"
          onClick={save}
          disabled={busy || role === saved}
        >
          {busy ? "Saving…" : "Save role"}
          <span className="visually-hidden"> of {name}</span>
        </button>
      </div>
      <p id={`${id}-hint`} className="hint">
        {ROLE_HINTS[role]}
      </p>
      {message ? (
        <p
          className={message.ok ? "success small" : "error small"}
          role={message.ok ? "status" : "alert"}
        >
          {message.text}
        </p>
      ) : null}
    </div>
  );
}

/** The member list with each one's role and standing; roles change where the viewer may. */
export function MembersRoster({
  viewer,
  members,
}: {
  viewer: { id: string; role: Role };
  members: MemberEntry[];
}) {
  return (
    <div className="table-wrap">
      <table className="members-table stack-table">
        <caption className="visually-hidden">Members, their roles and standing</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Standing</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.id}>
              <td data-label="Member">
                {"acct" in m && m.status !== "removed" ? (
                  <a href={profileHref(m)}>{memberName(m)}</a>
                ) : (
                  memberName(m)
                )}
                <div className="status-meta">
                  @{m.username}
                  {m.id === viewer.id ? " (you)" : ""}
                </div>
              </td>
              <td data-label="Role">
                <RoleControl viewer={viewer} member={m} />
              </td>
              <td data-label="Standing">{STATUS_LABELS[m.status] ?? m.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
