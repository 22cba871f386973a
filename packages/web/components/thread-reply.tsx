"use client";

import type { Audience, Circle } from "../lib/types";
import { ComposeForm, type ReplyTarget } from "./compose-form";

/** The reply box under a post (`#reply`): the compose form, answering that post. */
export function ThreadReply({
  replyTo,
  circles,
  defaultAudience,
  mention,
}: {
  replyTo: ReplyTarget;
  circles: Circle[];
  defaultAudience: Audience;
  /** `@acct ` of the author answered, to start the text with (empty for one's own post). */
  mention: string;
}) {
  return (
    <section id="reply" className="card thread-reply" aria-labelledby="reply-heading">
      <h2 id="reply-heading">Reply</h2>
      <ComposeForm
        idPrefix="reply"
        circles={circles}
        defaultAudience={defaultAudience}
        replyTo={replyTo}
        initialText={mention}
      />
    </section>
  );
}
