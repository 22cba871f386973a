import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { type PeopleKind, PeopleList } from "../../components/people-list";
import { FollowElsewhere } from "../../components/people-search";
import { apiGet, currentAccount, nextMaxId } from "../../lib/api";
import { single } from "../../lib/params";
import type { Account } from "../../lib/types";

export const metadata: Metadata = { title: "People" };

type Tab = PeopleKind | "elsewhere";

const TABS: { tab: Tab; label: string; empty: string }[] = [
  { tab: "requests", label: "Follow requests", empty: "No one is waiting for your approval." },
  { tab: "followers", label: "Followers", empty: "No one follows you yet." },
  { tab: "following", label: "Following", empty: "You don't follow anyone yet." },
  { tab: "elsewhere", label: "Follow someone elsewhere", empty: "" },
  { tab: "blocked", label: "Blocked", empty: "You haven't blocked anyone." },
  { tab: "muted", label: "Muted", empty: "You haven't muted anyone." },
];

function endpointOf(tab: PeopleKind, viewerId: string): string {
  switch (tab) {
    case "requests":
      return "/api/v1/follow_requests";
    case "followers":
      return `/api/v1/accounts/${viewerId}/followers`;
    case "following":
      return `/api/v1/accounts/${viewerId}/following`;
    case "blocked":
      return "/api/v1/blocks";
    case "muted":
      return "/api/v1/mutes";
  }
}

export default async function PeoplePage({
  searchParams,
}: {
  searchParams: Promise<{ tab?: string }>;
}) {
  const { tab: asked } = await single(searchParams);
  const viewer = await currentAccount();
  if (!viewer)
    redirect(`/signin?return_to=${encodeURIComponent(asked ? `/people?tab=${asked}` : "/people")}`);
  const current = TABS.find((t) => t.tab === asked) ?? TABS[0]!;
  const endpoint = current.tab === "elsewhere" ? null : endpointOf(current.tab, viewer.id);
  const page = endpoint ? await apiGet<Account[]>(`${endpoint}?limit=40`) : null;

  return (
    <div className="narrow">
      <h1>People</h1>
      <nav className="tabs" aria-label="People sections">
        {TABS.map((t) => (
          <a
            key={t.tab}
            href={`/people?tab=${t.tab}`}
            aria-current={t.tab === current.tab ? "page" : undefined}
          >
            {t.label}
          </a>
        ))}
      </nav>
      <section aria-labelledby="people-section-heading">
        <h2 id="people-section-heading">{current.label}</h2>
        {current.tab === "elsewhere" ? (
          <>
            <p className="muted">
              Follow someone on another server of the fediverse (Mastodon and the like). Their posts
              then appear on your Home page.
            </p>
            <FollowElsewhere />
          </>
        ) : page && !page.ok ? (
          <p className="error" role="alert">
            This list could not be loaded (the server answered {page.status}). Please try again.
          </p>
        ) : page?.ok ? (
          <PeopleList
            kind={current.tab}
            endpoint={endpoint!}
            initial={page.data}
            initialNext={page.data.length > 0 ? nextMaxId(page.link) : null}
            empty={current.empty}
          />
        ) : null}
      </section>
    </div>
  );
}
