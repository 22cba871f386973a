/**
 * Remote moderation's domain objects: what a Clique decided about other
 * servers (domain blocks) and single remote accounts (suspensions, silences),
 * and how a blocked domain names the hosts it covers.
 *
 * A domain is a host as URLs write it (`example.com`, `[::1]`), lower case,
 * with a port only when the block is for that port alone. It covers itself
 * and every subdomain: blocking `example.com` blocks `a.example.com` and
 * `b.a.example.com` on any port; blocking `example.com:8443` blocks
 * `example.com:8443` and `a.example.com:8443`, nothing else. The SQL function
 * `clique_domain_covers` (migration `012_remote_moderation`) is the same rule
 * for queries; a test holds the two to one table.
 */

/**
 * What a domain block does:
 * - `block`: nothing is delivered to it or accepted from it, its follows are
 *   removed and its content purged, and its signed fetches find nothing;
 * - `limit`: its accounts' posts reach only the members who follow them (and
 *   those they are addressed to), and its follows need approval;
 * - `noop`: nothing (Mastodon's severity for blocks that only reject media or
 *   reports, which Clique does not do separately): kept as a note.
 */
export type DomainSeverity = "block" | "limit" | "noop";

/** The severities, for validation. */
export const DOMAIN_SEVERITIES: readonly DomainSeverity[] = ["block", "limit", "noop"];

/** A decision about a whole server (and its subdomains). */
export interface DomainBlock {
  id: string;
  /** Normalized (see `normalizeDomain`). */
  domain: string;
  severity: DomainSeverity;
  /** Why, for the Clique's staff (Mastodon's `private_comment`). */
  reason: string;
  /** What may be said publicly (Mastodon's `public_comment`). */
  publicComment: string;
  /** The member who decided; `null` for the server's operator (the CLI). */
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What moderation may do to one remote account. */
export type ActorSanctionKind = "suspend" | "silence";

/** A decision about one remote account. An account may be both silenced and suspended. */
export interface ActorSanction {
  actorId: string;
  kind: ActorSanctionKind;
  reason: string;
  createdBy: string | null;
  createdAt: Date;
}

/**
 * Where a remote actor (or host) stands, all decisions taken together:
 * `blocked` (its server is blocked, or it is suspended), `limited` (its server
 * is limited, or it is silenced), or `ok`.
 */
export type RemoteStandingKind = "ok" | "limited" | "blocked";

const PORT = /:[0-9]+$/;

/**
 * A domain as blocks store it, from what a moderator typed: a host, a host
 * with a port, or a URL (its host is taken). `null` when it is not one.
 */
export function normalizeDomain(input: string): string | null {
  let text = input.trim().toLowerCase();
  if (text === "" || text.length > 300) return null;
  if (/^https?:\/\//.test(text)) {
    if (!URL.canParse(text)) return null;
    text = new URL(text).host;
  }
  // `*.example.com` says what a block of `example.com` does anyway; a trailing dot names the same host.
  text = text.replace(/^\*\./, "").replace(/\.(?=:[0-9]+$|$)/, "");
  // Only a host (and port): no credentials, path, query or spaces.
  if (!/^[^\s/?#@\\]+$/u.test(text) || !URL.canParse(`https://${text}/`)) return null;
  const host = new URL(`https://${text}/`).host;
  // The URL parser drops a default port; keep the one asked for.
  const port = PORT.exec(text)?.[0];
  const normalized = port && !PORT.test(host) ? `${host}${port}` : host;
  const name = normalized.replace(PORT, "");
  if (!/^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/.test(name)) return null;
  return normalized;
}

/** Whether a block of `domain` (normalized) covers `host` (an actor's or a URL's host). */
export function domainCovers(domain: string, host: string): boolean {
  const h = host.toLowerCase();
  if (PORT.test(domain)) return h === domain || h.endsWith(`.${domain}`);
  const name = h.replace(PORT, "");
  return name === domain || name.endsWith(`.${domain}`);
}

/** The host of a URL, or `null` when it is not one. */
export function hostOfUrl(url: string | null | undefined): string | null {
  if (!url || !URL.canParse(url)) return null;
  return new URL(url).host.toLowerCase();
}
