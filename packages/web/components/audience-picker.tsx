"use client";

import { AUDIENCE_LABELS } from "../lib/format";
import type { Audience, Circle } from "../lib/types";

/** What the author picked: an audience, or (for a reply) the parent's own. */
export type AudienceChoice = Audience | "parent";

/** Who may reply: the same people as can see it, or a narrower group. */
export type ReplyChoice = "same" | "followers" | "friends" | "clique" | "circle" | "nobody";

/** What a reply answers, as far as the audience is concerned. */
export interface ParentInfo {
  audience: Audience | null;
  circleId: string | null;
  authorName: string;
}

const CHOICES: Audience[] = ["public", "followers", "friends", "clique", "circle", "direct"];

const REPLY_LABELS: Record<ReplyChoice, string> = {
  same: "The same people who can see it",
  followers: "Only people who follow me",
  friends: "Only people I follow who follow me back",
  clique: "Only Clique members",
  circle: "Only one of my circles",
  nobody: "Nobody: no replies",
};

/** The @names in a text, as the server will find them. */
export function mentionsIn(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:^|[^\w@/])@([a-z0-9_]+(?:@[a-z0-9.-]+[a-z0-9])?)/gi))
    found.add(`@${match[1]}`);
  return [...found];
}

/** The radio group "Who can see this?", with the circle select when a circle is chosen. */
export function AudiencePicker({
  idPrefix,
  value,
  onChange,
  circleId,
  onCircleChange,
  circles,
  parent,
  extra,
  disabled,
}: {
  idPrefix: string;
  value: AudienceChoice;
  onChange: (value: AudienceChoice) => void;
  circleId: string;
  onCircleChange: (id: string) => void;
  circles: Circle[];
  parent: ParentInfo | null;
  /** An audience to offer besides the usual ones (the member's default "Everyone, quietly"). */
  extra: Audience | null;
  disabled: boolean;
}) {
  const options: Audience[] = extra && !CHOICES.includes(extra) ? [extra, ...CHOICES] : CHOICES;
  return (
    <fieldset className="audience-picker" disabled={disabled}>
      <legend>Who can see this?</legend>
      {parent ? (
        <div className="audience-option">
          <input
            type="radio"
            id={`${idPrefix}-aud-parent`}
            name={`${idPrefix}-audience`}
            value="parent"
            checked={value === "parent"}
            onChange={() => onChange("parent")}
            aria-describedby={`${idPrefix}-aud-parent-hint`}
          />
          <label htmlFor={`${idPrefix}-aud-parent`}>Same as the post I'm answering</label>
          <span id={`${idPrefix}-aud-parent-hint`} className="hint">
            {parentWords(parent)}
          </span>
        </div>
      ) : null}
      {options.map((audience) => (
        <div className="audience-option" key={audience}>
          <input
            type="radio"
            id={`${idPrefix}-aud-${audience}`}
            name={`${idPrefix}-audience`}
            value={audience}
            checked={value === audience}
            onChange={() => onChange(audience)}
            aria-describedby={`${idPrefix}-aud-${audience}-hint`}
          />
          <label htmlFor={`${idPrefix}-aud-${audience}`}>{AUDIENCE_LABELS[audience].label}</label>
          <span id={`${idPrefix}-aud-${audience}-hint`} className="hint">
            {AUDIENCE_LABELS[audience].who}
          </span>
        </div>
      ))}
      {value === "circle" ? (
        <CircleSelect
          id={`${idPrefix}-circle`}
          label="Which circle?"
          circles={circles}
          value={circleId}
          onChange={onCircleChange}
        />
      ) : null}
    </fieldset>
  );
}

function CircleSelect({
  id,
  label,
  circles,
  value,
  onChange,
}: {
  id: string;
  label: string;
  circles: Circle[];
  value: string;
  onChange: (id: string) => void;
}) {
  if (circles.length === 0)
    return (
      <p className="audience-circle" role="alert">
        You have no circles yet. <a href="/circles">Make a circle</a> of the people you choose, then
        come back.
      </p>
    );
  return (
    <div className="audience-circle field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Choose a circle</option>
        {circles.map((circle) => (
          <option key={circle.id} value={circle.id}>
            {circle.name} ({peopleCount(circle.member_ids.length)})
          </option>
        ))}
      </select>
    </div>
  );
}

function peopleCount(n: number): string {
  return n === 1 ? "1 person" : `${n} people`;
}

function parentWords(parent: ParentInfo): string {
  const label = parent.audience ? AUDIENCE_LABELS[parent.audience].label : null;
  return label
    ? `${label}: whoever can see ${parent.authorName}'s post`
    : `Whoever can see ${parent.authorName}'s post`;
}

