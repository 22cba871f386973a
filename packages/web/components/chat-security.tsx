"use client";

import type { Alert } from "@clique/client";
import { alertsOf, type ChatSession } from "../lib/use-chat-device";
import { type ChatPeople, personName } from "./chat-gate";

const ALERT_TITLES: Record<Alert["kind"], string> = {
  ForkAlarm: "Two versions of a chat",
  DevicesChanged: "A contact's devices changed",
  Replay: "A message was delivered twice",
  PolicyMismatch: "The server's policy does not match",
};

/** One alert in plain words. */
function alertText(alert: Alert, people: ChatPeople): string {
  switch (alert.kind) {
    case "ForkAlarm":
      return "The server showed members of a chat different versions of it. Messages in it may not reach everyone: compare safety numbers and tell an administrator.";
    case "DevicesChanged":
      return `${alert.memberId ? personName(people, alert.memberId) : "A member"} has added or removed a device. Compare safety numbers again before sharing anything sensitive.`;
    case "Replay":
      return "The server delivered a message a second time. It was shown once and the copy dropped.";
    case "PolicyMismatch":
      return alert.message;
  }
}

/**
 * What this browser verified about the server, what it caught, and what it
 * cannot check: the "verification status" of the chats.
 */
export function ChatSecurity({ session, people }: { session: ChatSession; people: ChatPeople }) {
  const { device, policy } = session;
  if (!device) return null;
  const head = device.head();
  const alerts = alertsOf(device);
  const policyAlerts = alerts.filter((a) => a.kind === "PolicyMismatch");
  return (
    <section className="card stack" aria-labelledby="chat-security-title">
      <h2 id="chat-security-title">Is this server keeping its word?</h2>
      <ul className="chat-checks">
        <li data-check="directory">
          <strong>Key directory: verified.</strong>{" "}
          {head
            ? `This browser checked all ${head.seq} entries of the server's log of device keys, and that it only ever grew (latest ${head.hash.slice(0, 12)}…).`
            : "The log of device keys is empty."}
        </li>
        <li data-check="policy">
          <strong>
            Security policy: {policyAlerts.length === 0 ? "matches" : "does not match"}.
          </strong>{" "}
          {policy
            ? `The server says it keeps encrypted messages at most ${policy.retention_days} days, accepts one change per chat at a time and never stores plaintext or keys.`
            : "The server's policy could not be read."}
        </li>
        <li data-check="bundle">
          <strong>This page's code:</strong>{" "}
          {policy?.web_client ? (
            <>
              published bundle <code className="chat-hash">{policy.web_client.bundle_sha256}</code>.
              Compare it with the hash a build of this Clique release gives (
              <code>npm run web:bundle-hash -- --verify {window.location.origin}</code>): the server
              serves this code, so a server that changed it could read your chats here.
            </>
          ) : (
            "the server publishes no bundle hash for its web client."
          )}
        </li>
      </ul>
      {alerts.length > 0 ? (
        <div role="alert">
          <h3>What this browser caught</h3>
          <ul className="chat-alerts">
            {alerts.map((alert, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: alerts are only ever added, never reordered
              <li key={`${alert.kind}-${i}`} data-alert={alert.kind}>
                <strong>{ALERT_TITLES[alert.kind]}.</strong> {alertText(alert, people)}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p className="success">Nothing suspicious seen so far.</p>
      )}
      <details>
        <summary>What the server still sees</summary>
        <p>
          Who chats with whom, when, and how long messages and photos are; which devices each member
          has. It cannot read messages or photos, and it cannot add a device to your chats without
          this browser noticing.
        </p>
      </details>
    </section>
  );
}
