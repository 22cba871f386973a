import assert from "node:assert/strict";
import { test } from "node:test";
import { deviceName, isLocalPath } from "./format.ts";

test("only paths of this site are places to return to after signing in", () => {
  for (const ok of ["/home", "/@dana/0197a3c2-5e1f-7c44-9a0b-3d2e1f4a5b6c", "/people?tab=blocked"])
    assert.equal(isLocalPath(ok), true, ok);
  for (const bad of [
    "//evil.example",
    "/\\evil.example",
    "/\\\\evil.example",
    "https://evil.example",
    "home",
    "/ho me",
    "/home\\x",
    "/home\u0000",
    "",
  ])
    assert.equal(isLocalPath(bad), false, JSON.stringify(bad));
});

test("a browser is named after itself and the system it runs on (sessions, chat devices)", () => {
  const cases: [string | null, string][] = [
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
      "Chrome on Linux",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
      "Edge on Windows",
    ],
    [
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Firefox on Mac",
    ],
    [
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
      "Safari on iPhone or iPad",
    ],
    [null, "A browser"],
  ];
  for (const [agent, name] of cases) assert.equal(deviceName(agent), name, String(agent));
});
