/**
 * Remote documents to what we store (`wire.ts`), parsed by Fedify from the
 * JSON other servers send: Mastodon's flags whatever the sender's `@context`
 * says, and text without NULs or lone surrogates.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Create, Hashtag, isActor, Note, Person, Update } from "@fedify/vocab";
import {
  type MastodonFlag,
  mastodonFlag,
  remoteActorInput,
  remoteHashtagName,
  remotePostText,
} from "./wire.ts";

const AS = "https://www.w3.org/ns/activitystreams";
/** Mastodon's actor context: it defines the extension terms. */
const MASTODON = [
  AS,
  "https://w3id.org/security/v1",
  {
    manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
    sensitive: "as:sensitive",
    Hashtag: "as:Hashtag",
    toot: "http://joinmastodon.org/ns#",
    discoverable: "toot:discoverable",
    indexable: "toot:indexable",
  },
];
/** A server with a context of its own, which defines none of them. */
const OWN = [AS, "https://w3id.org/security/v1", { peer: "https://peer.example/ns#" }];
const FLAGS: MastodonFlag[] = ["manuallyApprovesFollowers", "discoverable", "indexable"];

function person(context: unknown, extra: Record<string, unknown> = {}) {
  return {
    ...(context === undefined ? {} : { "@context": context }),
    id: "https://peer.example/users/lock",
    type: "Person",
    preferredUsername: "lock",
    inbox: "https://peer.example/users/lock/inbox",
    ...extra,
  };
}

function note(extra: Record<string, unknown>) {
  return {
    id: "https://peer.example/notes/1",
    type: "Note",
    attributedTo: "https://peer.example/users/lock",
    content: "<p>hi</p>",
    ...extra,
  };
}

async function parsedPerson(json: unknown): Promise<Person> {
  const actor = await Person.fromJsonLd(json);
  assert.ok(isActor(actor));
  return actor;
}

describe("Mastodon's flags, whatever the sender's context", () => {
  for (const [name, context] of [
    ["Mastodon's context", MASTODON],
    ["the sender's own context", OWN],
  ] as const) {
    it(`reads an actor's flags written in ${name}`, async () => {
      const on = await parsedPerson(
        person(context, { manuallyApprovesFollowers: true, discoverable: true, indexable: true }),
      );
      const off = await parsedPerson(
        person(context, {
          manuallyApprovesFollowers: false,
          discoverable: false,
          indexable: false,
        }),
      );
      for (const flag of FLAGS) {
        assert.equal(mastodonFlag(on, flag), true, `${flag} true`);
        assert.equal(mastodonFlag(off, flag), false, `${flag} false`);
      }
      assert.equal(remoteActorInput(on)?.manuallyApprovesFollowers, true);
      assert.equal(remoteActorInput(off)?.manuallyApprovesFollowers, false);
    });

    it(`reads a post's sensitive flag written in ${name}, embedded in its Create`, async () => {
      const create = await Create.fromJsonLd({
        "@context": context,
        id: "https://peer.example/notes/1/activity",
        type: "Create",
        actor: "https://peer.example/users/lock",
        object: note({ sensitive: true, summary: "careful" }),
      });
      const object = await create.getObject();
      assert.ok(object instanceof Note);
      assert.equal(mastodonFlag(object, "sensitive", create), true);
      const text = await remotePostText(object, create);
      assert.deepEqual(text, {
        contentHtml: "<p>hi</p>",
        spoilerText: "careful",
        sensitive: true,
      });
    });
  }

  it("reads an actor embedded in an Update from the Update's JSON", async () => {
    const update = await Update.fromJsonLd({
      "@context": OWN,
      id: "https://peer.example/users/lock#updates/1",
      type: "Update",
      actor: "https://peer.example/users/lock",
      object: person(undefined, { manuallyApprovesFollowers: true }),
    });
    const actor = await update.getObject();
    assert.ok(isActor(actor));
    assert.equal(remoteActorInput(actor, update)?.manuallyApprovesFollowers, true);
    // Without the Update, the flag is not to be found: JSON-LD dropped it.
    assert.equal(remoteActorInput(actor)?.manuallyApprovesFollowers, false);
  });

  it("says nothing when nothing is said, and takes only booleans", async () => {
    const silent = await parsedPerson(person(OWN));
    const odd = await parsedPerson(person(OWN, { manuallyApprovesFollowers: "yes" }));
    for (const flag of FLAGS) assert.equal(mastodonFlag(silent, flag), null);
    assert.equal(mastodonFlag(odd, "manuallyApprovesFollowers"), null);
    assert.equal(remoteActorInput(silent)?.manuallyApprovesFollowers, false);
    const plain = await Note.fromJsonLd({ "@context": AS, ...note({}) });
    assert.equal((await remotePostText(plain, null)).sensitive, null);
  });
});

describe("remote text never carries NULs or lone surrogates", () => {
  it("strips them from an actor's names and bio", async () => {
    const actor = await parsedPerson(
      person(MASTODON, {
        preferredUsername: "lo\u0000ck",
        name: "Lo\u0000ck \uD800the \uDC00Locked",
        summary: "<p>a\u0000 bio \uDBFF</p>",
      }),
    );
    const input = remoteActorInput(actor);
    assert.equal(input?.username, "lock");
    assert.equal(input?.displayName, "Lock the Locked");
    assert.equal(input?.summaryHtml, "<p>a bio </p>");
    // Pairs are kept: this is one character, not two lone halves.
    const emoji = await parsedPerson(person(MASTODON, { name: "Lock \uD83D\uDD12" }));
    assert.equal(remoteActorInput(emoji)?.displayName, "Lock \u{1F512}");
  });

  it("strips them from a post's content, content warning and hashtags", async () => {
    const object = await Note.fromJsonLd({
      "@context": MASTODON,
      ...note({
        content: "<p>he\u0000llo <strong>w\uDC00orld</strong></p>",
        summary: "cw\u0000!\uD800",
        tag: [{ type: "Hashtag", name: "#Ta\u0000g", href: "https://peer.example/tags/tag" }],
      }),
    });
    const text = await remotePostText(object, null);
    assert.equal(text.contentHtml, "<p>hello <strong>world</strong></p>");
    assert.equal(text.spoilerText, "cw!");
    const tags: unknown[] = [];
    for await (const tag of object.getTags()) tags.push(tag);
    assert.ok(tags[0] instanceof Hashtag);
    assert.equal(remoteHashtagName(tags[0]), "tag");
  });

  it("does not leave half a character where it cuts a long content warning", async () => {
    const object = await Note.fromJsonLd({
      "@context": AS,
      ...note({ summary: `${"x".repeat(999)}\u{1F512}` }),
    });
    const { spoilerText } = await remotePostText(object, null);
    assert.equal(spoilerText, "x".repeat(999));
    assert.ok(spoilerText.isWellFormed());
  });
});
