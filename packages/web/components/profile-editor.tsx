"use client";

import { useId, useState } from "react";
import { api, errorMessage } from "../lib/client";
import type { Circle, CredentialAccount } from "../lib/types";
import { Feedback } from "./feedback";

/** Who may see a part of the profile, in plain words (Clique's part audiences). */
const PART_AUDIENCES = [
  { value: "public", label: "Anyone" },
  { value: "followers", label: "My followers" },
  { value: "friends", label: "Friends (people I follow who follow me back)" },
  { value: "clique", label: "Members of the Clique" },
  { value: "circle", label: "One of my circles" },
  { value: "nobody", label: "Only me" },
] as const;

type PartAudience = (typeof PART_AUDIENCES)[number]["value"];

interface AudienceChoice {
  audience: PartAudience;
  circleId: string;
}

interface FieldRow extends AudienceChoice {
  name: string;
  value: string;
}

const MAX_FIELDS = 4;

function asAudience(value: string | undefined): PartAudience {
  return PART_AUDIENCES.some((a) => a.value === value) ? (value as PartAudience) : "public";
}

/** The API's audience reference: a name, or a circle with its id. */
function toRef(choice: AudienceChoice) {
  return choice.audience === "circle"
    ? { audience: "circle" as const, circle_id: choice.circleId }
    : choice.audience;
}

