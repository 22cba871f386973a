/**
 * HTML sanitising for post content, local and remote, and conversion of post
 * HTML to plain text.
 *
 * The allowed set follows Mastodon's `MASTODON_STRICT` sanitizer config (plus
 * the headings and list attributes Mastodon 4.3 accepts). Anything else is
 * dropped: disallowed elements lose their tags but keep their text, except
 * for elements whose content is not text (`script`, `style`, `iframe`, `svg`,
 * ...), which are dropped whole.
 */
import sanitizeHtml from "sanitize-html";

/** Elements kept by `sanitizePostHtml`. */
export const ALLOWED_TAGS: readonly string[] =
  "p br span a del s pre code em strong b i u ul ol li blockquote h1 h2 h3 h4 h5 h6".split(" ");

/** Classes kept on `a` and `span` (microformats, mentions, hashtags, link formatting). */
export const ALLOWED_CLASSES: readonly string[] =
  "h-card u-url mention hashtag invisible ellipsis quote-inline".split(" ");

/** Disallowed elements whose content is dropped together with the element. */
const NON_TEXT_TAGS = (
  "script style textarea option select xmp noscript noembed noframes iframe frame object embed " +
  "applet template title svg math head"
).split(" ");

const REQUIRED_REL = ["nofollow", "noopener", "noreferrer"];
const SAFE_HREF = /^(?:https?:\/\/|mailto:)/i;

/** Drops a `translate` attribute whose value is not `yes` or `no`. */
function checkTranslate(attribs: sanitizeHtml.Attributes): sanitizeHtml.Attributes {
  const { translate, ...rest } = attribs;
  return translate === "no" || translate === "yes" ? { ...rest, translate } : rest;
}

/** Keeps `<a>` only with an http(s)/mailto `href`; adds the `rel` and `target` every link gets. */
function transformAnchor(_tag: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const href = (attribs.href ?? "").trim();
  if (!SAFE_HREF.test(href)) return { tagName: "span", attribs: {} };
  const rel = (attribs.rel ?? "")
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => /^[a-z-]+$/.test(t));
  for (const token of REQUIRED_REL) if (!rel.includes(token)) rel.push(token);
  const checked = checkTranslate(attribs);
  return { tagName: "a", attribs: { ...checked, href, rel: rel.join(" "), target: "_blank" } };
}

const POST_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: {
    a: ["href", "rel", "class", "target", "translate"],
    span: ["class", "translate"],
    ol: ["start", "reversed"],
    li: ["value"],
  },
  allowedClasses: { a: [...ALLOWED_CLASSES], span: [...ALLOWED_CLASSES] },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ["href"],
  allowProtocolRelative: false,
  allowedStyles: {},
  parseStyleAttributes: false,
  disallowedTagsMode: "discard",
  nonTextTags: NON_TEXT_TAGS,
  nestingLimit: 100,
  enforceHtmlBoundary: false,
  transformTags: {
    a: transformAnchor,
    span: (_tag, attribs) => ({ tagName: "span", attribs: checkTranslate(attribs) }),
  },
};

/**
 * Sanitises post HTML, local or remote, to Mastodon's allowed set: see
 * `ALLOWED_TAGS` and `ALLOWED_CLASSES`; attributes `a[href rel class target
 * translate]`, `span[class translate]`, `ol[start reversed]`, `li[value]`.
 * Links must be absolute `http`, `https` or `mailto` URLs (other `<a>`s become
 * `<span>`s) and all get `rel="nofollow noopener noreferrer"` and
 * `target="_blank"`. The output is well-formed, text is entity-escaped, and
 * sanitising it again changes nothing.
 */
export function sanitizePostHtml(html: string): string {
  return sanitizeHtml(html, POST_OPTIONS);
}

/** A UTF-16 code unit without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Removes NUL characters and lone surrogates: they mean nothing in text, and
 * PostgreSQL refuses them (error 22021 in `text`, 22P05 in `jsonb`), so one
 * remote post carrying them would fail its inbox job on every retry.
 */
export function stripUnsafeText(text: string): string {
  const withoutNul = text.includes("\0") ? text.replaceAll("\0", "") : text;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.replace(LONE_SURROGATE, "");
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the character references `sanitize-html` and `escapeHtml` produce (and numeric ones). */
export function decodeEntities(text: string): string {
  return text.replace(
    /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|(amp|lt|gt|quot|apos));/gi,
    (all, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
      if (name !== undefined) {
        return NAMED_ENTITIES[name.toLowerCase()] ?? all;
      }
      const code = dec !== undefined ? Number(dec) : Number.parseInt(hex ?? "", 16);
      const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : "\ufffd";
    },
  );
}

/**
 * Rewrites the text nodes of *sanitised* HTML (output of `sanitizePostHtml`)
 * that are not inside any of `skip` (tag names). `fn` receives the decoded
 * text and returns HTML. Relies on the sanitiser's output, where `<` and `>`
 * only ever appear as tag delimiters.
 */
export function mapTextOutside(
  sanitized: string,
  skip: readonly string[],
  fn: (text: string) => string,
): string {
  let depth = 0;
  return sanitized
    .split(/(<[^>]*>)/)
    .map((part, i) => {
      if (i % 2 === 1) {
        const m = /^<(\/?)([a-z0-9]+)/i.exec(part);
        if (m?.[2] !== undefined && skip.includes(m[2].toLowerCase())) {
          depth = Math.max(0, depth + (m[1] === "/" ? -1 : 1));
        }
        return part;
      }
      return depth === 0 && part !== "" ? fn(decodeEntities(part)) : part;
    })
    .join("");
}

const BLOCK_TAGS = "p div blockquote pre ul ol h1 h2 h3 h4 h5 h6 table tr".split(" ");

/**
 * Converts post HTML (any, including remote) to plain text for notifications
 * and summaries: tags are stripped, entities decoded, block elements
 * (paragraphs, headings, quotes, lists) separated by a blank line, `<br>` and
 * list items start a new line, and other whitespace collapses as in a browser
 * (except inside `<pre>`).
 */
export function htmlToPlainText(html: string): string {
  const clean = sanitizeHtml(html, {
    allowedTags: [...BLOCK_TAGS, "br", "li"],
    allowedAttributes: {},
    nonTextTags: NON_TEXT_TAGS,
    disallowedTagsMode: "discard",
  });
  let pre = 0;
  let out = "";
  for (const [i, part] of clean.split(/(<[^>]*>)/).entries()) {
    if (i % 2 === 0) {
      const text = decodeEntities(part);
      out += pre > 0 ? text : text.replace(/[ \t\n\r\f]+/g, " ");
      continue;
    }
    const m = /^<(\/?)([a-z0-9]+)/i.exec(part);
    const name = m?.[2]?.toLowerCase() ?? "";
    if (name === "pre") pre = Math.max(0, pre + (m?.[1] === "/" ? -1 : 1));
    if (name === "br") out += "\n";
    else if (name === "li" && m?.[1] !== "/") out += "\n";
    else if (BLOCK_TAGS.includes(name)) out += "\n\n";
  }
  return out
    .replace(/[ \t]*\n[ \t]*/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
