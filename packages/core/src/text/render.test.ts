import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  extractMentionsAndTags,
  htmlToPlainText,
  type PostContentType,
  renderPost,
  sanitizePostHtml,
} from "./render.ts";

const ALICE = { url: "https://example.com/@alice", acct: "alice@example.com" };

function render(source: string, contentType: PostContentType = "text/plain") {
  const calls: { username: string; host: string | null }[] = [];
  const result = renderPost({
    source,
    contentType,
    resolveMention: (m) => {
      calls.push(m);
      return m.username.toLowerCase() === "alice" ? ALICE : null;
    },
    tagUrl: (tag) => `https://clique.test/tags/${encodeURIComponent(tag)}`,
  });
  return { ...result, calls };
}

/** Asserts nothing in `html` could run script or load content. */
function assertInert(html: string): void {
  assert.doesNotMatch(html, /<(script|style|img|iframe|svg|math|object|embed)/i, html);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, html);
  assert.doesNotMatch(html, /javascript:/i, html);
  for (const href of html.matchAll(/href="([^"]*)"/g)) {
    assert.match(href[1] ?? "", /^(https?:\/\/|mailto:)/, html);
  }
}

const ALICE_HTML =
  '<span class="h-card" translate="no"><a href="https://example.com/@alice" class="u-url mention" ' +
  'rel="nofollow noopener noreferrer" target="_blank">@<span>alice</span></a></span>';

describe("extractMentionsAndTags", () => {
  it("finds local and remote mentions, not e-mail addresses or URL paths", () => {
    const { mentions } = extractMentionsAndTags(
      "hi @alice and @Bob@Social.Example.org, write to carol@example.com or see " +
        "https://example.com/@dave and example.com/@erin. (@frank) @alice again",
    );
    assert.deepEqual(mentions, [
      { username: "alice", host: null, raw: "@alice" },
      { username: "Bob", host: "social.example.org", raw: "@Bob@Social.Example.org" },
      { username: "frank", host: null, raw: "@frank" },
    ]);
  });

  it("does not take part of a longer word as a mention", () => {
    assert.deepEqual(extractMentionsAndTags("x=@a @bé a@b @c@_x").mentions, []);
  });

  it("finds hashtags, lower-cased and de-duplicated, not URL fragments or numbers", () => {
    const { hashtags } = extractMentionsAndTags(
      "#Fediverse and #fediverse, #2024 #100DaysOfCode issue#5 https://example.com/page#section " +
        "example.com/#anchor (#paren) #snake_case.",
    );
    assert.deepEqual(hashtags, ["fediverse", "100daysofcode", "paren", "snake_case"]);
  });

  it("finds Unicode hashtags", () => {
    const { hashtags } = extractMentionsAndTags("#Café #日本語 #Ünïcödé #русский #हिन्दी");
    assert.deepEqual(hashtags, ["café", "日本語", "ünïcödé", "русский", "हिन्दी"]);
  });

  it("ignores code spans and code blocks in Markdown, but not in plain text", () => {
    const source = "`@alice #code` @bob #tag\n\n```\n@carol #block\n```";
    const md = extractMentionsAndTags(source, { contentType: "text/markdown" });
    assert.deepEqual(md, {
      mentions: [{ username: "bob", host: null, raw: "@bob" }],
      hashtags: ["tag"],
    });
    const plain = extractMentionsAndTags(source);
    assert.deepEqual(
      plain.mentions.map((m) => m.username),
      ["alice", "bob", "carol"],
    );
    assert.deepEqual(plain.hashtags, ["code", "tag", "block"]);
  });
});

