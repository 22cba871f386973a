/**
 * Post text rendering: plain text or Markdown source to the sanitised HTML
 * that is stored, federated and served to clients, with Mastodon's markup for
 * mentions, hashtags and links.
 *
 * - `extractMentionsAndTags` finds what a post mentions and tags;
 * - `renderPost` renders it;
 * - `sanitizePostHtml` cleans any post HTML (ours or a remote server's);
 * - `htmlToPlainText` turns post HTML into text for notifications.
 *
 * Mention and hashtag rules are described in `linkify.ts`.
 */
import {
  type ExtractedMention,
  MentionCollector,
  mentionKey,
  type ResolvedMention,
  scanText,
  segmentsToHtml,
  type TextSegment,
} from "./linkify.ts";
import { markdownToHtml } from "./markdown.ts";
import { mapTextOutside, sanitizePostHtml } from "./sanitize.ts";

export type { ExtractedMention, ResolvedMention } from "./linkify.ts";
export { normalizeHashtag } from "./linkify.ts";
export { htmlToPlainText, sanitizePostHtml } from "./sanitize.ts";

/** The source formats a post can be written in. */
export type PostContentType = "text/plain" | "text/markdown";

/** What `extractMentionsAndTags` finds. */
export interface MentionsAndTags {
  /** Unique mentions (by case-insensitive username and host), in order of appearance. */
  mentions: ExtractedMention[];
  /** Unique hashtags, NFKC-normalised and lower-cased, without `#`, in order of appearance. */
  hashtags: string[];
}

/** Options for `extractMentionsAndTags`. */
export interface ExtractOptions {
  /** How to read the source; defaults to `text/plain`. */
  contentType?: PostContentType;
}

/** Text inside these elements is never linkified (nor counted as mentions or hashtags). */
const NO_LINKIFY = ["a", "code", "pre"];

/** Calls `fn` with the segments of every piece of linkifiable text in the source. */
function forEachTextRun(
  source: string,
  contentType: PostContentType,
  fn: (segments: TextSegment[]) => string,
): string {
  if (contentType === "text/markdown") {
    const html = sanitizePostHtml(markdownToHtml(source));
    // Whitespace-only text with a newline only separates marked's block elements: drop it.
    return mapTextOutside(html, NO_LINKIFY, (text) =>
      /^[ \t]*\n\s*$/.test(text) ? "" : fn(scanText(text)),
    );
  }
  const text = source.replace(/\r\n?/g, "\n").replace(/^\s*\n|\n\s*$/g, "");
  return text
    .split(/\n[ \t]*\n\s*/)
    .filter((p) => p.trim() !== "")
    .map((p) => `<p>${fn(scanText(p)).replace(/\n/g, "<br>")}</p>`)
    .join("");
}

/**
 * Finds the mentions and hashtags in a post's source. In Markdown, text in
 * code spans, code blocks and link text is ignored.
 */
export function extractMentionsAndTags(
  source: string,
  options: ExtractOptions = {},
): MentionsAndTags {
  const collector = new MentionCollector();
  forEachTextRun(source, options.contentType ?? "text/plain", (segments) => {
    collector.add(segments);
    return "";
  });
  return { mentions: collector.mentions, hashtags: collector.hashtags };
}

/** What `renderPost` needs. */
export interface RenderPostInput {
  source: string;
  contentType: PostContentType;
  /** Looks up a mentioned account; `null` leaves the mention as plain text. Called once per account. */
  resolveMention: (m: { username: string; host: string | null }) => ResolvedMention | null;
  /** The URL of a hashtag's page, given its normalised (lower-cased) name. */
  tagUrl: (tag: string) => string;
}

/** A mention found in a rendered post, with what it resolved to. */
export interface RenderedMention extends ExtractedMention {
  /** The account it links to, or `null` if it did not resolve (and stayed text). */
  resolved: ResolvedMention | null;
}

/** The rendered post. */
export interface RenderedPost {
  /** Sanitised HTML. */
  html: string;
  /** Unique mentions in order of appearance, resolved or not. */
  mentions: RenderedMention[];
  /** Unique hashtags (normalised, without `#`) in order of appearance. */
  hashtags: string[];
}

/**
 * Renders a post's source to sanitised HTML.
 *
 * Plain text is escaped, split into `<p>` paragraphs on blank lines with
 * `<br>` for single newlines. Markdown is rendered as GFM without raw HTML
 * (see `markdown.ts`). Then, outside links and code, http(s) URLs become
 * links, resolved mentions become Mastodon's `h-card` mention links and
 * hashtags become `mention hashtag` links; the result goes through
 * `sanitizePostHtml`.
 */
export function renderPost(input: RenderPostInput): RenderedPost {
  const collector = new MentionCollector();
  const resolved = new Map<string, ResolvedMention | null>();
  const resolveMention = (m: ExtractedMention): ResolvedMention | null => {
    const key = mentionKey(m);
    if (!resolved.has(key)) {
      resolved.set(key, input.resolveMention({ username: m.username, host: m.host }));
    }
    return resolved.get(key) ?? null;
  };
  const html = forEachTextRun(input.source, input.contentType, (segments) => {
    collector.add(segments);
    return segmentsToHtml(segments, { resolveMention, tagUrl: input.tagUrl });
  });
  return {
    html: sanitizePostHtml(html),
    mentions: collector.mentions.map((m) => ({ ...m, resolved: resolveMention(m) })),
    hashtags: collector.hashtags,
  };
}
