"use client";

import { useEffect, useRef, useState } from "react";

/** How a live stream stands: opening, open, or dropped (and retrying). */
export type StreamState = "connecting" | "live" | "offline";

/** One event of the streaming API: its name and its payload, as sent. */
export interface StreamEvent {
  event: string;
  payload: string;
}

/** After a dropped connection, how long to wait before opening it again. */
const RETRY_MS = 5_000;

/** Where the streaming API answers for `stream` (the same origin, ws:// or wss://). */
function streamingUrl(stream: string): string {
  const url = new URL("/api/v1/streaming", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("stream", stream);
  return url.toString();
}

/**
 * Listens to one stream of the streaming API (the session cookie signs the
 * browser in) and hands each well-formed event to `onEvent`; reconnects after
 * a drop. `stream` null listens to nothing.
 */
export function useStream(
  stream: string | null,
  onEvent: (event: StreamEvent) => void,
): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  // The latest handler, so that a re-render does not reopen the socket.
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });

  useEffect(() => {
    if (stream === null) return;
    let socket: WebSocket | null = null;
    let closed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      socket = new WebSocket(streamingUrl(stream));
      socket.onopen = () => setState("live");
      socket.onmessage = (message) => {
        let event: { event?: unknown; payload?: unknown };
        try {
          event = JSON.parse(String(message.data));
        } catch {
          return;
        }
        if (typeof event.event !== "string" || typeof event.payload !== "string") return;
        handler.current({ event: event.event, payload: event.payload });
      };
      socket.onclose = () => {
        if (closed) return;
        setState("offline");
        retry = setTimeout(connect, RETRY_MS);
      };
    };
    connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      socket?.close();
    };
  }, [stream]);

  return state;
}