describe("renderPost: text/plain", () => {
  it("escapes HTML and splits paragraphs and lines", () => {
    const { html } = render("Hello <b>world</b> & co\nsecond line\n\n\n  \nnew paragraph\r\n");
    assert.equal(
      html,
      "<p>Hello &lt;b&gt;world&lt;/b&gt; &amp; co<br />second line</p><p>new paragraph</p>",
    );
  });

  it("links URLs, leaving out trailing punctuation", () => {
    const { html } = render(
      "See https://example.com/a?b=1&c=2#top. (https://en.wikipedia.org/wiki/X_(y))",
    );
    assert.equal(
      html,
      '<p>See <a href="https://example.com/a?b=1&amp;c=2#top" rel="nofollow noopener noreferrer" ' +
        'target="_blank">https://example.com/a?b=1&amp;c=2#top</a>. (<a href="https://en.wikipedia.org/wiki/X_(y)" ' +
        'rel="nofollow noopener noreferrer" target="_blank">https://en.wikipedia.org/wiki/X_(y)</a>)</p>',
    );
  });

  it("links resolved mentions with Mastodon's markup and leaves unresolved ones as text", () => {
    const { html, mentions, calls } = render("@alice meet @bob@remote.example and @alice");
    assert.equal(html, `<p>${ALICE_HTML} meet @bob@remote.example and ${ALICE_HTML}</p>`);
    assert.deepEqual(mentions, [
      { username: "alice", host: null, raw: "@alice", resolved: ALICE },
      { username: "bob", host: "remote.example", raw: "@bob@remote.example", resolved: null },
    ]);
    assert.equal(calls.length, 2, "each account is resolved once");
  });

  it("does not link e-mail addresses as mentions", () => {
    const { html, mentions } = render("mail alice@example.com");
    assert.equal(html, "<p>mail alice@example.com</p>");
    assert.deepEqual(mentions, []);
  });

  it("links hashtags with Mastodon's markup, keeping the written case", () => {
    const { html, hashtags } = render("Hi #Café and https://example.com/#notatag");
    assert.equal(
      html,
      '<p>Hi <a href="https://clique.test/tags/caf%C3%A9" class="mention hashtag" ' +
        'rel="tag nofollow noopener noreferrer" target="_blank">#<span>Café</span></a> and ' +
        '<a href="https://example.com/#notatag" rel="nofollow noopener noreferrer" target="_blank">' +
        "https://example.com/#notatag</a></p>",
    );
    assert.deepEqual(hashtags, ["café"]);
  });

  it("keeps script in text inert", () => {
    const { html } = render(
      '<script>alert(1)</script><img src=x onerror="alert(1)"> javascript:alert(1)',
    );
    assert.match(html, /&lt;script&gt;/);
    assert.doesNotMatch(html, /<script|<img/);
  });
});

describe("renderPost: text/markdown", () => {
  it("keeps emphasis, lists, links, quotes and code", () => {
    const { html } = render(
      'Some *em*, **strong**, ~~gone~~ and [a link](https://example.com "t").\n\n' +
        "- one\n- two\n\n3. three\n4. four\n\n> quoted\n\n```js\nlet x = 1 < 2;\n```",
      "text/markdown",
    );
    assert.equal(
      html,
      "<p>Some <em>em</em>, <strong>strong</strong>, <del>gone</del> and " +
        '<a href="https://example.com" rel="nofollow noopener noreferrer" target="_blank">a link</a>.</p>' +
        '<ul><li>one</li><li>two</li></ul><ol start="3"><li>three</li><li>four</li></ol>' +
        "<blockquote><p>quoted</p></blockquote><pre><code>let x = 1 &lt; 2;\n</code></pre>",
    );
  });

  it("turns single newlines into line breaks", () => {
    assert.equal(render("one\ntwo", "text/markdown").html, "<p>one<br />two</p>");
  });

  it("does not linkify inside code spans, code blocks or links", () => {
    const { html, mentions, hashtags } = render(
      "`@alice #tag https://example.com` [@alice #tag](https://example.com)\n\n    @alice #tag",
      "text/markdown",
    );
    assert.equal(
      html,
      "<p><code>@alice #tag https://example.com</code> " +
        '<a href="https://example.com" rel="nofollow noopener noreferrer" target="_blank">@alice #tag</a></p>' +
        "<pre><code>@alice #tag\n</code></pre>",
    );
    assert.deepEqual(mentions, []);
    assert.deepEqual(hashtags, []);
  });

  it("links mentions, hashtags and URLs in text, but not e-mail addresses", () => {
    const { html, mentions } = render(
      "*hi @alice@example.com* #Tag https://example.com/@bob bob@example.com",
      "text/markdown",
    );
    assert.equal(
      html,
      `<p><em>hi ${ALICE_HTML}</em> <a href="https://clique.test/tags/tag" class="mention hashtag" ` +
        'rel="tag nofollow noopener noreferrer" target="_blank">#<span>Tag</span></a> ' +
        '<a href="https://example.com/@bob" rel="nofollow noopener noreferrer" target="_blank">' +
        "https://example.com/@bob</a> bob@example.com</p>",
    );
    assert.deepEqual(
      mentions.map((m) => m.raw),
      ["@alice@example.com"],
    );
  });

  it("leaves unresolved mentions as text", () => {
    assert.equal(render("hey @nobody", "text/markdown").html, "<p>hey @nobody</p>");
  });

  it("escapes raw HTML instead of passing it through", () => {
    const { html } = render(
      '<script>alert(1)</script>\n\nhi <img src=x onerror="alert(1)"> <a href="javascript:x">y</a>\n\n' +
        '<div onclick="alert(1)">\n*x*\n</div>',
      "text/markdown",
    );
    assertInert(html.replace(/&lt;.*?&gt;/g, ""));
    assert.match(html, /^<p>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/);
    assert.match(html, /hi &lt;img src=x onerror="alert\(1\)"&gt;/);
  });

  it("drops javascript: and data: links and images", () => {
    const { html } = render(
      "[click](javascript:alert(1)) [c2](JAVASCRIPT:alert(1)) [d](data:text/html,<script>x</script>) " +
        "[e](<javascript:alert(1)>) ![pic](https://example.com/p.png)",
      "text/markdown",
    );
    assertInert(html);
    assert.match(html, /<span>click<\/span>/);
    assert.match(html, /<a href="https:\/\/example.com\/p.png"[^>]*>pic<\/a>/);
  });
});

