"use client";

import { type OwnDevice, toHex } from "@clique/client";
import { useCallback, useEffect, useState } from "react";
import { errorMessage } from "../lib/client";
import { type ChatSession, useChatDevice } from "../lib/use-chat-device";
import { ChatGate } from "./chat-gate";
import { Feedback } from "./feedback";

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** A device key as four groups of hex, to tell devices apart and compare across them. */
function keyPrint(key: Uint8Array): string {
  return toHex(key).slice(0, 16).match(/.{4}/g)?.join(" ") ?? "";
}

/** The member's chat devices: this browser and the others, each removable. */
export function ChatDevices({ viewerId }: { viewerId: string }) {
  const session = useChatDevice(viewerId);
  return (
    <ChatGate session={session}>
      <DeviceList session={session} viewerId={viewerId} />
    </ChatGate>
  );
}

function DeviceList({ session, viewerId }: { session: ChatSession; viewerId: string }) {
  const [devices, setDevices] = useState<OwnDevice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [gone, setGone] = useState(false);
  const { api, device } = session;
  const thisDevice = device!.deviceId;

  const load = useCallback(() => {
    api!.listOwnDevices().then(setDevices, (caught: unknown) => setError(errorMessage(caught)));
  }, [api]);
  useEffect(load, [load]);

  // Only devices the verified key directory lists with the same key are shown as trusted.
  const listed = new Map(device!.devicesOfMember(viewerId).map((d) => [d.deviceId, d]));
  const missing = device!.ownDevicesMissing();

  async function addToChats(target: OwnDevice) {
    setError(null);
    setDone(null);
    try {
      const joined = await session.run((d) => d.addOwnDevice(target.id));
      setDone(`“${target.name}” is in ${joined === 1 ? "1 more chat" : `${joined} more chats`}.`);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }

  async function remove(target: OwnDevice) {
    const own = target.id === thisDevice;
    const question = own
      ? "Remove this browser from your chat devices? Its keys and chats are deleted here."
      : `Remove “${target.name}”? It will not read new messages; your other devices remove it from every chat.`;
    if (!window.confirm(question)) return;
    setError(null);
    setDone(null);
    try {
      await api!.removeDevice(target.id);
      if (own) {
        await session.forget();
        setGone(true);
        return;
      }
      // The chats drop it now (each send would anyway).
      await session.run(async (d) => {
        await d.syncDirectory();
        for (const groupId of d.groupIds()) await d.removeDepartedDevices(groupId);
      });
      setDone(`Removed “${target.name}”.`);
      load();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }

  if (gone)
    return (
      <p className="success" role="status">
        This browser is no longer a chat device, and its keys are deleted.{" "}
        <a href="/chats">Back to chats</a>
      </p>
    );
  return (
    <div className="stack">
      <p>
        <a href="/chats">← All chats</a>
      </p>
      <h1>Your chat devices</h1>
      <p>
        Each device has its own keys and reads the chats it is in. A new device joins your earlier
        chats when you add it from one that is in them. Remove a device you lost or no longer use:
        it will not read anything sent afterwards. Contacts see your safety number change when your
        devices do.
      </p>
      <Feedback error={error} message={done} />
      {devices === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <ul className="settings-list" aria-label="Chat devices">
          {devices.map((d) => {
            const entry = listed.get(d.id);
            const trusted = !!entry && toHex(entry.signatureKey) === toHex(d.signatureKey);
            return (
              <li key={d.id} data-device={d.id}>
                <div>
                  <strong>{d.name}</strong>
                  {d.id === thisDevice ? <span className="audience-tag">This browser</span> : null}
                  <p className="muted small">
                    Added {DATE.format(new Date(d.createdAt))} · key{" "}
                    <code>{keyPrint(d.signatureKey)}</code>
                    {trusted ? "" : " · not in the verified key directory"}
                  </p>
                  {trusted && (missing.get(d.id)?.length ?? 0) > 0 ? (
                    <p className="small" data-missing-chats={missing.get(d.id)!.length}>
                      Not in {missing.get(d.id)!.length} of the chats on this browser yet. If it is
                      yours — its own device list shows the same key — add it; otherwise remove it.
                    </p>
                  ) : null}
                </div>
                <div className="row">
                  {trusted && (missing.get(d.id)?.length ?? 0) > 0 ? (
                    <button type="button" className="button" onClick={() => void addToChats(d)}>
                      Add to my chats
                    </button>
                  ) : null}
                  <button type="button" className="danger" onClick={() => void remove(d)}>
                    Remove
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
