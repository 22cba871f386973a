import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ProfileEditor } from "../../../components/profile-editor";
import { FollowButton, type Relationship } from "../../../components/profile-follow-button";
import { ProfileHeader } from "../../../components/profile-header";
import { photosOf } from "../../../components/profile-media";
import { ProfilePhotos } from "../../../components/profile-photos";
import { ProfilePreview } from "../../../components/profile-preview";
import { Timeline } from "../../../components/timeline";
import { apiGet, currentAccount, nextMaxId } from "../../../lib/api";
import { displayName, moderates } from "../../../lib/format";
import { single } from "../../../lib/params";
import type { Account, Circle, Status } from "../../../lib/types";

interface Props {
  params: Promise<{ username: string }>;
  searchParams: Promise<{ tab?: string; edit?: string }>;
}

/** `/@name` arrives as `name`, `/@name@server` as `name@server` (maybe percent-encoded). */
async function acctOf(params: Props["params"]): Promise<string> {
  const { username } = await params;
  const acct = decodeURIComponent(username);
  return acct.startsWith("@") ? acct.slice(1) : acct;
}

/** Mastodon's account, with the ActivityPub id the shared type leaves out. */
type ProfileAccount = Account & { uri?: string };

async function lookup(acct: string): Promise<ProfileAccount | null> {
  const result = await apiGet<ProfileAccount>(
    `/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}`,
  );
  return result.ok ? result.data : null;
}

/** The bio as plain text, for link previews. */
function plainText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/p>\s*<p>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos|nbsp);/gi, (entity, code: string) => {
      const named: Record<string, string> = {
        amp: "&",
        lt: "<",
        gt: ">",
        quot: '"',
        apos: "'",
        nbsp: " ",
      };
      const lower = code.toLowerCase();
      if (lower in named) return named[lower]!;
      const n = lower.startsWith("#x")
        ? Number.parseInt(lower.slice(2), 16)
        : Number(lower.slice(1));
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : entity;
    })
    .replace(/\s+/g, " ")
    .trim();
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const acct = await acctOf(params);
  const account = await lookup(acct);
  if (!account) return { title: "Not found" };
  const title = `${displayName(account)} (@${account.acct})`;
  const description = plainText(account.note);
  const actor = account.uri || `${new URL(account.url).origin}/users/${account.username}`;
  return {
    title,
    description: description || undefined,
    openGraph: {
      type: "profile",
      title,
      description: description || undefined,
      images: [{ url: account.avatar, alt: `Avatar of ${displayName(account)}` }],
      username: account.acct,
    },
    alternates: { types: { "application/activity+json": actor } },
  };
}

export default async function ProfilePage({ params, searchParams }: Props) {
  const acct = await acctOf(params);
  const { tab, edit } = await single(searchParams);
  const [account, viewer] = await Promise.all([lookup(acct), currentAccount()]);
  if (!account) notFound();
  const name = displayName(account);
  const own = viewer?.id === account.id;
  const photos = tab === "photos";
  const base = `/@${account.acct}`;

  const [relationship, page] = await Promise.all([
    viewer && !own
      ? apiGet<Relationship[]>(`/api/v1/accounts/relationships?id[]=${account.id}`)
      : null,
    apiGet<Status[]>(
      photos
        ? `/api/v1/accounts/${account.id}/statuses?only_media=true&exclude_reblogs=true&limit=40`
        : `/api/v1/accounts/${account.id}/statuses?limit=20`,
    ),
  ]);
  const statuses = page.ok ? page.data : [];
  // A short page is the last one.
  const next = page.ok && statuses.length >= (photos ? 40 : 20) ? nextMaxId(page.link) : null;
  const circles = own && edit ? await apiGet<Circle[]>("/api/v1/clique/circles") : null;

  return (
    <div className="narrow">
      <ProfileHeader account={account}>
        {viewer && !own ? (
          <FollowButton
            accountId={account.id}
            name={name}
            initial={relationship?.ok ? (relationship.data[0] ?? null) : null}
          />
        ) : null}
        {own && !edit ? (
          <p className="row">
            <a className="button secondary" href={`${base}?edit=1`}>
              Edit profile
            </a>
          </p>
        ) : null}
      </ProfileHeader>

      {own && edit && viewer ? (
        <>
          <ProfileEditor account={viewer} circles={circles?.ok ? circles.data : []} />
          <ProfilePreview />
          <p>
            <a className="button secondary" href={base}>
              Done editing
            </a>
          </p>
        </>
      ) : (
        <>
          <nav className="tabs" aria-label="Profile sections">
            <a href={base} aria-current={photos ? undefined : "page"}>
              Posts
            </a>
            <a href={`${base}?tab=photos`} aria-current={photos ? "page" : undefined}>
              Photos
            </a>
          </nav>
          <h2 className="visually-hidden">{photos ? `Photos of ${name}` : `Posts of ${name}`}</h2>
          {photos ? (
            <ProfilePhotos accountId={account.id} initial={photosOf(statuses)} initialNext={next} />
          ) : (
            <Timeline
              endpoint={`/api/v1/accounts/${account.id}/statuses`}
              initial={statuses}
              initialNext={next}
              signedIn={viewer !== null}
              viewerId={viewer?.id}
              canModerate={moderates(viewer?.clique_role)}
              empty={`${name} has no posts you can see yet.`}
            />
          )}
        </>
      )}
    </div>
  );
}