/** In plain words, exactly who will see the post, before it is sent. */
export function AudienceSummary({
  id,
  value,
  circle,
  circleChosen,
  text,
  parent,
  reply,
  replyCircle,
}: {
  id: string;
  value: AudienceChoice;
  circle: Circle | null;
  circleChosen: boolean;
  text: string;
  parent: ParentInfo | null;
  reply: ReplyChoice;
  replyCircle: Circle | null;
}) {
  let words: React.ReactNode;
  let warning: string | null = null;
  if (value === "parent" && parent) {
    words = `The same people who can see ${parent.authorName}'s post${
      parent.audience ? ` (${lowerFirst(AUDIENCE_LABELS[parent.audience].who)})` : ""
    }, and ${parent.authorName}.`;
  } else if (value === "circle") {
    if (circle)
      words = `Only the people in your circle "${circle.name}" (${peopleCount(
        circle.member_ids.length,
      )}), and you.`;
    else if (!circleChosen) warning = "Choose a circle first.";
    else words = "Only the people in the chosen circle, and you.";
  } else if (value === "direct") {
    const names = mentionsIn(text);
    if (names.length > 0) words = `Only ${listOf(names)}, and you.`;
    else
      warning =
        "Nobody is named yet: write @name for each person who should see this post (for example @grandma).";
  } else if (value !== "parent") {
    words = `${AUDIENCE_LABELS[value].who}.`;
  }
  return (
    <div id={id} className="audience-summary" aria-live="polite">
      {words ? (
        <p>
          <strong>Who will see it:</strong> {words}
        </p>
      ) : null}
      {warning ? <p className="error">{warning}</p> : null}
      <p>
        <strong>Who can reply:</strong> {replyWords(reply, replyCircle)}
      </p>
    </div>
  );
}

function replyWords(reply: ReplyChoice, circle: Circle | null): string {
  switch (reply) {
    case "same":
      return "everyone who can see it.";
    case "followers":
      return "only people who follow you, among those who can see it.";
    case "friends":
      return "only people you follow who follow you back, among those who can see it.";
    case "clique":
      return "only members of this Clique, among those who can see it.";
    case "circle":
      return circle
        ? `only the people in your circle "${circle.name}", among those who can see it.`
        : "only the people in the circle you choose.";
    case "nobody":
      return "nobody: replies are turned off.";
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function listOf(names: string[]): string {
  if (names.length === 1) return names[0]!;
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** The radio group "Who can reply?". */
export function ReplyPicker({
  idPrefix,
  value,
  onChange,
  circleId,
  onCircleChange,
  circles,
  disabled,
}: {
  idPrefix: string;
  value: ReplyChoice;
  onChange: (value: ReplyChoice) => void;
  circleId: string;
  onCircleChange: (id: string) => void;
  circles: Circle[];
  disabled: boolean;
}) {
  return (
    <fieldset className="audience-picker" disabled={disabled}>
      <legend>Who can reply?</legend>
      {(Object.keys(REPLY_LABELS) as ReplyChoice[]).map((choice) => (
        <div className="audience-option" key={choice}>
          <input
            type="radio"
            id={`${idPrefix}-reply-${choice}`}
            name={`${idPrefix}-reply`}
            value={choice}
            checked={value === choice}
            onChange={() => onChange(choice)}
          />
          <label htmlFor={`${idPrefix}-reply-${choice}`}>{REPLY_LABELS[choice]}</label>
        </div>
      ))}
      {value === "circle" ? (
        <CircleSelect
          id={`${idPrefix}-reply-circle`}
          label="Which circle may reply?"
          circles={circles}
          value={circleId}
          onChange={onCircleChange}
        />
      ) : null}
      <p className="hint">People who cannot see the post can never reply to it.</p>
    </fieldset>
  );
}

type AudienceRef = string | { audience: string; circle_id: string };

/**
 * `interaction_policy.reply` for the server, or undefined to leave replies
 * to whoever can see the post (the server's default).
 */
export function replyPolicy(
  choice: ReplyChoice,
  replyCircleId: string,
  audience: AudienceChoice,
  audienceCircleId: string,
  ownCircles: Circle[],
): AudienceRef | undefined {
  if (choice === "circle") return { audience: "circle", circle_id: replyCircleId };
  if (choice !== "same") return choice;
  switch (audience) {
    case "public":
    case "unlisted":
      return "public";
    case "followers":
    case "friends":
    case "clique":
      return audience;
    case "circle":
      // Only the member's own circles can be named in a policy.
      return ownCircles.some((c) => c.id === audienceCircleId)
        ? { audience: "circle", circle_id: audienceCircleId }
        : undefined;
    default:
      // Named people, or the parent's audience: only they can see it, so only they can reply.
      return undefined;
  }
}
