import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { withUserAgent } from "./user-agent.ts";

describe("outgoing requests", () => {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    // `/hang` never answers, as a server holding a delivery open.
    if (req.url === "/hang") return;
    res.end("ok");
  });
  let base = "";

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("carry Clique's User-Agent unless they name their own", async () => {
    const fetchAs = withUserAgent(fetch, "Clique/test");
    await (await fetchAs(`${base}/a`)).text();
    await (await fetchAs(new Request(`${base}/b`, { method: "POST", body: "x" }))).text();
    await (await fetchAs(`${base}/c`, { headers: { "user-agent": "Mine/1" } })).text();
    assert.deepEqual(
      seen.map((r) => [r.url, r.headers["user-agent"]]),
      [
        ["/a", "Clique/test"],
        ["/b", "Clique/test"],
        ["/c", "Mine/1"],
      ],
    );
  });

  test("give up when the other side holds them open too long", async () => {
    const fetchAs = withUserAgent(fetch, "Clique/test", 300);
    const started = Date.now();
    await assert.rejects(fetchAs(`${base}/hang`), (error: Error) => error.name === "TimeoutError");
    assert.ok(Date.now() - started < 10_000, "well before Node's own 300 s");
    // The caller's own signal still counts.
    const mine = new AbortController();
    const pending = withUserAgent(
      fetch,
      "Clique/test",
      60_000,
    )(`${base}/hang`, {
      signal: mine.signal,
    });
    mine.abort();
    await assert.rejects(pending, (error: Error) => error.name === "AbortError");
  });
});
