import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSubscription, scopeAllows, streamLabel, subscriptionKey } from "./streams.ts";

test("streams are parsed as Mastodon names them; hashtag streams need a tag", () => {
  assert.deepEqual(parseSubscription("user", undefined), { stream: "user", tag: null });
  assert.deepEqual(parseSubscription("public:local", "ignored"), {
    stream: "public:local",
    tag: null,
  });
  assert.deepEqual(parseSubscription("hashtag", "#Cats"), { stream: "hashtag", tag: "cats" });
  assert.equal(parseSubscription("hashtag", undefined), null);
  assert.equal(parseSubscription("hashtag:local", ""), null);
  assert.equal(parseSubscription("direct:everything", undefined), null);
  assert.equal(parseSubscription(42, undefined), null);
  const tagged = parseSubscription("hashtag:local", "cats")!;
  assert.equal(subscriptionKey(tagged), "hashtag:local:cats");
  assert.deepEqual(streamLabel(tagged), ["hashtag:local", "cats"]);
});

test("a token reads a stream only with the scope Mastodon asks for", () => {
  assert.equal(scopeAllows(["read"], "user"), true);
  assert.equal(scopeAllows(["read:statuses"], "public:local"), true);
  assert.equal(scopeAllows(["read:statuses"], "user:notification"), false);
  assert.equal(scopeAllows(["read:notifications"], "user:notification"), true);
  assert.equal(scopeAllows(["read:notifications"], "user"), false);
  assert.equal(scopeAllows(["write", "follow"], "hashtag"), false);
});
