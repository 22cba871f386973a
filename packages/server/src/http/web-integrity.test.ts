/**
 * The integrity rewriter on a real HTTP server: HTML written in chunks that
 * split tags and UTF-8 characters comes out whole, with `integrity` on the
 * build's script and stylesheet tags and nothing else changed.
 */
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { addIntegrity, rewriteIntegrity } from "./web-integrity.ts";

const MANIFEST = {
  "static/chunks/app.js": "sha256-AAAA",
  "static/chunks/page.js": "sha256-BBBB",
  "static/chunks/site.css": "sha256-CCCC",
};

test("addIntegrity: adds it to the build's scripts and stylesheets only, keeps an existing one", () => {
  const html = [
    '<script src="/_next/static/chunks/app.js" async="" nonce="n"></script>',
    '<script src="/_next/static/chunks/page.js" integrity="sha256-KEPT"></script>',
    '<link rel="stylesheet" href="/_next/static/chunks/site.css" data-precedence="next"/>',
    '<link rel="icon" href="/_next/static/chunks/app.js"/>',
    '<script src="/_next/static/chunks/unknown.js"></script>',
    '<script src="https://elsewhere.example/_next/static/chunks/app.js"></script>',
    "<p>&lt;script src=&quot;/_next/static/chunks/app.js&quot;&gt;</p>",
  ].join("");
  assert.equal(
    addIntegrity(html, MANIFEST),
    [
      '<script src="/_next/static/chunks/app.js" async="" nonce="n" integrity="sha256-AAAA"></script>',
      '<script src="/_next/static/chunks/page.js" integrity="sha256-KEPT"></script>',
      '<link rel="stylesheet" href="/_next/static/chunks/site.css" data-precedence="next" integrity="sha256-CCCC"/>',
      '<link rel="icon" href="/_next/static/chunks/app.js"/>',
      '<script src="/_next/static/chunks/unknown.js"></script>',
      '<script src="https://elsewhere.example/_next/static/chunks/app.js"></script>',
      "<p>&lt;script src=&quot;/_next/static/chunks/app.js&quot;&gt;</p>",
    ].join(""),
  );
});

async function serve(
  handler: (response: ServerResponse) => void,
): Promise<{ body: string; headers: Headers }> {
  const server = createServer((_request, response) => handler(response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return { body: await response.text(), headers: response.headers };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test("rewriteIntegrity: a streamed page split inside a tag and inside a character comes out whole", async () => {
  const page = Buffer.from(
    '<!DOCTYPE html><html><head><script src="/_next/static/chunks/app.js" async=""></script>' +
      '<link rel="stylesheet" href="/_next/static/chunks/site.css"/></head><body>Grüße ✓</body></html>',
  );
  const cuts = [20, page.indexOf("chunks/app") + 3, page.indexOf("ü") + 1, page.indexOf("✓") + 2];
  const { body, headers } = await serve((response) => {
    response.setHeader("content-type", "text/html; charset=utf-8");
    response.setHeader("content-length", String(page.length));
    rewriteIntegrity(response, MANIFEST);
    let from = 0;
    for (const cut of cuts) {
      response.write(page.subarray(from, cut));
      from = cut;
    }
    response.end(page.subarray(from));
  });
  assert.equal(
    body,
    '<!DOCTYPE html><html><head><script src="/_next/static/chunks/app.js" async="" integrity="sha256-AAAA"></script>' +
      '<link rel="stylesheet" href="/_next/static/chunks/site.css" integrity="sha256-CCCC"/></head><body>Grüße ✓</body></html>',
  );
  assert.equal(headers.get("content-length"), null, "the length changed, so it is not sent");
});

test("rewriteIntegrity: anything but HTML passes unchanged, with its length", async () => {
  const script = "document.write('<script src=\"/_next/static/chunks/app.js\"></script>')";
  const { body, headers } = await serve((response) => {
    response.writeHead(200, {
      "content-type": "application/javascript",
      "content-length": String(Buffer.byteLength(script)),
    });
    rewriteIntegrity(response, MANIFEST);
    response.end(script);
  });
  assert.equal(body, script);
  assert.equal(headers.get("content-length"), String(Buffer.byteLength(script)));
});
