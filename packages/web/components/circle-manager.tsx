"use client";

import { useId, useState } from "react";
import { api, errorMessage } from "../lib/client";
import { displayName } from "../lib/format";
import type { Account, Circle } from "../lib/types";
import { Feedback } from "./feedback";
import { PersonLine, resolveAccount } from "./people-search";

type Accounts = Record<string, Account>;

/** Checkboxes of the Clique's members. */
function MemberPicker({
  legend,
  members,
  chosen,
  onChange,
}: {
  legend: string;
  members: Account[];
  chosen: Set<string>;
  onChange: (chosen: Set<string>) => void;
}) {
  const id = useId();
  if (members.length === 0) return <p className="muted">There are no other members to add yet.</p>;
  return (
    <fieldset className="circle-picker">
      <legend>{legend}</legend>
      {members.map((m) => (
        <div key={m.id} className="circle-check">
          <input
            id={`${id}-${m.id}`}
            type="checkbox"
            checked={chosen.has(m.id)}
            onChange={(e) => {
              const next = new Set(chosen);
              if (e.target.checked) next.add(m.id);
              else next.delete(m.id);
              onChange(next);
            }}
          />
          <label htmlFor={`${id}-${m.id}`}>
            {displayName(m)} <span className="hint">@{m.acct}</span>
          </label>
        </div>
      ))}
    </fieldset>
  );
}

/** One circle: its people, and the ways to change it. */
function CircleCard({
  circle,
  members,
  accounts,
  onChange,
  onDelete,
  onAccount,
}: {
  circle: Circle;
  members: Account[];
  accounts: Accounts;
  onChange: (circle: Circle) => void;
  onDelete: () => void;
  onAccount: (account: Account) => void;
}) {
  const id = useId();
  const [name, setName] = useState(circle.name);
  const [chosen, setChosen] = useState(() => new Set(circle.member_ids));
  const [handle, setHandle] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function update(patch: { name?: string; member_ids?: string[] }, message: string) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const updated = await api<Circle>(`/api/v1/clique/circles/${circle.id}`, {
        method: "PATCH",
        json: patch,
      });
      onChange(updated);
      setChosen(new Set(updated.member_ids));
      setDone(message);
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  }

  // Members of the Clique are chosen with the checkboxes; people elsewhere stay as they are.
  function withClique(): string[] {
    const clique = new Set(members.map((m) => m.id));
    return [...circle.member_ids.filter((m) => !clique.has(m)), ...chosen];
  }

  async function addElsewhere(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    let account: Account | null = null;
    try {
      account = await resolveAccount(handle);
    } catch (e) {
      setError(errorMessage(e));
    }
    setBusy(false);
    if (!account) {
      setError(
        (e) =>
          e ?? "No one was found with that handle. Check the spelling, like @name@example.social.",
      );
      return;
    }
    if (circle.member_ids.includes(account.id)) {
      setDone(`${displayName(account)} is already in ${circle.name}.`);
      return;
    }
    onAccount(account);
    if (
      await update(
        { member_ids: [...circle.member_ids, account.id] },
        `${displayName(account)} was added.`,
      )
    )
      setHandle("");
  }

  async function remove() {
    if (
      !window.confirm(
        `Delete the circle “${circle.name}”? Posts shared with it stay visible only to you.`,
      )
    )
      return;
    setBusy(true);
    setError(null);
    try {
      await api(`/api/v1/clique/circles/${circle.id}`, { method: "DELETE" });
      onDelete();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  const people = circle.member_ids.map((m) => accounts[m]).filter((a): a is Account => Boolean(a));
  const unknown = circle.member_ids.length - people.length;

  return (
    <section className="card circle-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{circle.name}</h2>
      <p className="status-meta">
        {circle.member_ids.length === 1 ? "1 person" : `${circle.member_ids.length} people`}
      </p>
      {people.length > 0 ? (
        <ul className="people-list">
          {people.map((person) => (
            <li key={person.id}>
              <PersonLine account={person} />
              <button
                type="button"
                className="secondary"
                disabled={busy}
                onClick={() =>
                  update(
                    { member_ids: circle.member_ids.filter((m) => m !== person.id) },
                    `${displayName(person)} was taken out.`,
                  )
                }
              >
                Take out<span className="visually-hidden"> {displayName(person)}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No one is in this circle yet.</p>
      )}
      {unknown > 0 ? (
        <p className="muted small">
          {unknown === 1 ? "1 account" : `${unknown} accounts`} could not be shown (maybe gone).
        </p>
      ) : null}

      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void update({ member_ids: withClique() }, "The circle's members are saved.");
        }}
      >
        <MemberPicker
          legend="Members of the Clique in this circle"
          members={members}
          chosen={chosen}
          onChange={setChosen}
        />
        {members.length > 0 ? (
          <button type="submit" disabled={busy}>
            Save members
          </button>
        ) : null}
      </form>

      <form className="stack circle-elsewhere" onSubmit={addElsewhere}>
        <div className="field">
          <label htmlFor={`${id}-handle`}>
            Add someone elsewhere{" "}
            <span className="hint">(their handle, like @name@example.social)</span>
          </label>
          <input
            id={`${id}-handle`}
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={handle}
            onChange={(e) => setHandle(e.target.value)}
          />
        </div>
        <button type="submit" className="secondary" disabled={busy}>
          Find and add
        </button>
      </form>

      <details className="circle-change">
        <summary>Rename or delete this circle</summary>
        <div className="stack">
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void update({ name: name.trim() }, "The circle is renamed.");
            }}
          >
            <div className="field grow">
              <label htmlFor={`${id}-name`}>Circle name</label>
              <input
                id={`${id}-name`}
                type="text"
                required
                maxLength={100}
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            </div>
            <button type="submit" disabled={busy || !name.trim() || name.trim() === circle.name}>
              Rename
            </button>
          </form>
          <button type="button" className="danger" onClick={remove} disabled={busy}>
            Delete this circle
          </button>
        </div>
      </details>
      <p className="success" aria-live="polite">
        {done ?? ""}
      </p>
      <Feedback error={error} />
    </section>
  );
}

