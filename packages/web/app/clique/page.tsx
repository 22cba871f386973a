import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Timeline } from "../../components/timeline";
import { apiGet, currentAccount, nextMaxId } from "../../lib/api";
import { moderates } from "../../lib/format";
import type { Status } from "../../lib/types";

export const metadata: Metadata = { title: "The Clique" };

export default async function CliqueTimelinePage() {
  const account = await currentAccount();
  if (!account) redirect("/signin?return_to=/clique");
  const page = await apiGet<Status[]>("/api/v1/timelines/public?local=true&limit=20");
  const statuses = page.ok ? page.data : [];
  return (
    <div className="narrow">
      <h1>The Clique</h1>
      <p className="muted">Everything members shared with the Clique or with everyone.</p>
      <Timeline
        endpoint="/api/v1/timelines/public"
        query={{ local: "true" }}
        initial={statuses}
        initialNext={page.ok && statuses.length >= 20 ? nextMaxId(page.link) : null}
        stream="public:local"
        signedIn
        viewerId={account.id}
        canModerate={moderates(account.clique_role)}
        empty="No posts yet."
      />
    </div>
  );
}
