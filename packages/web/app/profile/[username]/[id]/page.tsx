import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { StatusCard } from "../../../../components/status-card";
import { ThreadReply } from "../../../../components/thread-reply";
import { apiGet, currentAccount } from "../../../../lib/api";
import { displayName, moderates } from "../../../../lib/format";
import type { Circle, Status } from "../../../../lib/types";

interface Props {
  params: Promise<{ username: string; id: string }>;
}

/**
 * The post at `/@name/:id`, as the visitor may see it: the API answers as
 * them, so a post they may not see is a 404 here too. A post whose author is
 * not `name` is a 404 as well: one address per post.
 */
const loadPost = cache(async (username: string, id: string): Promise<Status | null> => {
  if (!/^[\w-]{1,64}$/.test(id)) return null;
  const result = await apiGet<Status>(`/api/v1/statuses/${encodeURIComponent(id)}`);
  if (!result.ok) return null;
  const status = result.data;
  let name = username;
  try {
    name = decodeURIComponent(username);
  } catch {
    return null;
  }
  if (name.startsWith("@")) name = name.slice(1);
  name = name.toLowerCase();
  const { acct, username: own } = status.account;
  const local = !acct.includes("@");
  const matches = acct.toLowerCase() === name || (local && own.toLowerCase() === name);
  return matches ? status : null;
});

/** The text of a post without its markup, for link previews. */
function plainText(html: string): string {
  const named: Record<string, string> = {
    amp: "&",
    lt: "<",
    gt: ">",
    quot: '"',
    apos: "'",
    nbsp: " ",
  };
  return html
    .replace(/<br\s*\/?>|<\/p>\s*<p>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (entity, code: string) => {
      const lower = code.toLowerCase();
      if (lower in named) return named[lower]!;
      if (!lower.startsWith("#")) return entity;
      const n = lower.startsWith("#x")
        ? Number.parseInt(lower.slice(2), 16)
        : Number(lower.slice(1));
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : entity;
    })
    .replace(/\s+/g, " ")
    .trim();
}

function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { username, id } = await params;
  const status = await loadPost(username, id);
  if (!status) return { title: "Not found" };
  const author = displayName(status.account);
  // Behind a content warning, only the warning is told.
  const description = status.spoiler_text
    ? status.spoiler_text
    : excerpt(plainText(status.content), 200);
  const photo = status.sensitive
    ? undefined
    : status.media_attachments.find((m) => m.type === "image" && (m.preview_url || m.url));
  return {
    title: description ? `${author}: “${excerpt(description, 60)}”` : `Post by ${author}`,
    description: description || undefined,
    openGraph: {
      type: "article",
      title: author,
      description: description || undefined,
      url: status.url,
      ...(photo
        ? {
            images: [
              {
                url: (photo.preview_url ?? photo.url)!,
                ...(photo.description ? { alt: photo.description } : {}),
              },
            ],
          }
        : {}),
    },
    alternates: { types: { "application/activity+json": status.uri } },
  };
}

export default async function PostPage({ params }: Props) {
  const { username, id } = await params;
  const [status, viewer] = await Promise.all([loadPost(username, id), currentAccount()]);
  if (!status) notFound();
  const [context, circles] = await Promise.all([
    apiGet<{ ancestors: Status[]; descendants: Status[] }>(
      `/api/v1/statuses/${encodeURIComponent(status.id)}/context`,
    ),
    viewer ? apiGet<Circle[]>("/api/v1/clique/circles") : null,
  ]);
  const ancestors = context.ok ? context.data.ancestors : [];
  const descendants = context.ok ? context.data.descendants : [];
  const author = displayName(status.account);
  const signedIn = viewer !== null;
  const viewerId = viewer?.id;
  const canModerate = moderates(viewer?.clique_role);
  const here = `/@${username}/${status.id}`;

  return (
    <div className="narrow thread">
      <h1 className="visually-hidden">Post by {author}</h1>
      {ancestors.length > 0 ? (
        <section aria-labelledby="thread-earlier" className="thread-ancestors">
          <h2 id="thread-earlier" className="thread-heading">
            Earlier in the conversation
          </h2>
          {ancestors.map((s) => (
            <StatusCard
              key={s.id}
              status={s}
              signedIn={signedIn}
              viewerId={viewerId}
              canModerate={canModerate}
            />
          ))}
        </section>
      ) : null}
      <div className="thread-focus">
        <StatusCard
          status={status}
          signedIn={signedIn}
          viewerId={viewerId}
          canModerate={canModerate}
        />
      </div>
      {viewer ? (
        <ThreadReply
          replyTo={{
            id: status.id,
            audience: status.audience ?? null,
            circleId: status.circle_id ?? null,
            authorName: author,
          }}
          circles={circles?.ok ? circles.data : []}
          defaultAudience={viewer.source?.audience ?? "public"}
          mention={status.account.id === viewer.id ? "" : `@${status.account.acct} `}
        />
      ) : (
        <p id="reply" className="card">
          <a href={`/signin?return_to=${encodeURIComponent(here)}`}>Sign in to reply</a>
        </p>
      )}
      <section aria-labelledby="thread-replies" className="thread-descendants">
        <h2 id="thread-replies" className="thread-heading">
          Replies
        </h2>
        {descendants.length > 0 ? (
          descendants.map((s) => (
            <StatusCard
              key={s.id}
              status={s}
              signedIn={signedIn}
              viewerId={viewerId}
              canModerate={canModerate}
            />
          ))
        ) : (
          <p className="muted">No replies yet.</p>
        )}
      </section>
    </div>
  );
}
