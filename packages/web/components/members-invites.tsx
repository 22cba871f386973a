"use client";

import { type FormEvent, useRef, useState } from "react";
import { api, errorMessage } from "../lib/client";
import { Feedback } from "./feedback";

/** An invite as `/api/v1/clique/invites` lists it. */
export interface InviteEntry {
  id: string;
  code_hint: string;
  created_by: string;
  max_uses: number | null;
  uses: number;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

const EXPIRY: { value: string; label: string; seconds: number | null }[] = [
  { value: "1d", label: "1 day", seconds: 86_400 },
  { value: "7d", label: "7 days", seconds: 7 * 86_400 },
  { value: "30d", label: "30 days", seconds: 30 * 86_400 },
  { value: "never", label: "Never", seconds: null },
];

const dateOf = (iso: string) =>
  new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });

/** What state an invite is in, in words. */
function stateOf(invite: InviteEntry, now: number): string {
  if (invite.revoked_at) return `Revoked ${dateOf(invite.revoked_at)}`;
  if (invite.expires_at && new Date(invite.expires_at).getTime() <= now) return "Expired";
  if (invite.max_uses !== null && invite.uses >= invite.max_uses) return "Used up";
  return "Open";
}

/** Create invites (the full link is shown once), see them all, revoke open ones. */
export function MembersInvites({
  initial,
  names,
}: {
  initial: InviteEntry[];
  /** Member id to name, for "made by". */
  names: Record<string, string>;
}) {
  const [invites, setInvites] = useState(initial);
  const [maxUses, setMaxUses] = useState("1");
  const [expiry, setExpiry] = useState("7d");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const linkRef = useRef<HTMLInputElement>(null);
  const now = Date.now();

  async function create(event: FormEvent) {
    event.preventDefault();
    const uses = maxUses.trim() === "" ? null : Number(maxUses);
    if (uses !== null && (!Number.isInteger(uses) || uses < 1 || uses > 1000)) {
      setError(
        "The number of people must be a whole number from 1 to 1000, or empty for no limit.",
      );
      return;
    }
    setBusy("create");
    setError(null);
    setCreated(null);
    setCopied(null);
    try {
      const invite = await api<InviteEntry & { code: string }>("/api/v1/clique/invites", {
        json: {
          max_uses: uses,
          expires_in: EXPIRY.find((e) => e.value === expiry)?.seconds ?? null,
        },
      });
      const { code, ...rest } = invite;
      setInvites((list) => [rest, ...list]);
      setCreated(`${window.location.origin}/invite/${code}`);
      requestAnimationFrame(() => linkRef.current?.focus());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function copy() {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created);
      setCopied("Link copied. Paste it into a message to the person you invite.");
    } catch {
      linkRef.current?.select();
      setCopied(
        "Copying did not work here: the link is selected, copy it with your keyboard or menu.",
      );
    }
  }

  async function revoke(invite: InviteEntry) {
    if (
      !window.confirm(
        `Revoke the invite ending in "${invite.code_hint}"? Nobody can join with it any more; people who already joined stay.`,
      )
    )
      return;
    setBusy(invite.id);
    setError(null);
    try {
      await api(`/api/v1/clique/invites/${invite.id}`, { method: "DELETE" });
      const at = new Date().toISOString();
      setInvites((list) => list.map((i) => (i.id === invite.id ? { ...i, revoked_at: at } : i)));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <form className="card stack" onSubmit={create} aria-labelledby="invite-form-heading">
        <h3 id="invite-form-heading">New invite</h3>
        <div className="members-invite-fields">
          <div className="field">
            <label htmlFor="invite-max-uses">
              How many people can join with it <span className="hint">(empty: no limit)</span>
            </label>
            <input
              id="invite-max-uses"
              type="number"
              min={1}
              max={1000}
              inputMode="numeric"
              value={maxUses}
              onChange={(e) => setMaxUses(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="invite-expiry">Stops working after</label>
            <select id="invite-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              {EXPIRY.map((e) => (
                <option key={e.value} value={e.value}>
                  {e.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <button type="submit" disabled={busy !== null}>
          {busy === "create" ? "Creating…" : "Create invite"}
        </button>
      </form>
      <Feedback error={error} />
      {created ? (
        <div className="card stack members-new-invite" role="status">
          <label htmlFor="invite-link">New invite link</label>
          <p className="hint">
            This full link is shown only now. Copy it and send it to the person you invite; anyone
            with it can join.
          </p>
          <div className="row">
            <input id="invite-link" ref={linkRef} type="text" readOnly value={created} />
            <button type="button" onClick={copy}>
              Copy link
            </button>
          </div>
          {copied ? <p className="small">{copied}</p> : null}
        </div>
      ) : null}
      <div className="table-wrap">
        <table className="members-table stack-table">
          <caption className="visually-hidden">Invites</caption>
          <thead>
            <tr>
              <th scope="col">Invite</th>
              <th scope="col">Used</th>
              <th scope="col">Stops working</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invites.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  No invites yet.
                </td>
              </tr>
            ) : null}
            {invites.map((invite) => {
              const state = stateOf(invite, now);
              return (
                <tr key={invite.id}>
                  <td data-label="Invite">
                    …{invite.code_hint}
                    <div className="status-meta">
                      by {names[invite.created_by] ?? "a former member"},{" "}
                      {dateOf(invite.created_at)}
                    </div>
                  </td>
                  <td data-label="Used">
                    {invite.uses} of {invite.max_uses ?? "unlimited"}
                  </td>
                  <td data-label="Stops working">
                    {invite.expires_at ? dateOf(invite.expires_at) : "Never"}
                  </td>
                  <td data-label="State">{state}</td>
                  <td>
                    {state === "Open" ? (
                      <button
                        type="button"
                        className="secondary"
                        disabled={busy !== null}
                        onClick={() => revoke(invite)}
                      >
                        {busy === invite.id ? "Revoking…" : "Revoke"}
                        <span className="visually-hidden">
                          {" "}
                          invite ending in {invite.code_hint}
                        </span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
