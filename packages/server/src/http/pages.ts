/**
 * Links that resolve, until the web interface exists: a member's profile
 * page (`/@username`), a post's page (`/@username/:id`), a hashtag's page
 * (`/tags/:hashtag`) and remote follow (`/authorize_interaction?uri=…`), as
 * minimal, accessible HTML.
 *
 * Everything shown comes through the same use cases and serializers as the
 * client API (`renderAccount`, `renderStatuses` after `listAccountPosts` or
 * `getVisiblePost`), so the visibility module decides exactly as it does
 * there: a post the viewer may not see is a 404 page. The viewer is the
 * session cookie's member (or a bearer token's), else anonymous.
 *
 * An ActivityPub client asking for either page (`Accept:
 * application/activity+json` or `ld+json`) is redirected to the actor or
 * object id, where the federation answers (and judges its signature).
 */
import { sanitizePostHtml, urlsFor } from "@clique/core";
import { type Context, Hono } from "hono";
import { findAccount } from "../api/mastodon/follows.ts";
import { renderAccount, renderStatuses } from "../api/mastodon/render.ts";
import { authentication } from "./auth.ts";
import type { AppEnv } from "./env.ts";
import { webUiBuilt } from "./web-ui.ts";

/** The pages, mounted at `/`. */
export const pages = new Hono<AppEnv>();

// Per route, not `use("*")`: mounted at `/`, that would run for every path of the app.
const viewerOf = authentication();

type Status = Awaited<ReturnType<typeof renderStatuses>>[number];
type Account = NonNullable<Awaited<ReturnType<typeof renderAccount>>>;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Whether the client asks for ActivityStreams rather than a page. */
function wantsActivityJson(c: Context<AppEnv>): boolean {
  const accept = (c.req.header("accept") ?? "").toLowerCase();
  return (
    accept.includes("application/activity+json") ||
    (accept.includes("application/ld+json") && accept.includes("activitystreams"))
  );
}