/** A select of part audiences, and of the circle when "One of my circles" is chosen. */
function AudiencePicker({
  label,
  choice,
  circles,
  onChange,
}: {
  label: string;
  choice: AudienceChoice;
  circles: Circle[];
  onChange: (choice: AudienceChoice) => void;
}) {
  const id = useId();
  return (
    <div className="profile-audience">
      <label htmlFor={`${id}-audience`}>{label}</label>
      <select
        id={`${id}-audience`}
        value={choice.audience}
        onChange={(e) => onChange({ ...choice, audience: asAudience(e.target.value) })}
      >
        {PART_AUDIENCES.map((a) => (
          <option
            key={a.value}
            value={a.value}
            disabled={a.value === "circle" && circles.length === 0}
          >
            {a.label}
          </option>
        ))}
      </select>
      {choice.audience === "circle" ? (
        <>
          <label htmlFor={`${id}-circle`} className="visually-hidden">
            {`${label}: circle`}
          </label>
          <select
            id={`${id}-circle`}
            value={choice.circleId}
            onChange={(e) => onChange({ ...choice, circleId: e.target.value })}
          >
            {circles.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </>
      ) : null}
    </div>
  );
}

/** The member's own profile: names, pictures, fields, and who sees which part. */
export function ProfileEditor({
  account,
  circles,
}: {
  account: CredentialAccount;
  circles: Circle[];
}) {
  const firstCircle = circles[0]?.id ?? "";
  const [displayNameValue, setDisplayName] = useState(account.display_name);
  const [note, setNote] = useState(account.source.note);
  const [bioAudience, setBioAudience] = useState<AudienceChoice>({
    audience: asAudience(account.source.bio_audience),
    circleId: firstCircle,
  });
  const [followsAudience, setFollowsAudience] = useState<AudienceChoice>({
    audience: asAudience(account.source.follows_audience),
    circleId: firstCircle,
  });
  const [fields, setFields] = useState<FieldRow[]>(() => {
    const rows = account.source.fields.map((f) => ({
      name: f.name,
      value: f.value,
      audience: asAudience(f.audience),
      circleId: f.circle_id ?? firstCircle,
    }));
    return rows.length > 0
      ? rows
      : [{ name: "", value: "", audience: "public", circleId: firstCircle }];
  });
  const [avatar, setAvatar] = useState(account.avatar);
  const [header, setHeader] = useState(account.header);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  function setField(index: number, patch: Partial<FieldRow>) {
    setFields((rows) => rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  }

  async function save(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setSaved(null);
    const kept = fields.filter((f) => f.name.trim() !== "" || f.value.trim() !== "");
    if (kept.some((f) => f.name.trim() === "")) {
      setError("Each extra detail needs a name (for example “Birthday”).");
      return;
    }
    const usesCircle = [bioAudience, followsAudience, ...kept].some(
      (c) => c.audience === "circle" && !c.circleId,
    );
    if (usesCircle) {
      setError("Choose which circle may see it, or make a circle first on the Circles page.");
      return;
    }
    const form = new FormData(event.currentTarget);
    const upload = new FormData();
    upload.set("display_name", displayNameValue);
    upload.set("note", note);
    for (const slot of ["avatar", "header"] as const) {
      const file = form.get(slot);
      if (file instanceof File && file.size > 0) upload.set(slot, file);
    }
    setBusy(true);
    try {
      const updated = await api<CredentialAccount>("/api/v1/accounts/update_credentials", {
        method: "PATCH",
        body: upload,
      });
      await api("/api/v1/clique/profile", {
        method: "PATCH",
        json: {
          bio_audience: toRef(bioAudience),
          follows_audience: toRef(followsAudience),
          fields: kept.map((f) => ({ name: f.name.trim(), value: f.value, audience: toRef(f) })),
        },
      });
      setAvatar(updated.avatar);
      setHeader(updated.header);
      setSaved("Your profile is saved. Reload the page to see it as others do.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function removePicture(slot: "avatar" | "header") {
    setError(null);
    setSaved(null);
    setBusy(true);
    try {
      const updated = await api<CredentialAccount>(`/api/v1/profile/${slot}`, { method: "DELETE" });
      setAvatar(updated.avatar);
      setHeader(updated.header);
      setSaved(slot === "avatar" ? "Your picture is removed." : "Your header picture is removed.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card profile-editor" aria-labelledby="edit-profile-heading">
      <h2 id="edit-profile-heading">Edit profile</h2>
      <form onSubmit={save} className="stack">
        <div className="field">
          <label htmlFor="profile-display-name">Display name</label>
          <input
            id="profile-display-name"
            type="text"
            maxLength={100}
            value={displayNameValue}
            onChange={(e) => setDisplayName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="profile-bio">
            About you <span className="hint">(your bio)</span>
          </label>
          <textarea id="profile-bio" value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
        <AudiencePicker
          label="Who can see your bio"
          choice={bioAudience}
          circles={circles}
          onChange={setBioAudience}
        />

        <fieldset>
          <legend>Pictures</legend>
          <div className="profile-picture-row">
            {/* biome-ignore lint/performance/noImgElement: a file of this server */}
            <img className="avatar" src={avatar} alt="Your current avatar" width={44} height={44} />
            <div className="field">
              <label htmlFor="profile-avatar">New picture</label>
              <input id="profile-avatar" name="avatar" type="file" accept="image/*" />
            </div>
            <button
              type="button"
              className="link"
              onClick={() => removePicture("avatar")}
              disabled={busy}
            >
              Remove picture
            </button>
          </div>
          <div className="profile-picture-row">
            {/* biome-ignore lint/performance/noImgElement: a file of this server */}
            <img className="profile-header-thumb" src={header} alt="Your current header" />
            <div className="field">
              <label htmlFor="profile-header">New header picture</label>
              <input id="profile-header" name="header" type="file" accept="image/*" />
            </div>
            <button
              type="button"
              className="link"
              onClick={() => removePicture("header")}
              disabled={busy}
            >
              Remove header picture
            </button>
          </div>
        </fieldset>

        <fieldset>
          <legend>Extra details</legend>
          <p className="hint">
            Up to {MAX_FIELDS}, like a birthday or a website. Each has its own audience.
          </p>
          {fields.map((field, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place, in order
            <div key={i} className="profile-field-row">
              <div className="field">
                <label htmlFor={`profile-field-${i}-name`}>{`Detail ${i + 1} name`}</label>
                <input
                  id={`profile-field-${i}-name`}
                  type="text"
                  maxLength={255}
                  value={field.name}
                  onChange={(e) => setField(i, { name: e.target.value })}
                />
              </div>
              <div className="field">
                <label htmlFor={`profile-field-${i}-value`}>{`Detail ${i + 1} value`}</label>
                <input
                  id={`profile-field-${i}-value`}
                  type="text"
                  maxLength={255}
                  value={field.value}
                  onChange={(e) => setField(i, { value: e.target.value })}
                />
              </div>
              <AudiencePicker
                label={`Who can see detail ${i + 1}`}
                choice={field}
                circles={circles}
                onChange={(choice) => setField(i, choice)}
              />
              <button
                type="button"
                className="link"
                onClick={() => setFields((rows) => rows.filter((_, j) => j !== i))}
              >
                {`Remove detail ${i + 1}`}
              </button>
            </div>
          ))}
          {fields.length < MAX_FIELDS ? (
            <button
              type="button"
              className="secondary"
              onClick={() =>
                setFields((rows) => [
                  ...rows,
                  { name: "", value: "", audience: "public", circleId: firstCircle },
                ])
              }
            >
              Add a detail
            </button>
          ) : null}
        </fieldset>

        <AudiencePicker
          label="Who can see whom you follow and who follows you"
          choice={followsAudience}
          circles={circles}
          onChange={setFollowsAudience}
        />

        <Feedback error={error} />
        <p className="success" aria-live="polite">
          {saved ?? ""}
        </p>
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save profile"}
        </button>
      </form>
    </section>
  );
}