describe("sanitizePostHtml", () => {
  const hostile = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<p onclick="alert(1)" style="color:red">x</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    '<iframe src="https://evil.example"></iframe>',
    '<svg><script>alert(1)</script><a xlink:href="javascript:x">y</a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<style>@import "https://evil.example/x.css";</style>',
    '<p><a href="https://ok.example" onmouseover="alert(1)"><b onload=x>bold',
    '<a href="https://ok.example"<img src=x onerror=alert(1)>>x</a>',
    '<object data="x.swf"></object><embed src="x.swf"><form action="https://x"><input></form>',
    "<<img src=x onerror=alert(1)//>",
  ];
  for (const input of hostile) {
    it(`neutralises ${input}`, () => {
      const out = sanitizePostHtml(input);
      assertInert(out);
      assert.equal(sanitizePostHtml(out), out, "sanitising twice changes nothing");
    });
  }

  it("drops the content of script, style and iframe", () => {
    assert.equal(
      sanitizePostHtml("<p>a<script>b</script><style>c</style><iframe>d</iframe>e</p>"),
      "<p>ae</p>",
    );
  });

  it("keeps Mastodon's markup and allowed attributes", () => {
    const html =
      '<p><span class="h-card" translate="no"><a href="https://x.example/@a" class="u-url mention">' +
      '@<span>a</span></a></span> <a href="https://x.example/tags/t" class="mention hashtag" rel="tag">#<span>t</span></a> ' +
      '<a href="https://x.example/long"><span class="invisible">https://</span><span class="ellipsis">x.example/lo</span></a></p>' +
      '<ol start="3" reversed><li value="5"><del>a</del><s>b</s><u>c</u><i>d</i></li></ol><h2>head</h2>';
    assert.equal(
      sanitizePostHtml(html),
      '<p><span class="h-card" translate="no"><a href="https://x.example/@a" class="u-url mention" ' +
        'rel="nofollow noopener noreferrer" target="_blank">@<span>a</span></a></span> ' +
        '<a href="https://x.example/tags/t" class="mention hashtag" rel="tag nofollow noopener noreferrer" ' +
        'target="_blank">#<span>t</span></a> <a href="https://x.example/long" rel="nofollow noopener noreferrer" ' +
        'target="_blank"><span class="invisible">https://</span><span class="ellipsis">x.example/lo</span></a></p>' +
        '<ol start="3" reversed><li value="5"><del>a</del><s>b</s><u>c</u><i>d</i></li></ol><h2>head</h2>',
    );
  });

  it("limits classes, link targets and attributes", () => {
    assert.equal(
      sanitizePostHtml(
        '<a href="mailto:a@b.example" class="mention btn" target="_self" id="x" title="t">m</a>' +
          '<span class="status-card evil" data-x="1" translate="maybe">s</span><div class="x">d</div>',
      ),
      '<a href="mailto:a@b.example" class="mention" target="_blank" rel="nofollow noopener noreferrer">m</a>' +
        "<span>s</span>d",
    );
  });

  it("closes unclosed tags", () => {
    assert.equal(
      sanitizePostHtml("<p><strong>bold <em>both"),
      "<p><strong>bold <em>both</em></strong></p>",
    );
  });
});

describe("htmlToPlainText", () => {
  it("separates paragraphs, keeps line breaks, decodes entities and strips tags", () => {
    const html =
      "<p>Hello <b>you</b> &amp; &lt;me&gt; &quot;q&quot; &#39;s&#39; &#x1F600;<br>line 2</p>\n" +
      '<p><span class="h-card"><a href="https://x.example/@a">@<span>a</span></a></span>   spaced\nout</p>' +
      "<script>alert(1)</script><ul><li>one</li><li>two</li></ul>";
    assert.equal(
      htmlToPlainText(html),
      "Hello you & <me> \"q\" 's' 😀\nline 2\n\n@a spaced out\n\none\ntwo",
    );
  });

  it("round-trips a rendered plain-text post", () => {
    const { html } = render("first @alice #Tag\nsecond & <third>\n\nnext https://example.com");
    assert.equal(
      htmlToPlainText(html),
      "first @alice #Tag\nsecond & <third>\n\nnext https://example.com",
    );
  });
});

describe("mentions with a port", () => {
  it("keeps the port of a handle's host (servers on non-default ports)", () => {
    const { mentions } = extractMentionsAndTags(
      "hi @bea@localhost:36859 and @amy@example.org:8443!",
    );
    assert.deepEqual(
      mentions.map((m) => [m.username, m.host]),
      [
        ["bea", "localhost:36859"],
        ["amy", "example.org:8443"],
      ],
    );
  });
});
