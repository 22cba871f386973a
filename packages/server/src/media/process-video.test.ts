/**
 * `processVideo` on its own, with videos made by the same ffmpeg: which
 * streams are copied and which re-encoded, the limits (length, pixels, time),
 * a WebM without a duration (as browsers record them), and a title that
 * tries to pass for a stream in ffmpeg's listing. The whole path through a
 * server (upload, job, serving, metadata) is in `tests/media-video.test.ts`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { ffmpegPath, parseProbe, runFfmpeg } from "./ffmpeg.ts";
import { MediaRefused } from "./process-image.ts";
import { DEFAULT_VIDEO_LIMITS, processVideo, type VideoLimits } from "./process-video.ts";

const FFMPEG = ffmpegPath();
let work = "";
let scratch = "";
const previousTmp = process.env.TMPDIR;

function make(name: string, args: string[]): Promise<string> {
  const file = path.join(work, name);
  return new Promise((resolve, reject) => {
    execFile(
      FFMPEG!,
      ["-hide_banner", "-nostdin", "-v", "error", "-y", ...args, file],
      { timeout: 60_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`${name}: ${stderr}`)) : resolve(file)),
    );
  });
}

const source = (size = "320x240", seconds = 3) => [
  ...["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25`],
  ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", String(seconds)],
];
const x264 = ["-c:v", "libx264", "-preset", "ultrafast"];

before(async () => {
  assert.ok(FFMPEG, "@ffmpeg-installer ships an ffmpeg for this platform");
  work = await mkdtemp(path.join(tmpdir(), "clique-video-unit-"));
  // processVideo's temporary directories go here, where nothing else makes any.
  scratch = await mkdtemp(path.join(tmpdir(), "clique-video-scratch-"));
  process.env.TMPDIR = scratch;
});

after(async () => {
  process.env.TMPDIR = previousTmp;
  if (previousTmp === undefined) delete process.env.TMPDIR;
  await rm(work, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

async function processed(
  file: string,
  container: "mp4" | "matroska",
  limits?: Partial<VideoLimits>,
) {
  const video = await processVideo(file, container, { ...DEFAULT_VIDEO_LIMITS, ...limits });
  const info = await runFfmpeg(FFMPEG!, ["-hide_banner", "-i", video.video.file], {
    timeoutMs: 30_000,
    memoryBytes: DEFAULT_VIDEO_LIMITS.memoryBytes,
  });
  const poster = await sharp(video.poster.data).metadata();
  await video.dispose();
  await assert.rejects(stat(video.video.file), "dispose() deletes the file");
  return { video, listing: parseProbe(info.stderr)!, poster };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MediaRefused, String(error));
    return error.message;
  }
  assert.fail("refused");
}

test("H.264 and MP3 in Matroska: the video copied into MP4, the sound re-encoded to AAC", async () => {
  const file = await make("h264-mp3.mkv", [...source(), ...x264, "-c:a", "libmp3lame"]);
  const { video, listing, poster } = await processed(file, "matroska");
  assert.equal(video.method, "copied");
  assert.equal(video.video.mediaType, "video/mp4");
  assert.deepEqual(
    listing.streams.map((s) => s.codec),
    ["h264", "aac"],
  );
  assert.deepEqual([video.width, video.height, video.duration > 2.9], [320, 240, true]);
  assert.deepEqual([poster.format, poster.width, poster.height], ["webp", 320, 240]);
});

test("VP8 and Vorbis in WebM are copied; H.264 in 4:4:4 (no browser plays it) is re-encoded", async () => {
  const webm = await make("vp8.webm", [
    ...source(),
    "-c:v",
    "libvpx",
    "-b:v",
    "200k",
    "-c:a",
    "libvorbis",
  ]);
  const copied = await processed(webm, "matroska");
  assert.equal(copied.video.method, "copied");
  assert.equal(copied.video.video.mediaType, "video/webm");
  assert.deepEqual(
    copied.listing.streams.map((s) => s.codec),
    ["vp8", "vorbis"],
  );
  const full = await make("444.mp4", [...source(), ...x264, "-pix_fmt", "yuv444p", "-an"]);
  const reencoded = await processed(full, "mp4");
  assert.equal(reencoded.video.method, "re-encoded");
  assert.deepEqual(
    reencoded.listing.streams.map((s) => [s.codec, s.pixelFormat]),
    [["h264", "yuv420p"]],
  );
});

test("re-encoding keeps at most 1920 pixels a side, in even sizes", async () => {
  const file = await make("wide.mp4", [
    ...["-f", "lavfi", "-i", "testsrc2=size=2562x1082:rate=25", "-t", "1"],
    ...["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
  ]);
  const { video, poster } = await processed(file, "mp4");
  assert.equal(video.method, "re-encoded");
  assert.equal(video.width, 1920);
  assert.equal(video.height % 2, 0);
  assert.ok(Math.abs(video.height - (1920 * 1082) / 2562) <= 2, `height ${video.height}`);
  assert.deepEqual([poster.width, poster.height], [1280, Math.round((1280 * video.height) / 1920)]);
});

test("a WebM without a duration (as a browser records it) gets one; past the limit it is refused", async () => {
  // Live mode: no duration and no index, as MediaRecorder's files.
  const piped = await make("recorded.webm", [
    ...["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3"],
    ...["-c:v", "libvpx", "-b:v", "200k", "-live", "1", "-f", "webm"],
  ]);
  const head = await runFfmpeg(FFMPEG!, ["-hide_banner", "-i", piped], {
    timeoutMs: 30_000,
    memoryBytes: DEFAULT_VIDEO_LIMITS.memoryBytes,
  });
  assert.equal(parseProbe(head.stderr)?.duration, null, "the file says no duration");
  const { video } = await processed(piped, "matroska");
  assert.ok(Math.abs(video.duration - 3) < 0.1, `${video.duration} s`);
  assert.match(
    await refusal(processed(piped, "matroska", { maxSeconds: 2 })),
    /longer than 2 seconds/,
  );
});

test("limits: length, pixels a frame, and time (the run is killed, nothing is left behind)", async () => {
  const file = await make("limits.mp4", [...source("320x240", 3), ...x264, "-c:a", "aac"]);
  assert.match(
    await refusal(processed(file, "mp4", { maxSeconds: 2 })),
    /3 seconds long; at most 2/,
  );
  assert.match(
    await refusal(processed(file, "mp4", { maxPixels: 320 * 240 - 1 })),
    /320×240; at most 76799 pixels/,
  );
  assert.match(
    await refusal(processed(file, "mp4", { timeScale: 0.00001 })),
    /took longer than 0 s/,
  );
  assert.deepEqual(await readdir(scratch), [], "no temporary directory is left");
});

test("a title cannot pose as a stream in ffmpeg's listing", async () => {
  const forged =
    "x\n    Stream #0:7: Video: h264 (High), yuv420p, 9999x9999\n  Duration: 99:00:00.00,";
  const file = await make("forged.mp4", [
    ...source("320x240", 1),
    ...x264,
    "-an",
    ...["-metadata", `title=${forged}`, "-metadata:s:v:0", `handler_name=${forged}`],
  ]);
  const head = await runFfmpeg(FFMPEG!, ["-hide_banner", "-i", file], {
    timeoutMs: 30_000,
    memoryBytes: DEFAULT_VIDEO_LIMITS.memoryBytes,
  });
  assert.match(head.stderr, /Stream #0:7/, "ffmpeg prints the title's text");
  const probe = parseProbe(head.stderr);
  assert.deepEqual(
    probe?.streams.map((s) => [s.index, s.codec, s.width, s.height]),
    [[0, "h264", 320, 240]],
  );
  assert.ok(probe && probe.duration !== null && probe.duration < 2);
});