function page(
  c: Context<AppEnv>,
  options: { title: string; body: string; status?: 200 | 401 | 404; alternate?: string },
) {
  const { title, body, alternate } = options;
  c.header("Vary", "Accept, Cookie, Authorization");
  c.header("Cache-Control", "private, no-store");
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
${alternate ? `<link rel="alternate" type="application/activity+json" href="${escapeHtml(alternate)}">\n` : ""}<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 1rem auto; padding: 0 1rem; line-height: 1.5; }
article { border-top: 1px solid #ccc; padding: 0.75rem 0; }
img { max-width: 100%; height: auto; }
.meta { color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
  return c.html(html, options.status ?? 200);
}

function notFoundPage(c: Context<AppEnv>) {
  return page(c, {
    title: "Not found",
    status: 404,
    body: "<h1>Not found</h1>\n<p>This page does not exist, or you may not see it.</p>",
  });
}

function renderAccountHeader(account: Account, level: "h1" | "h2"): string {
  const name = account.display_name || account.username;
  const fields = account.fields
    .map((f) => `<dt>${escapeHtml(f.name)}</dt><dd>${f.value}</dd>`)
    .join("");
  return [
    `<header>`,
    `<img src="${escapeHtml(account.avatar)}" alt="" width="64" height="64">`,
    `<${level}>${escapeHtml(name)}</${level}>`,
    `<p class="meta">@${escapeHtml(account.acct)}</p>`,
    account.note ? `<div class="bio">${sanitizePostHtml(account.note)}</div>` : "",
    fields ? `<dl>${fields}</dl>` : "",
    `</header>`,
  ].join("\n");
}

function renderStatus(status: Status, headingLevel: "h1" | "h2" | "h3"): string {
  const author = status.account;
  const content = sanitizePostHtml(status.content);
  const media = status.media_attachments
    .map((m) =>
      m.type === "image" && m.preview_url
        ? `<a href="${escapeHtml(m.url ?? m.preview_url)}"><img src="${escapeHtml(m.preview_url)}" alt="${escapeHtml(m.description ?? "")}"></a>`
        : m.url
          ? `<a href="${escapeHtml(m.url)}">${escapeHtml(m.description ?? `A ${m.type}`)}</a>`
          : "",
    )
    .join("\n");
  const body = status.spoiler_text
    ? `<details><summary>${escapeHtml(status.spoiler_text)}</summary>${content}${media}</details>`
    : `${content}${media}`;
  return [
    `<article>`,
    `<${headingLevel} class="meta">${escapeHtml(author.display_name || author.username)} <span>@${escapeHtml(author.acct)}</span></${headingLevel}>`,
    body,
    `<p class="meta"><a href="${escapeHtml(status.url)}"><time datetime="${escapeHtml(status.created_at)}">${escapeHtml(status.created_at)}</time></a> · ${escapeHtml(status.visibility)}</p>`,
    `</article>`,
  ].join("\n");
}

/** The active member with this username, or `null`. */
async function activeMember(c: Context<AppEnv>, username: string) {
  const { clique } = c.get("services");
  if (!/^[A-Za-z0-9_]{1,30}$/.test(username)) return null;
  const member = await clique.getMemberByUsername(username);
  return member && member.status === "active" ? member : null;
}

pages.get("/:username{@[A-Za-z0-9_]+}", viewerOf, async (c, next) => {
  // Browsers get the web interface's profile page when it is built (issue 12).
  if (!wantsActivityJson(c) && webUiBuilt()) return next();
  const { clique, config } = c.get("services");
  const username = c.req.param("username").slice(1);
  const member = await activeMember(c, username);
  const urls = urlsFor(config.origin);
  if (member && wantsActivityJson(c)) return c.redirect(urls.actor(member.username), 302);
  if (!member) return notFoundPage(c);
  const account = await renderAccount(c, member.id);
  if (!account) return notFoundPage(c);
  const posts = await clique.listAccountPosts(c.get("viewer"), member.id, { limit: 20 });
  const statuses = await renderStatuses(c, posts);
  const body = [
    renderAccountHeader(account, "h1"),
    `<section aria-label="Posts">`,
    statuses.length > 0
      ? statuses.map((s) => renderStatus(s, "h2")).join("\n")
      : "<p>No posts to show.</p>",
    `</section>`,
  ].join("\n");
  return page(c, {
    title: `${account.display_name || account.username} (@${account.acct})`,
    body,
    alternate: urls.actor(member.username),
  });
});

pages.get("/:username{@[A-Za-z0-9_]+}/:id", viewerOf, async (c, next) => {
  if (!wantsActivityJson(c) && webUiBuilt()) return next();
  const { clique, config } = c.get("services");
  const username = c.req.param("username").slice(1);
  const member = await activeMember(c, username);
  const post = member ? await clique.getVisiblePost(c.get("viewer"), c.req.param("id")) : null;
  // The post must be this member's and visible to this viewer; anything else is not found.
  if (!member || !post || post.authorId !== member.id) {
    if (member && wantsActivityJson(c)) {
      // The federation judges signed fetches itself: hand the id over unchanged.
      const id = c.req.param("id");
      if (/^[0-9a-f-]{36}$/i.test(id))
        return c.redirect(urlsFor(config.origin).post(member.username, id), 302);
    }
    return notFoundPage(c);
  }
  const urls = urlsFor(config.origin);
  if (wantsActivityJson(c)) return c.redirect(urls.post(member.username, post.id), 302);
  const [status] = await renderStatuses(c, [post]);
  if (!status) return notFoundPage(c);
  const author = status.account;
  return page(c, {
    title: `${author.display_name || author.username}: ${status.spoiler_text || "a post"}`,
    body: renderStatus(status, "h1"),
    alternate: urls.post(member.username, post.id),
  });
});

/**
 * A hashtag's page (`/tags/:hashtag`, where statuses' `tags[].url` point):
 * the posts with that tag the viewer may see, through the tag timeline's
 * use case (anonymous visitors only when the Clique opened its timelines).
 */
pages.get("/tags/:hashtag", viewerOf, async (c) => {
  const { clique } = c.get("services");
  const tag = c.req.param("hashtag");
  if (tag.length > 100) return notFoundPage(c);
  const result = await clique.listTagTimeline(c.get("viewer"), { tag }, { limit: 20 });
  if (!result.ok)
    return page(c, {
      title: `#${tag}`,
      status: 401,
      body: `<h1>#${escapeHtml(tag)}</h1>\n<p>Sign in to this Clique to see posts with this tag.</p>`,
    });
  const statuses = await renderStatuses(c, result.value);
  const body = [
    `<h1>#${escapeHtml(tag)}</h1>`,
    statuses.length > 0
      ? statuses.map((s) => renderStatus(s, "h2")).join("\n")
      : "<p>No posts to show.</p>",
  ].join("\n");
  return page(c, { title: `#${tag}`, body });
});

/** A local account or post named by a URL of this origin, or `null`. */
function localTarget(
  origin: string,
  uri: string,
): { username: string; postId: string | null } | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.origin !== new URL(origin).origin) return null;
  const m =
    /^\/users\/([A-Za-z0-9_]{1,30})(?:\/statuses\/([0-9a-f-]{36}))?\/?$/i.exec(url.pathname) ??
    /^\/@([A-Za-z0-9_]{1,30})(?:\/([0-9a-f-]{36}))?\/?$/i.exec(url.pathname);
  return m ? { username: m[1]!, postId: m[2] ?? null } : null;
}

/**
 * Remote follow (`/authorize_interaction?uri=…`): another server sends its
 * user here to follow an account (or see a post). Signed in by cookie, the
 * member sees what the address resolves to and a follow button (a form to
 * the follow route, which checks the request's Origin against CSRF);
 * otherwise, how to sign in.
 */
pages.get("/authorize_interaction", viewerOf, async (c) => {
  const { clique, config } = c.get("services");
  const uri = (c.req.query("uri") ?? "").trim().replace(/^acct:/i, "");
  const member = c.get("member");
  if (!member)
    return page(c, {
      title: "Sign in to continue",
      body: [
        "<h1>Sign in to continue</h1>",
        `<p>To follow or answer <code>${escapeHtml(uri || "this account")}</code>, sign in to this Clique first (in your app, or at the sign-in page), then open this link again.</p>`,
      ].join("\n"),
    });
  if (uri === "" || uri.length > 2000) return notFoundPage(c);
  const local = localTarget(config.origin, uri);
  if (local?.postId) {
    const post = await clique.getVisiblePost(c.get("viewer"), local.postId);
    const [status] = post ? await renderStatuses(c, [post]) : [];
    if (!status) return notFoundPage(c);
    return page(c, { title: "A post", body: renderStatus(status, "h1") });
  }
  const actor = local
    ? await findAccount(c, local.username, false)
    : await findAccount(c, uri, true);
  const account = actor ? await renderAccount(c, actor.id) : null;
  if (!actor || !account) return notFoundPage(c);
  const self = actor.id === member.id;
  const body = [
    renderAccountHeader(account, "h1"),
    self
      ? "<p>This is you.</p>"
      : `<form method="post" action="/api/v1/accounts/${escapeHtml(actor.id)}/follow"><button type="submit">Follow @${escapeHtml(account.acct)}</button></form>`,
  ].join("\n");
  return page(c, { title: `Follow @${account.acct}`, body });
});
