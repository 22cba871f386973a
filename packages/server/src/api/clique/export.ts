/**
 * `GET /api/v1/clique/export`: a member takes away what they wrote, as a zip
 * streamed while it is built.
 *
 * - `outbox.json`: their posts, newest first, as Mastodon status JSON, through
 *   the same renderer as the API. Not ActivityStreams: Clique-only posts never
 *   become ActivityPub objects (`federates`), and the wire form keeps only
 *   who a post was sent to, not which circle or audience it was for; the
 *   status JSON carries both (`audience`, `circle_id`), and the web UI and
 *   Mastodon tools already read it.
 * - `profile.json`: their account as `verify_credentials` returns it (fields
 *   with their audiences, posting defaults).
 * - `media/<id>.<ext>`: the stored file of each photo and video of theirs on
 *   those posts, read from the blob store one at a time as the zip reaches it.
 * - `README.txt`.
 *
 * The posts are those the visibility module lets their author see of their
 * own: deleted and removed posts, and posts a moderator hid, are not in it.
 */
import { PassThrough, Readable } from "node:stream";
import type { Actor, Media, Member, Post } from "@clique/core";
import { getLogger } from "@logtape/logtape";
import { type Context, Hono } from "hono";
import { ZipFile } from "yazl";
import { requireMember } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { renderStatuses } from "../mastodon/render.ts";
import { serializeCredentialAccount } from "../mastodon/serializers.ts";

const log = getLogger(["clique", "api", "export"]);

/** Posts read and rendered per query. */
const BATCH = 40;

/** File name extensions of the media types media processing stores. */
const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/avif": "avif",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "audio/mpeg": "mp3",
};

/** `GET /api/v1/clique/export`. */
export const exportApi = new Hono<AppEnv>();

exportApi.get("/", async (c) => {
  const member = requireMember(c);
  const { statuses, media } = await ownPosts(c, member);
  const profile = await ownProfile(c, member);
  const now = new Date();
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(readme(member, now, statuses.length, media.length)), "README.txt", {
    mtime: now,
  });
  zip.addBuffer(Buffer.from(`${JSON.stringify(profile, null, 2)}\n`), "profile.json", {
    mtime: now,
  });
  zip.addBuffer(Buffer.from(`${JSON.stringify(statuses, null, 2)}\n`), "outbox.json", {
    mtime: now,
  });
  const { blobs } = c.get("services");
  for (const item of media) {
    const file = item.display!;
    // Already compressed (JPEG, WebP, MP4): stored as they are. Opened only
    // when the zip reaches them, so one file is read at a time.
    zip.addReadStreamLazy(mediaName(item), { mtime: item.createdAt, compress: false }, (done) => {
      blobs.read(file.key).then(
        (blob) => {
          if (blob) return done(null, blob.stream);
          // A file the store lost leaves an empty entry rather than a broken zip.
          log.warn("Export: media file {key} of {id} is missing", { key: file.key, id: item.id });
          const empty = new PassThrough();
          empty.end();
          done(null, empty);
        },
        (error: unknown) => done(error, new PassThrough()),
      );
    });
  }
  zip.end();
  const output = zip.outputStream as Readable;
  output.on("error", (error) => log.error("Export failed: {error}", { error }));
  const date = now.toISOString().slice(0, 10);
  return c.body(Readable.toWeb(output) as ReadableStream, 200, {
    "Content-Type": "application/zip",
    "Content-Disposition": `attachment; filename="clique-${member.username}-${date}.zip"`,
    "Cache-Control": "no-store",
  });
});

/**
 * The member's posts as they see them (their own: every audience), rendered,
 * and the photos and videos of theirs attached to them, page by page.
 */
async function ownPosts(c: Context<AppEnv>, member: Member) {
  const { clique } = c.get("services");
  const viewer = c.get("viewer");
  const statuses: Awaited<ReturnType<typeof renderStatuses>> = [];
  const media: Media[] = [];
  let maxId: string | undefined;
  for (;;) {
    const posts: Post[] = await clique.listAccountPosts(viewer, member.id, {
      limit: BATCH,
      maxId,
    });
    if (posts.length === 0) break;
    statuses.push(...(await renderStatuses(c, posts)));
    const extras = await clique.postExtras(posts, viewer);
    for (const post of posts)
      for (const { media: item } of extras.media.get(post.id) ?? [])
        if (item.ownerId === member.id && item.display !== null) media.push(item);
    maxId = posts[posts.length - 1]!.id;
  }
  return { statuses, media };
}

async function ownProfile(c: Context<AppEnv>, member: Member) {
  const { clique, config } = c.get("services");
  const [actor, stats] = await Promise.all([
    clique.getActor(member.id),
    clique.accountStats(c.get("viewer"), [member.id]),
  ]);
  return serializeCredentialAccount(config.origin, actor as Actor, member, stats.get(member.id)!);
}

/** `media/<id>.<ext>`, the extension from the stored file's type (or its key). */
function mediaName(item: Media): string {
  const file = item.display!;
  const fromKey = /\.([a-z0-9]{2,5})$/.exec(file.key)?.[1];
  return `media/${item.id}.${EXTENSIONS[file.mediaType] ?? fromKey ?? "bin"}`;
}

function readme(member: Member, now: Date, posts: number, files: number): string {
  return [
    `Clique export of @${member.username}, made ${now.toISOString()}.`,
    "",
    `outbox.json   your ${posts} posts, newest first, as Mastodon API statuses.`,
    "              `audience` and `circle_id` say who each post was for",
    "              (`visibility` is the nearest Mastodon equivalent);",
    "              `media_attachments[].id` names the files in media/.",
    "profile.json  your account as the API shows it to you, with the audience",
    "              of your bio and of each profile field.",
    `media/        the ${files} photos and videos of your posts, as stored here.`,
    "",
    "Deleted posts and posts removed or hidden by moderators are not included.",
    "",
  ].join("\n");
}
