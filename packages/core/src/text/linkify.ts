/**
 * Finding bare URLs, mentions and hashtags in plain text, and turning them
 * into Mastodon-style HTML.
 *
 * Rules (after Mastodon's `Account::MENTION_RE` and `Tag::HASHTAG_RE`):
 * - a mention is `@user` or `@user@host` (the host may end in `:port`); the
 *   username is `[a-zA-Z0-9_]+`; the `@` must not follow a word character,
 *   `/` or `=` (so e-mail addresses and URLs do not count), and the mention
 *   must not run on into more word characters or another `@`;
 * - a hashtag is `#` and letters (any script, with combining marks), digits
 *   and `_`; it must contain at least one letter, and the `#` must not follow
 *   a word character, `/`, `=`, `)` or `&`;
 * - URLs (`http`/`https`) are matched first, so a `#fragment` or `/@user`
 *   inside one is part of the URL. Trailing punctuation and unbalanced closing
 *   brackets are left out of the URL.
 */

/** A mention as written in the source. */
export interface ExtractedMention {
  /** The username, as written. */
  username: string;
  /** The host, lower-cased, or `null` for `@user` without a host. */
  host: string | null;
  /** The text as written, e.g. `@Alice@Example.com`. */
  raw: string;
}

/** What a mention resolves to: the actor's profile URL and its `user@host` address. */
export interface ResolvedMention {
  url: string;
  acct: string;
}

/** A piece of scanned text. `text` is always the source text of the piece. */
export type TextSegment =
  | { kind: "text"; text: string }
  | { kind: "url"; text: string }
  | { kind: "mention"; text: string; mention: ExtractedMention }
  | { kind: "hashtag"; text: string; name: string; tag: string };

const W = "\\p{L}\\p{M}\\p{N}_";
const LABEL = "[\\p{L}\\p{N}](?:[\\p{L}\\p{M}\\p{N}-]*[\\p{L}\\p{M}\\p{N}])?";
const TOKEN_SOURCE = [
  `(?<url>https?:\\/\\/[^\\s<>"\\p{Cc}]+)`,
  // A host may carry a port, as handles of servers on non-default ports do (`user@host:8443`).
  `(?<![${W}\\/=])@(?<user>[a-zA-Z0-9_]+)(?:@(?<host>${LABEL}(?:\\.${LABEL})*(?::\\d{1,5})?))?(?![${W}@])`,
  `(?<![${W}\\/=)&])#(?<tag>[${W}]+(?:[\\u00b7\\u30fb\\u200c]+[${W}]+)*)`,
].join("|");

/** Leaves trailing punctuation and unbalanced closing brackets out of a URL. */
function trimUrl(url: string): string {
  const count = (ch: string) => url.split(ch).length - 1;
  const balance: Record<string, number> = {
    ")": count(")") - count("("),
    "]": count("]") - count("["),
  };
  let end = url.length;
  for (;;) {
    const ch = url[end - 1];
    if (ch !== undefined && ".,:;!?'*".includes(ch)) {
      end--;
    } else if ((ch === ")" || ch === "]") && (balance[ch] ?? 0) > 0) {
      balance[ch] = (balance[ch] ?? 0) - 1;
      end--;
    } else {
      return url.slice(0, end);
    }
  }
}

function isLinkableUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  return new URL(url).hostname !== "";
}

/** The canonical form of a hashtag name: NFKC-normalised and lower-cased. */
export function normalizeHashtag(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/**
 * Splits plain (unescaped) text into text, URL, mention and hashtag segments.
 * Concatenating the segments' `text` gives back the input.
 */
export function scanText(text: string): TextSegment[] {
  const re = new RegExp(TOKEN_SOURCE, "gu");
  const out: TextSegment[] = [];
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const g = m.groups ?? {};
    let segment: TextSegment;
    if (g.url !== undefined) {
      const url = trimUrl(g.url);
      if (!isLinkableUrl(url)) {
        re.lastIndex = m.index + 1;
        continue;
      }
      re.lastIndex = m.index + url.length;
      segment = { kind: "url", text: url };
    } else if (g.user !== undefined) {
      const host = g.host === undefined ? null : g.host.toLowerCase();
      segment = { kind: "mention", text: m[0], mention: { username: g.user, host, raw: m[0] } };
    } else {
      const name = g.tag ?? "";
      if (!/\p{L}/u.test(name)) continue;
      segment = { kind: "hashtag", text: m[0], name, tag: normalizeHashtag(name) };
    }
    if (m.index > last) out.push({ kind: "text", text: text.slice(last, m.index) });
    out.push(segment);
    last = m.index + segment.text.length;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}

/** Escapes text for use in HTML content or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The key under which mentions of the same account are de-duplicated. */
export function mentionKey(m: { username: string; host: string | null }): string {
  return `${m.username.toLowerCase()}@${m.host ?? ""}`;
}

/** Collects the unique mentions and hashtags found in a series of segments. */
export class MentionCollector {
  readonly mentions: ExtractedMention[] = [];
  readonly hashtags: string[] = [];
  readonly #seenMentions = new Set<string>();
  readonly #seenTags = new Set<string>();

  /** Records the mentions and hashtags among `segments`. */
  add(segments: readonly TextSegment[]): void {
    for (const s of segments) {
      if (s.kind === "mention" && !this.#seenMentions.has(mentionKey(s.mention))) {
        this.#seenMentions.add(mentionKey(s.mention));
        this.mentions.push(s.mention);
      } else if (s.kind === "hashtag" && !this.#seenTags.has(s.tag)) {
        this.#seenTags.add(s.tag);
        this.hashtags.push(s.tag);
      }
    }
  }
}

/** How `segmentsToHtml` turns mentions and hashtags into links. */
export interface LinkTargets {
  /** The account a mention refers to, or `null` to leave it as text. */
  resolveMention: (m: ExtractedMention) => ResolvedMention | null;
  /** The URL of a hashtag's page, given its normalised name. */
  tagUrl: (tag: string) => string;
}

/** Renders scanned segments as HTML, with Mastodon's markup for links, mentions and hashtags. */
export function segmentsToHtml(segments: readonly TextSegment[], targets: LinkTargets): string {
  let html = "";
  for (const s of segments) {
    if (s.kind === "url") {
      const url = escapeHtml(s.text);
      html += `<a href="${url}" rel="nofollow noopener noreferrer" target="_blank">${url}</a>`;
    } else if (s.kind === "mention") {
      const resolved = targets.resolveMention(s.mention);
      html +=
        resolved === null
          ? escapeHtml(s.text)
          : `<span class="h-card" translate="no"><a href="${escapeHtml(resolved.url)}" ` +
            `class="u-url mention">@<span>${escapeHtml(s.mention.username)}</span></a></span>`;
    } else if (s.kind === "hashtag") {
      html +=
        `<a href="${escapeHtml(targets.tagUrl(s.tag))}" class="mention hashtag" rel="tag">` +
        `#<span>${escapeHtml(s.name)}</span></a>`;
    } else {
      html += escapeHtml(s.text);
    }
  }
  return html;
}
