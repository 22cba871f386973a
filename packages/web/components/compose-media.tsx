"use client";

import { useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../lib/client";
import type { MediaAttachment } from "../lib/types";

/** Most photos one post can carry (the server's MAX_ATTACHMENTS). */
export const MAX_PHOTOS = 8;

/** One chosen file, from the moment it is picked until the post is sent. */
export interface UploadItem {
  key: string;
  name: string;
  kind: "photo" | "video";
  /** A local preview of the picked file (an object URL), for photos. */
  preview: string | null;
  description: string;
  /** The description the server has, so only changes are sent again. */
  savedDescription: string;
  /** Upload progress, 0 to 1. */
  progress: number;
  state: "uploading" | "processing" | "ready" | "failed";
  id: string | null;
  error: string | null;
}

type Update = (key: string, change: Partial<UploadItem>) => void;

/** Uploads still sending (by key), and the keys of files not removed. */
interface InFlight {
  requests: Map<string, XMLHttpRequest>;
  live: Set<string>;
}

// XMLHttpRequest rather than fetch: only it reports upload progress.
function send(
  file: File,
  onProgress: (fraction: number) => void,
  onStart: (request: XMLHttpRequest) => void,
) {
  return new Promise<{ status: number; body: MediaAttachment | { error?: string } | null }>(
    (resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", "/api/v2/media");
      request.setRequestHeader("accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      request.addEventListener("load", () => {
        let body = null;
        try {
          body = request.responseText ? JSON.parse(request.responseText) : null;
        } catch {
          body = null;
        }
        resolve({ status: request.status, body });
      });
      request.addEventListener("error", () => reject(new Error("network")));
      request.addEventListener("abort", () => reject(new Error("aborted")));
      const form = new FormData();
      form.append("file", file);
      form.append("description", "");
      request.send(form);
      onStart(request);
    },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Uploads one file, then waits while the server processes it (202, then 206 until ready). */
async function upload(key: string, file: File, update: Update, inFlight: InFlight) {
  try {
    const { status, body } = await send(
      file,
      (progress) => update(key, { progress }),
      (request) => inFlight.requests.set(key, request),
    );
    inFlight.requests.delete(key);
    if (status < 200 || status >= 300) {
      const message = (body as { error?: string } | null)?.error;
      update(key, { state: "failed", error: message ?? `The server answered ${status}` });
      return;
    }
    let media = body as MediaAttachment;
    // Removed while uploading: nothing more to do.
    if (!inFlight.live.has(key)) return;
    update(key, { id: media.id, progress: 1, state: media.url ? "ready" : "processing" });
    for (let wait = 500; !media.url; wait = Math.min(wait * 1.5, 3000)) {
      await sleep(wait);
      if (!inFlight.live.has(key)) return;
      media = await api<MediaAttachment>(`/api/v1/media/${media.id}`);
    }
    update(key, { state: "ready" });
  } catch (error) {
    if (error instanceof Error && error.message === "aborted") return;
    update(key, {
      state: "failed",
      error:
        error instanceof Error && error.message === "network"
          ? "The upload was cut off. Check your connection and try again."
          : errorMessage(error),
    });
  }
}

/** The files of a post being written, and how to add, describe and remove them. */
export function useUploads() {
  const [items, setItems] = useState<UploadItem[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const counter = useRef(0);
  const previews = useRef(new Set<string>());
  // So that removing a file stops its upload, and its processing is no longer awaited.
  const inFlight = useRef<InFlight>({ requests: new Map(), live: new Set() });

  useEffect(() => {
    const urls = previews.current;
    return () => {
      for (const url of urls) URL.revokeObjectURL(url);
    };
  }, []);

  const update: Update = (key, change) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));

  function add(files: File[]) {
    setProblem(null);
    if (files.length === 0) return;
    const videos = files.filter((f) => f.type.startsWith("video/"));
    const hasVideo = items.some((i) => i.kind === "video");
    if (videos.length > 0 && (files.length > 1 || items.length > 0)) {
      setProblem("A post can have one video, or up to 8 photos, not both.");
      return;
    }
    if (hasVideo) {
      setProblem("This post already has a video. Remove it to add photos.");
      return;
    }
    if (items.length + files.length > MAX_PHOTOS) {
      setProblem(`A post can have at most ${MAX_PHOTOS} photos.`);
      return;
    }
    for (const file of files) {
      counter.current += 1;
      const key = `upload-${counter.current}`;
      const kind = file.type.startsWith("video/") ? "video" : "photo";
      const preview = kind === "photo" ? URL.createObjectURL(file) : null;
      if (preview) previews.current.add(preview);
      const item: UploadItem = {
        key,
        name: file.name,
        kind,
        preview,
        description: "",
        savedDescription: "",
        progress: 0,
        state: "uploading",
        id: null,
        error: null,
      };
      setItems((list) => [...list, item]);
      inFlight.current.live.add(key);
      void upload(key, file, update, inFlight.current);
    }
  }

  function remove(key: string) {
    setProblem(null);
    inFlight.current.requests.get(key)?.abort();
    inFlight.current.requests.delete(key);
    inFlight.current.live.delete(key);
    setItems((list) => {
      const gone = list.find((i) => i.key === key);
      if (gone?.preview) {
        URL.revokeObjectURL(gone.preview);
        previews.current.delete(gone.preview);
      }
      return list.filter((i) => i.key !== key);
    });
  }

  /** Sends descriptions typed after the upload; returns the ids to attach. */
  async function finish(): Promise<string[]> {
    const ready = items.filter((i) => i.state === "ready" && i.id);
    for (const item of ready) {
      if (item.description.trim() === item.savedDescription) continue;
      await api(`/api/v1/media/${item.id}`, {
        method: "PUT",
        json: { description: item.description.trim() },
      });
      update(item.key, { savedDescription: item.description.trim() });
    }
    return ready.map((i) => i.id!);
  }

  const busy = items.some((i) => i.state === "uploading" || i.state === "processing");
  const failed = items.some((i) => i.state === "failed");
  return { items, problem, add, remove, update, finish, busy, failed };
}

/** The file picker and the list of chosen files, each with its description and progress. */
export function ComposeMedia({
  uploads,
  idPrefix,
  disabled,
}: {
  uploads: ReturnType<typeof useUploads>;
  idPrefix: string;
  disabled: boolean;
}) {
  const { items, problem, add, remove, update } = uploads;
  const full = items.length >= MAX_PHOTOS || items.some((i) => i.kind === "video");
  return (
    <div className="compose-media">
      <label htmlFor={`${idPrefix}-files`}>
        Add photos or a video{" "}
        <span className="hint">(up to {MAX_PHOTOS} photos, or one video)</span>
      </label>
      <input
        id={`${idPrefix}-files`}
        type="file"
        accept="image/*,video/*"
        multiple
        disabled={disabled || full}
        onChange={(event) => {
          add(Array.from(event.currentTarget.files ?? []));
          event.currentTarget.value = "";
        }}
      />
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
      {items.length > 0 ? (
        <ul className="compose-media-list">
          {items.map((item, index) => {
            const number = index + 1;
            const what = item.kind === "video" ? "video" : `photo ${number}`;
            return (
              <li key={item.key} className="compose-media-item">
                {item.preview ? (
                  // biome-ignore lint/performance/noImgElement: a local preview of the picked file
                  <img src={item.preview} alt="" width={96} height={96} />
                ) : (
                  <span className="compose-media-video" aria-hidden="true">
                    Video
                  </span>
                )}
                <div className="compose-media-body">
                  <p className="small">{item.name}</p>
                  <UploadState item={item} label={what} />
                  <label htmlFor={`${idPrefix}-${item.key}-alt`}>
                    {item.kind === "video"
                      ? "Describe this video for people who can't see it"
                      : "Describe this photo for people who can't see it"}
                  </label>
                  <textarea
                    id={`${idPrefix}-${item.key}-alt`}
                    className="compose-alt"
                    rows={2}
                    maxLength={1500}
                    value={item.description}
                    disabled={disabled}
                    onChange={(event) => update(item.key, { description: event.target.value })}
                  />
                  <button
                    type="button"
                    className="secondary"
                    disabled={disabled}
                    onClick={() => remove(item.key)}
                  >
                    Remove {what}
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}

function UploadState({ item, label }: { item: UploadItem; label: string }) {
  if (item.state === "failed")
    return (
      <p className="error" role="alert">
        Could not upload {label}: {item.error}
      </p>
    );
  if (item.state === "ready") return <p className="success small">Ready</p>;
  const percent = Math.round(item.progress * 100);
  return (
    <div>
      <progress
        max={100}
        value={item.state === "processing" ? undefined : percent}
        aria-label={`Uploading ${label}`}
      />
      <p className="small muted" aria-live="polite">
        {item.state === "processing" ? "Preparing…" : `Uploading: ${percent}%`}
      </p>
    </div>
  );
}
