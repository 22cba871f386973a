"use client";

import { useEffect, useState } from "react";
import { renderSVG } from "uqr";
import { errorMessage } from "../lib/client";
import { type ChatSession, useChatDevice } from "../lib/use-chat-device";
import { ChatGate, type ChatPeople, personName } from "./chat-gate";
import { Feedback } from "./feedback";

/** The safety number of the viewer and one contact: digits, a QR code, and "mark verified". */
export function ChatSafety({
  viewerId,
  contactId,
  people,
}: {
  viewerId: string;
  contactId: string;
  people: ChatPeople;
}) {
  const session = useChatDevice(viewerId);
  return (
    <ChatGate session={session}>
      <SafetyNumber session={session} contactId={contactId} people={people} />
    </ChatGate>
  );
}

function SafetyNumber({
  session,
  contactId,
  people,
}: {
  session: ChatSession;
  contactId: string;
  people: ChatPeople;
}) {
  const [number, setNumber] = useState<{ digits: string; qr: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { run } = session;
  useEffect(() => {
    run((d) => d.safetyNumber(contactId)).then(setNumber, (caught: unknown) =>
      setError(errorMessage(caught)),
    );
  }, [run, contactId]);

  const name = personName(people, contactId);
  const devices = session.device!.devicesOfMember(contactId).length;
  const verifiedAs = session.verified[contactId];
  return (
    <div className="stack">
      <p>
        <a href="/chats">← All chats</a>
      </p>
      <h1>Safety number with {name}</h1>
      <p>
        Compare this number with the one {name} sees on their device, in person or on a call you
        trust. If they match, no one (the server included) has slipped a device of theirs into your
        chats. It changes when either of you adds or removes a device.
      </p>
      <Feedback error={error} />
      {devices === 0 ? <p className="muted">{name} has no chat devices yet.</p> : null}
      {number ? (
        <>
          <p className="safety-digits" data-safety-number={number.digits}>
            <span className="visually-hidden">Safety number: </span>
            {number.digits.split(" ").map((group, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the groups are fixed positions of one number
              <span key={i}>{group} </span>
            ))}
          </p>
          <img
            className="safety-qr"
            src={`data:image/svg+xml;utf8,${encodeURIComponent(renderSVG(number.qr, { border: 2 }))}`}
            alt={`QR code of the safety number with ${name}, to scan from their device`}
            width={240}
            height={240}
          />
          {verifiedAs === number.digits ? (
            <div className="stack">
              <p className="success" data-verified="yes">
                You marked {name} as verified with this number.
              </p>
              <p>
                <button
                  type="button"
                  className="button secondary"
                  onClick={() => session.setVerified(contactId, null)}
                >
                  Clear verification
                </button>
              </p>
            </div>
          ) : (
            <div className="stack">
              {verifiedAs ? (
                <p className="error" role="alert" data-verified="changed">
                  This number changed since you verified {name}: one of you added or removed a
                  device. Compare again.
                </p>
              ) : (
                <p className="muted" data-verified="no">
                  Not verified yet.
                </p>
              )}
              <p>
                <button
                  type="button"
                  className="button"
                  onClick={() => session.setVerified(contactId, number.digits)}
                >
                  The numbers match: mark as verified
                </button>
              </p>
            </div>
          )}
        </>
      ) : null}
    </div>
  );
}
