import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { ComposeForm } from "../../components/compose-form";
import { StatusCard } from "../../components/status-card";
import { apiGet, currentAccount } from "../../lib/api";
import { displayName } from "../../lib/format";
import { single } from "../../lib/params";
import type { Circle, Status } from "../../lib/types";

export const metadata: Metadata = { title: "Write a post" };

export default async function ComposePage({
  searchParams,
}: {
  searchParams: Promise<{ in_reply_to?: string }>;
}) {
  const { in_reply_to: inReplyTo } = await single(searchParams);
  const replyId =
    typeof inReplyTo === "string" && /^[\w-]{1,64}$/.test(inReplyTo) ? inReplyTo : null;
  const account = await currentAccount();
  if (!account) {
    const here = replyId ? `/compose?in_reply_to=${encodeURIComponent(replyId)}` : "/compose";
    redirect(`/signin?return_to=${encodeURIComponent(here)}`);
  }
  const [circles, parent] = await Promise.all([
    apiGet<Circle[]>("/api/v1/clique/circles"),
    replyId ? apiGet<Status>(`/api/v1/statuses/${encodeURIComponent(replyId)}`) : null,
  ]);

  if (replyId && !parent?.ok) {
    return (
      <div className="narrow card stack">
        <h1>Reply</h1>
        <p role="alert">
          The post you want to answer was not found: it may have been deleted, or it is not shared
          with you.
        </p>
        <p>
          <a href="/compose">Write a new post instead</a>
        </p>
      </div>
    );
  }

  const post = parent?.ok ? parent.data : null;
  const author = post?.account ?? null;
  return (
    <div className="narrow">
      <h1>{post ? `Reply to ${displayName(author!)}` : "Write a post"}</h1>
      {post ? (
        <section aria-label="The post you are answering" className="compose-parent">
          <StatusCard status={post} signedIn viewerId={account.id} />
        </section>
      ) : null}
      <div className="card">
        <ComposeForm
          circles={circles.ok ? circles.data : []}
          defaultAudience={account.source?.audience ?? "public"}
          replyTo={
            post
              ? {
                  id: post.id,
                  audience: post.audience ?? null,
                  circleId: post.circle_id ?? null,
                  authorName: displayName(post.account),
                }
              : null
          }
          initialText={post && post.account.id !== account.id ? `@${post.account.acct} ` : ""}
        />
      </div>
    </div>
  );
}
