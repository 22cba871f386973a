import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Timeline } from "../../components/timeline";
import { apiGet, currentAccount, nextMaxId } from "../../lib/api";
import { moderates } from "../../lib/format";
import type { Status } from "../../lib/types";

export const metadata: Metadata = { title: "Home" };

export default async function HomePage() {
  const account = await currentAccount();
  if (!account) redirect("/signin?return_to=/home");
  const page = await apiGet<Status[]>("/api/v1/timelines/home?limit=20");
  const statuses = page.ok ? page.data : [];
  return (
    <div className="narrow">
      <h1>Home</h1>
      <p className="row">
        <a className="button" href="/compose">
          Write a post
        </a>
      </p>
      <Timeline
        endpoint="/api/v1/timelines/home"
        initial={statuses}
        initialNext={page.ok && statuses.length >= 20 ? nextMaxId(page.link) : null}
        stream="user"
        signedIn
        viewerId={account.id}
        canModerate={moderates(account.clique_role)}
        empty="Nothing here yet. Posts of members and of people you follow appear here."
      />
    </div>
  );
}
