/**
 * The sign-in and consent pages of `/oauth/authorize`: plain server-rendered
 * HTML, readable on a phone and with a screen reader (one `h1` per page,
 * labelled fields, the main action first in the focus order), in the web
 * interface's colours and shapes (packages/web/app/globals.css), so an app's
 * sign-in looks like the rest of the Clique.
 */

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** What each scope lets an app do, in words a member reads before agreeing. */
const SCOPE_WORDS: Record<string, string> = {
  profile: "See your profile (name, picture, username)",
  read: "Read everything you can see: posts, your profile, followers, notifications, bookmarks and likes",
  "read:accounts": "See profiles",
  "read:blocks": "See whom you block",
  "read:bookmarks": "See your bookmarks",
  "read:favourites": "See the posts you liked",
  "read:filters": "See your filters",
  "read:follows": "See whom you follow and who follows you",
  "read:lists": "See your lists and circles",
  "read:mutes": "See whom you mute",
  "read:notifications": "See your notifications",
  "read:search": "Search on your behalf",
  "read:statuses": "Read the posts you can see",
  write:
    "Act as you: post, edit and delete posts, like, boost, follow, change your profile, upload photos",
  "write:accounts": "Change your profile and settings",
  "write:blocks": "Block and unblock people and servers",
  "write:bookmarks": "Bookmark posts",
  "write:conversations": "Manage your direct conversations",
  "write:favourites": "Like posts",
  "write:filters": "Change your filters",
  "write:follows": "Follow and unfollow people, and answer follow requests",
  "write:lists": "Change your lists and circles",
  "write:media": "Upload photos and videos",
  "write:mutes": "Mute and unmute people and conversations",
  "write:notifications": "Dismiss your notifications",
  "write:reports": "Report posts and people to the moderators",
  "write:statuses": "Post, edit, delete and boost posts as you",
  follow: "See and change whom you follow, block and mute",
  push: "Send you push notifications",
  "admin:read": "Read moderation data (only if your role allows it)",
  "admin:write": "Take moderation actions (only if your role allows it)",
  "clique:chats":
    "Be one of your devices in your end-to-end encrypted chats: read and send your chat messages",
};

