import type { MediaAttachment, Status } from "../lib/types";

/** The photos of a page of posts, newest first (videos and sounds are left to the Posts tab). */
export function photosOf(statuses: Status[]): MediaAttachment[] {
  return statuses.flatMap((s) =>
    (s.reblog ? [] : s.media_attachments).filter(
      (m) => m.type === "image" && (m.url || m.preview_url),
    ),
  );
}
