/**
 * Attachments both ways (`attachments.ts`): what we send carries Mastodon's
 * `blurhash` and `focalPoint` as the plain keys Mastodon reads (and survives
 * Fedify's object integrity proofs), and what we take in from a remote post
 * is at most eight http(s) attachments with their alt text, size, blurhash and
 * focal point, without fetching anything.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateCryptoKeyPair, signObject, verifyObject } from "@fedify/fedify";
import { Create, Image, Multikey, Note, PUBLIC_COLLECTION } from "@fedify/vocab";
import { MediaCreate, MediaNote, mediaAttachment, remoteAttachments } from "./attachments.ts";
import { remotePostAttachments } from "./wire.ts";

type Json = Record<string, unknown>;

const MASTODON_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  {
    toot: "http://joinmastodon.org/ns#",
    blurhash: "toot:blurhash",
    focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
    sensitive: "as:sensitive",
  },
];

function note(attachment: unknown, context: unknown = MASTODON_CONTEXT): Json {
  return {
    "@context": context,
    id: "https://peer.example/notes/1",
    type: "Note",
    attributedTo: "https://peer.example/users/lock",
    content: "<p>photos</p>",
    attachment,
  };
}

function photo(n: number, extra: Json = {}): Json {
  return {
    type: "Document",
    mediaType: "image/jpeg",
    url: `https://files.peer.example/${n}.jpg`,
    name: `photo ${n}`,
    width: 640,
    height: 480,
    blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
    focalPoint: [0.25, -0.5],
    ...extra,
  };
}

describe("attachments we send", () => {
  const attachment = () =>
    mediaAttachment(
      "image",
      {
        url: new URL("https://clique.example/media/abc.webp?for=s%3Apeer.example&sig=x"),
        mediaType: "image/webp",
        name: "a red square",
        width: 640,
        height: 480,
      },
      { blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj", focalPoint: [0.5, -0.25] },
    );
  const create = () =>
    new MediaCreate({
      id: new URL("https://clique.example/users/alice/statuses/1/activity"),
      actor: new URL("https://clique.example/users/alice"),
      tos: [PUBLIC_COLLECTION],
      object: new MediaNote({
        id: new URL("https://clique.example/users/alice/statuses/1"),
        attribution: new URL("https://clique.example/users/alice"),
        tos: [PUBLIC_COLLECTION],
        contents: ["<p>hi</p>"],
        attachments: [attachment()],
      }),
    });

  it("carries blurhash and focalPoint as the plain keys Mastodon reads, and a context that defines them", async () => {
    for (const json of [
      (await create().toJsonLd({ format: "compact" })) as Json,
      (await create().toJsonLd()) as Json,
    ]) {
      const sent = (json.object as Json).attachment as Json | Json[];
      const first = (Array.isArray(sent) ? sent[0] : sent) as Json;
      assert.equal(first.type, "Image");
      assert.equal(first.mediaType, "image/webp");
      assert.equal(first.name, "a red square");
      assert.equal(first.width, 640);
      assert.equal(first.height, 480);
      assert.equal(first.blurhash, "LEHV6nWB2yk8pyo0adR*.7kCMdnj");
      assert.deepEqual(first.focalPoint, [0.5, -0.25]);
      assert.equal(first.url, "https://clique.example/media/abc.webp?for=s%3Apeer.example&sig=x");
      const context = [json["@context"]].flat() as unknown[];
      assert.ok(
        context.some(
          (c) => typeof c === "object" && c !== null && (c as Json).blurhash === "toot:blurhash",
        ),
        JSON.stringify(context),
      );
    }
    // The served Note alone, too.
    const served = (await (create().getObject() as Promise<Note>).then((n) =>
      n.toJsonLd(),
    )) as Json;
    assert.equal(((served.attachment as Json[])[0] ?? served.attachment) instanceof Object, true);
    assert.match(JSON.stringify(served), /"blurhash":"LEHV6nWB2yk8pyo0adR\*\.7kCMdnj"/);
    assert.match(JSON.stringify(served), /"focalPoint":\[0\.5,-0\.25\]/);
  });

  it("signs and verifies with Fedify's object integrity proofs, the terms included", async () => {
    const { privateKey, publicKey } = await generateCryptoKeyPair("Ed25519");
    const keyId = new URL("https://clique.example/users/alice#ed25519-key");
    const signed = await signObject(create(), privateKey, keyId);
    assert.ok(signed instanceof MediaCreate, "signing keeps the class");
    const json = (await signed.toJsonLd({ format: "compact" })) as Json;
    assert.match(JSON.stringify(json), /"blurhash":/);
    assert.ok(json.proof, "a proof");
    // A verifier reads the JSON as sent: the proof holds, and covers the terms.
    const key = new Multikey({
      id: keyId,
      controller: new URL("https://clique.example/users/alice"),
      publicKey,
    });
    const options = {
      documentLoader: () => Promise.reject(new Error("nothing is fetched here")),
      keyCache: { get: async () => key, set: async () => {} },
    };
    const verified = await verifyObject(Create, json, options);
    assert.ok(verified, "the proof verifies");
    const tampered = JSON.parse(
      JSON.stringify(json).replace("LEHV6nWB2yk8pyo0adR*.7kCMdnj", "LEHV6nWB2yk8pyo0adR*.7kCMdnX"),
    );
    assert.equal(
      await verifyObject(Create, tampered, options),
      null,
      "a changed blurhash does not",
    );
  });

  it("gives a video its poster as `icon`", async () => {
    const video = mediaAttachment(
      "video",
      {
        url: new URL("https://clique.example/media/v.mp4"),
        mediaType: "video/mp4",
        icon: new Image({ url: new URL("https://clique.example/media/p.webp") }),
      },
      { blurhash: null, focalPoint: [0, 0] },
    );
    const json = (await new MediaNote({ attachments: [video] }).toJsonLd()) as Json;
    const sent = [json.attachment].flat()[0] as Json;
    assert.equal(sent.type, "Video");
    assert.equal((sent.icon as Json).url, "https://clique.example/media/p.webp");
    assert.equal(sent.blurhash, undefined, "no blurhash when there is none");
  });
});

describe("attachments we take in", () => {
  it("reads url, type, alt text, size, blurhash and focal point, as Mastodon sends them", async () => {
    const object = await Note.fromJsonLd(
      note([
        photo(1),
        {
          type: "Video",
          url: { type: "Link", href: "https://files.peer.example/2.mp4", mediaType: "video/mp4" },
          name: "a\u0000 clip",
        },
      ]),
    );
    const found = await remoteAttachments(object, note([photo(1)]));
    assert.deepEqual(found[0], {
      url: "https://files.peer.example/1.jpg",
      mediaType: "image/jpeg",
      kind: "image",
      description: "photo 1",
      width: 640,
      height: 480,
      blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
      focus: { x: 0.25, y: -0.5 },
    });
    assert.deepEqual(found[1], {
      url: "https://files.peer.example/2.mp4",
      mediaType: "video/mp4",
      kind: "video",
      description: "a clip",
      width: null,
      height: null,
      blurhash: null,
      focus: { x: 0, y: 0 },
    });
  });

  it("reads blurhash and focal point whatever the sender's context, from the activity that carried the post", async () => {
    const context = ["https://www.w3.org/ns/activitystreams"];
    const activity = await Create.fromJsonLd({
      "@context": context,
      id: "https://peer.example/notes/1/activity",
      type: "Create",
      actor: "https://peer.example/users/lock",
      object: Object.fromEntries(
        Object.entries(note([photo(1)])).filter(([k]) => k !== "@context"),
      ),
    });
    const object = (await activity.getObject()) as Note;
    const [found] = await remotePostAttachments(object, activity);
    assert.equal(found?.blurhash, "LEHV6nWB2yk8pyo0adR*.7kCMdnj");
    assert.deepEqual(found?.focus, { x: 0.25, y: -0.5 });
  });

  it("keeps at most eight, only http(s) ones, fetches nothing, and checks what it keeps", async () => {
    const list = [
      photo(0, { url: "javascript:alert(1)" }),
      photo(1, { url: "file:///etc/passwd" }),
      "https://peer.example/attachments/only-a-link",
      { type: "Page", url: "https://peer.example/a-page", mediaType: "text/html" },
      photo(2, {
        blurhash: "<script>",
        focalPoint: [5, "x"],
        width: -3,
        height: 1e9,
        name: "x".repeat(5000),
      }),
      ...Array.from({ length: 10 }, (_, i) => photo(10 + i)),
    ];
    const object = await Note.fromJsonLd(note(list));
    let fetched = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      fetched++;
      return realFetch(...args);
    }) as typeof fetch;
    let found: Awaited<ReturnType<typeof remoteAttachments>>;
    try {
      found = await remoteAttachments(object, note(list));
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(fetched, 0, "nothing fetched");
    assert.equal(found.length, 8);
    assert.deepEqual(
      found.map((a) => a.url),
      [
        "https://files.peer.example/2.jpg",
        ...Array.from({ length: 7 }, (_, i) => `https://files.peer.example/${10 + i}.jpg`),
      ],
    );
    const checked = found[0]!;
    assert.equal(checked.blurhash, null, "a blurhash that is not one is dropped");
    assert.deepEqual(checked.focus, { x: 0, y: 0 }, "a focal point that is not one is the centre");
    assert.equal(checked.width, null);
    assert.equal(checked.height, null);
    assert.equal(checked.description.length, 1500);
  });

  it("clamps a focal point to [-1, 1] and takes audio as an unknown file", async () => {
    const object = await Note.fromJsonLd(
      note([
        photo(1, { focalPoint: [3, -2] }),
        { type: "Audio", url: "https://files.peer.example/a.mp3", mediaType: "audio/mpeg" },
      ]),
    );
    const found = await remoteAttachments(object, note([photo(1, { focalPoint: [3, -2] })]));
    assert.deepEqual(found[0]?.focus, { x: 1, y: -1 });
    assert.equal(found[1]?.kind, "unknown");
    assert.equal(found[1]?.mediaType, "audio/mpeg");
  });
});