/** A scope in plain words. */
export function describeScope(scope: string): string {
  if (SCOPE_WORDS[scope]) return SCOPE_WORDS[scope];
  if (scope.startsWith("admin:read:"))
    return `Read moderation data about ${scope.slice(11).replaceAll("_", " ")} (if your role allows it)`;
  if (scope.startsWith("admin:write:"))
    return `Moderate ${scope.slice(12).replaceAll("_", " ")} (if your role allows it)`;
  return scope;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1b18;background:#f6f4f0}
main{max-width:30rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p{margin:0 0 1rem}
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.65rem .75rem;border:1px solid #767680;border-radius:.5rem;background:#fff;color:inherit}
input:focus,button:focus,a:focus{outline:3px solid #1a5fb4;outline-offset:2px}
button{font:inherit;font-weight:600;min-height:2.75rem;padding:.6rem 1.25rem;border-radius:999px;border:1px solid #7a3b12;cursor:pointer}
.primary{background:#7a3b12;color:#fff}
.secondary{background:#fff;color:#7a3b12}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}
.actions button{flex:1 1 8rem}
ul{padding-left:1.25rem;margin:0 0 1rem}
li{margin:.25rem 0}
.error{border-left:4px solid #b3261e;background:#fdecea;padding:.75rem;border-radius:.25rem;margin:0 0 1rem}
.muted{color:#55555f;font-size:.95rem}
code.code{display:block;font-size:1.1rem;word-break:break-all;padding:.75rem;background:#eef;border-radius:.5rem;user-select:all}
a{color:#7a3b12}
@media (prefers-color-scheme:dark){body{background:#121216;color:#e6e6ea}.card{background:#1e1e24;box-shadow:none}input[type=text],input[type=password]{background:#121216;border-color:#8e8e99}.secondary{background:transparent;color:#aab4ff;border-color:#aab4ff}a{color:#aab4ff}.muted{color:#b0b0ba}code.code{background:#2a2a35}.error{background:#3b1d1b}}
`;

/**
 * A whole page around `body`. Its referrer policy is `same-origin`: the
 * request's address never reaches another site, while the forms still send
 * this site's `Origin` (under `no-referrer` a browser sends `Origin: null`,
 * which the cross-site check in authorize.ts refuses).
 */
export function page(input: { title: string; body: string; lang?: string }): string {
  return `<!doctype html>
<html lang="${esc(input.lang ?? "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex">
<title>${esc(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${input.body}
</main>
</body>
</html>
`;
}

/** Hidden fields that carry the authorization request through a form. */
export function hiddenFields(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join("\n");
}

/** The sign-in form, shown before consent when nobody (or, with force_login, maybe someone else) is signed in. */
export function signInPage(input: {
  cliqueName: string;
  appName: string;
  fields: Record<string, string | undefined>;
  csrf: string;
  username?: string;
  error?: string;
}): string {
  const error = input.error
    ? `<p class="error" role="alert" id="sign-in-error">${esc(input.error)}</p>`
    : "";
  const described = input.error ? ' aria-describedby="sign-in-error"' : "";
  return page({
    title: `Sign in to ${input.cliqueName}`,
    body: `<div class="card">
<h1>Sign in to ${esc(input.cliqueName)}</h1>
<p><strong>${esc(input.appName)}</strong> wants to use your account. Sign in first; you will then see what it asks for.</p>
${error}
<form method="post" action="/oauth/authorize">
${hiddenFields(input.fields)}
<input type="hidden" name="csrf_token" value="${esc(input.csrf)}">
<input type="hidden" name="step" value="sign_in">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${esc(input.username ?? "")}"${described} autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${described}>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
</div>`,
  });
}

/** The consent screen: the app, its website, what it asks for in words, and the two choices. */
export function consentPage(input: {
  cliqueName: string;
  username: string;
  app: { name: string; website: string | null };
  scopes: readonly string[];
  fields: Record<string, string | undefined>;
  csrf: string;
  switchUrl: string;
}): string {
  const website = input.app.website
    ? `<p class="muted">Its website: <a href="${esc(input.app.website)}" rel="noopener noreferrer">${esc(input.app.website)}</a></p>`
    : `<p class="muted">It gave no website.</p>`;
  const scopes = input.scopes.map((s) => `<li>${esc(describeScope(s))}</li>`).join("\n");
  return page({
    title: `Allow ${input.app.name} to use your account?`,
    body: `<div class="card">
<h1>Allow ${esc(input.app.name)} to use your account?</h1>
<p>You are signed in to ${esc(input.cliqueName)} as <strong>@${esc(input.username)}</strong>. <a href="${esc(input.switchUrl)}">Not you? Sign in as someone else</a>.</p>
${website}
<h2 id="scopes-heading">It asks to</h2>
<ul aria-labelledby="scopes-heading">
${scopes}
</ul>
<p class="muted">You can take this back at any time from your list of apps.</p>
<form method="post" action="/oauth/authorize">
${hiddenFields(input.fields)}
<input type="hidden" name="csrf_token" value="${esc(input.csrf)}">
<input type="hidden" name="step" value="consent">
<div class="actions">
<button type="submit" name="decision" value="authorize" class="primary">Authorise</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>
</div>`,
  });
}

/** The code shown for `urn:ietf:wg:oauth:2.0:oob`, to copy into the app. */
export function codePage(input: { appName: string; code: string }): string {
  return page({
    title: "Your authorisation code",
    body: `<div class="card">
<h1>Your authorisation code</h1>
<p>Copy this code and paste it into <strong>${esc(input.appName)}</strong>:</p>
<code class="code" id="authorization-code">${esc(input.code)}</code>
<p class="muted">It works once, within 10 minutes.</p>
</div>`,
  });
}

/** A page saying what went wrong, when there is nowhere safe to send the member back to. */
export function errorPage(input: { title: string; message: string }): string {
  return page({
    title: input.title,
    body: `<div class="card">
<h1>${esc(input.title)}</h1>
<p role="alert">${esc(input.message)}</p>
</div>`,
  });
}