/** The member's circles: make, rename, fill and delete them. */
export function CircleManager({
  initialCircles,
  members,
  accounts: initialAccounts,
}: {
  initialCircles: Circle[];
  members: Account[];
  accounts: Accounts;
}) {
  const [circles, setCircles] = useState(initialCircles);
  const [accounts, setAccounts] = useState(initialAccounts);
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(() => new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function create(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const circle = await api<Circle>("/api/v1/clique/circles", {
        json: { name: name.trim(), member_ids: [...chosen] },
      });
      setCircles((list) => [...list, circle]);
      setName("");
      setChosen(new Set());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <section className="card" aria-labelledby="new-circle-heading">
        <h2 id="new-circle-heading">Make a new circle</h2>
        <form onSubmit={create} className="stack">
          <div className="field">
            <label htmlFor="new-circle-name">Name of the new circle</label>
            <input
              id="new-circle-name"
              type="text"
              required
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <MemberPicker
            legend="Who is in it"
            members={members}
            chosen={chosen}
            onChange={setChosen}
          />
          <Feedback error={error} />
          <button type="submit" disabled={busy || !name.trim()}>
            {busy ? "Creating…" : "Create circle"}
          </button>
        </form>
      </section>
      <div aria-live="polite">
        {circles.length === 0 ? <p className="muted">You have no circles yet.</p> : null}
      </div>
      {circles.map((circle) => (
        <CircleCard
          key={circle.id}
          circle={circle}
          members={members}
          accounts={accounts}
          onChange={(updated) =>
            setCircles((list) => list.map((c) => (c.id === updated.id ? updated : c)))
          }
          onDelete={() => setCircles((list) => list.filter((c) => c.id !== circle.id))}
          onAccount={(account) => setAccounts((map) => ({ ...map, [account.id]: account }))}
        />
      ))}
    </>
  );
}
