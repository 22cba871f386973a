/**
 * Markdown to (unsanitised) HTML for posts, with `marked` in GFM mode.
 *
 * Differences from stock GFM, for a social network:
 * - raw HTML is not recognised at all: `<script>` is just text, escaped;
 * - single newlines are line breaks (`breaks: true`);
 * - bare e-mail addresses are not linked (so `@user@host` stays a mention);
 * - tables are not recognised (Mastodon cannot show them), the pipes stay text;
 * - images become links to the image, task-list checkboxes become ☐ / ☑.
 *
 * The output still goes through `sanitizePostHtml`, which is what makes it
 * safe (e.g. `[x](javascript:...)` links are only removed there).
 */
import { Marked } from "marked";
import { escapeHtml } from "./linkify.ts";

const markdown = new Marked({
  async: false,
  gfm: true,
  breaks: true,
  tokenizer: {
    html: () => undefined,
    tag: () => undefined,
    table: () => undefined,
    // `false` falls back to marked's own tokenizer: only http(s) and www. URLs are linked.
    url: (src) => (/^(?:https?:\/\/|www\.)/i.test(src) ? false : undefined),
  },
  renderer: {
    image({ href, text }) {
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
    checkbox({ checked }) {
      return checked ? "☑ " : "☐ ";
    },
  },
});

/** Renders Markdown source to HTML. The result is NOT safe until sanitised. */
export function markdownToHtml(source: string): string {
  return markdown.parse(source, { async: false });
}
