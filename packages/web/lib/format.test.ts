import assert from "node:assert/strict";
import { test } from "node:test";
import { isLocalPath } from "./format.ts";

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
