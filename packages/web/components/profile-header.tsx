import type { ReactNode } from "react";
import { displayName } from "../lib/format";
import type { Account } from "../lib/types";

/**
 * A profile's top: header picture, avatar, names, bio, fields and counts.
 * Plain markup (no state), so the page and the "View as…" preview render it
 * alike. The bio and field values are HTML sanitized by the server.
 */
export function ProfileHeader({
  account,
  headingLevel = 1,
  children,
}: {
  account: Account;
  headingLevel?: 1 | 2 | 3;
  children?: ReactNode;
}) {
  const Heading = (["h1", "h2", "h3"] as const)[headingLevel - 1]!;
  const name = displayName(account);
  return (
    <section className="profile-header" aria-label={`Profile of ${name}`}>
      {/* biome-ignore lint/performance/noImgElement: a file of this server, sized by CSS */}
      <img className="profile-banner-img" src={account.header} alt={`Header of ${name}`} />
      <div className="profile-body">
        {/* biome-ignore lint/performance/noImgElement: a file of this server, sized by CSS */}
        <img
          className="avatar large"
          src={account.avatar}
          alt={`Avatar of ${name}`}
          width={96}
          height={96}
        />
        <Heading className="profile-name">{name}</Heading>
        <p className="status-meta profile-acct">@{account.acct}</p>
        {children}
        {account.note ? (
          <div
            className="status-content profile-bio"
            // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by the server
            dangerouslySetInnerHTML={{ __html: account.note }}
          />
        ) : null}
        {account.fields.length > 0 ? (
          <dl className="profile-fields">
            {account.fields.map((field, i) => (
              // Names may repeat; the order is the member's.
              // biome-ignore lint/suspicious/noArrayIndexKey: fields have no id
              <div key={i}>
                <dt>{field.name}</dt>
                {/* biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by the server */}
                <dd dangerouslySetInnerHTML={{ __html: field.value }} />
              </div>
            ))}
          </dl>
        ) : null}
        <ul className="profile-counts">
          <li>
            <strong>{account.statuses_count}</strong>{" "}
            {account.statuses_count === 1 ? "post" : "posts"}
          </li>
          <li>
            <strong>{account.following_count}</strong> following
          </li>
          <li>
            <strong>{account.followers_count}</strong>{" "}
            {account.followers_count === 1 ? "follower" : "followers"}
          </li>
        </ul>
      </div>
    </section>
  );
}
