"use client";

import { useRef, useState } from "react";
import { apiPage, errorMessage } from "../lib/client";
import type { MediaAttachment, Status } from "../lib/types";
import { Feedback } from "./feedback";
import { photosOf } from "./profile-media";
import { Lightbox } from "./status-card";

/** Posts per page of the photo tab. */
const PAGE = 40;

/** A square grid of a member's photos; each opens large with its description. */
export function ProfilePhotos({
  accountId,
  initial,
  initialNext,
}: {
  accountId: string;
  initial: MediaAttachment[];
  initialNext: string | null;
}) {
  const [photos, setPhotos] = useState(initial);
  const [next, setNext] = useState(initialNext);
  const [open, setOpen] = useState<MediaAttachment | null>(null);
  // Closing the photo puts focus back on the button that opened it.
  const opener = useRef<HTMLButtonElement | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function loadMore() {
    if (!next) return;
    setLoading(true);
    setError(null);
    try {
      const params = new URLSearchParams({
        only_media: "true",
        exclude_reblogs: "true",
        max_id: next,
        limit: String(PAGE),
      });
      const page = await apiPage<Status>(`/api/v1/accounts/${accountId}/statuses?${params}`);
      setPhotos((list) => {
        const seen = new Set(list.map((m) => m.id));
        return [...list, ...photosOf(page.items).filter((m) => !seen.has(m.id))];
      });
      // A short page is the last one.
      setNext(page.items.length < PAGE ? null : page.next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }

  return (
    <section aria-label="Photos">
      {photos.length === 0 ? <p className="muted">No photos to show.</p> : null}
      <ul className="photo-grid profile-photo-grid">
        {photos.map((m) => (
          <li key={m.id}>
            <button
              type="button"
              onClick={(event) => {
                opener.current = event.currentTarget;
                setOpen(m);
              }}
              aria-label={m.description ? `Open photo: ${m.description}` : "Open photo"}
            >
              {/* biome-ignore lint/performance/noImgElement: files of this server, cropped by CSS */}
              <img src={m.preview_url ?? m.url ?? ""} alt={m.description ?? ""} loading="lazy" />
            </button>
          </li>
        ))}
      </ul>
      {next ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : "Load more photos"}
        </button>
      ) : null}
      <Feedback error={error} />
      {open ? (
        <Lightbox
          media={open}
          onClose={() => {
            setOpen(null);
            opener.current?.focus();
          }}
        />
      ) : null}
    </section>
  );
}
