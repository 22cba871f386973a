/**
 * An uploaded video made safe to serve, with ffmpeg (`ffmpeg.ts`). The
 * container is forced from the first bytes (`ftyp`: the MP4/QuickTime
 * demuxer; EBML: Matroska/WebM), so a file cannot talk ffmpeg into another
 * demuxer (a playlist that fetches URLs or reads other files), and only local
 * files may be opened.
 *
 * Nothing of the original container is served: only its first video stream
 * and first audio stream are written, into a new container, without any
 * metadata or chapters — no GPS (`©xyz`, `loci`, Apple's `keys`), no dates
 * (the MP4 header's creation times are written as 0), no device, no title;
 * other tracks (GoPro's GPS telemetry, subtitles, timecode, cover art) are
 * left behind. Streams browsers play everywhere are copied as they are,
 * bit for bit (H.264 into MP4, with the SEI messages — free-form user data —
 * removed; VP8/VP9 into WebM): a remux takes a fraction of a second and
 * loses nothing. Anything else (HEVC from iPhones, AV1, 10-bit, MPEG-4
 * Part 2...) is re-encoded to H.264 and AAC, at most 1920 pixels a side.
 *
 * The poster is a frame 1 s in (the first is often black), or the first one
 * of a clip shorter than 2 s, made into a WebP by sharp, with its blurhash.
 * Videos longer than the limit, larger than the pixel limit, damaged,
 * truncated or without a video track are refused with a reason.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "blurhash";
import sharp from "sharp";
import { ffmpegPath, type Probe, type ProbedStream, parseProbe, runFfmpeg } from "./ffmpeg.ts";
import { MediaRefused } from "./process-image.ts";

/** How long and how large a video may be, and what processing it may use. */
export interface VideoLimits {
  /** Longest video taken, in seconds. */
  maxSeconds: number;
  /** Most pixels a frame may have (4K is 8.3 million). */
  maxPixels: number;
  /** Address space each ffmpeg run may use. */
  memoryBytes: number;
  /** Multiplies every time limit (1: the defaults below). */
  timeScale: number;
}

/** Ten minutes, up to 4096×2304, 2 GiB per ffmpeg run. */
export const DEFAULT_VIDEO_LIMITS: VideoLimits = {
  maxSeconds: 600,
  maxPixels: 4096 * 2304,
  memoryBytes: 2 * 1024 ** 3,
  timeScale: 1,
};

/** Longest side of a re-encoded video, and of the poster. */
export const REENCODE_SIDE = 1920;
export const POSTER_SIDE = 1280;

/** A cleaned video in a temporary directory, until `dispose()`. */
export interface ProcessedVideo {
  /** As shown (a video recorded upright on a phone is taller than wide). */
  width: number;
  height: number;
  /** Seconds. */
  duration: number;
  blurhash: string;
  video: { file: string; mediaType: "video/mp4" | "video/webm"; extension: "mp4" | "webm" };
  poster: { data: Buffer; width: number; height: number };
  /** Whether the streams were copied or re-encoded. */
  method: "copied" | "re-encoded";
  /** Deletes the temporary files. */
  dispose(): Promise<void>;
}

/** Which demuxer the first bytes call for. */
export type VideoContainer = "mp4" | "matroska";

/** Pixel formats every browser decodes. */
const PLAIN_PIXELS = new Set(["yuv420p", "yuvj420p"]);

/**
 * How the cleaned file is written: H.264 (8-bit 4:2:0) is copied into MP4,
 * VP8/VP9 into WebM, anything else re-encoded to H.264 in MP4; the sound is
 * copied when that container's browsers play it (AAC; Opus, Vorbis), else
 * re-encoded to AAC or Opus.
 */
function plan(video: ProbedStream, audio: ProbedStream | undefined) {
  const plain = PLAIN_PIXELS.has(video.pixelFormat ?? "");
  const target: "mp4" | "webm" =
    plain && (video.codec === "vp8" || video.codec === "vp9") ? "webm" : "mp4";
  const copyVideo = plain && (target === "webm" || video.codec === "h264");
  const audioCopies =
    target === "mp4" ? audio?.codec === "aac" : ["opus", "vorbis"].includes(audio?.codec ?? "");
  const videoArgs = copyVideo
    ? target === "mp4"
      ? ["-c:v", "copy", "-bsf:v", "filter_units=remove_types=6"]
      : ["-c:v", "copy"]
    : [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-maxrate",
        "4M",
        "-bufsize",
        "8M",
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        // Upright already (ffmpeg turns frames by the display matrix), at most 1920 a side, even sizes.
        "-vf",
        `scale='if(gte(iw,ih),min(${REENCODE_SIDE},trunc(iw/2)*2),-2)':'if(gte(iw,ih),-2,min(${REENCODE_SIDE},trunc(ih/2)*2))'`,
        "-threads",
        "2",
      ];
  const audioArgs = !audio
    ? []
    : audioCopies
      ? ["-c:a", "copy"]
      : target === "mp4"
        ? ["-c:a", "aac", "-b:a", "128k"]
        : ["-c:a", "libopus", "-b:a", "96k"];
  return { target, copyVideo, videoArgs, audioArgs };
}

const DEMUXER: Record<VideoContainer, string> = { mp4: "mov", matroska: "matroska" };
/** Largest single allocation ffmpeg may make (a 4K frame is 14 MB). */
const MAX_ALLOC = 256 * 1024 * 1024;
/** A poster PNG of at most 1280×1280 is well under this. */
const POSTER_PNG_BYTES = 32 * 1024 * 1024;

function inputArgs(container: VideoContainer, file: string): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-max_alloc",
    String(MAX_ALLOC),
    "-threads",
    "2",
    "-protocol_whitelist",
    "file",
    "-f",
    DEMUXER[container],
    "-i",
    file,
  ];
}

/** The reason given for a run that failed. */
function failure(result: { timedOut: boolean; stderr: string }, seconds: number): Error {
  if (result.timedOut)
    return new MediaRefused(
      `Processing the video took longer than ${Math.round(seconds)} s: send a shorter or smaller video`,
    );
  // The disk filling up is this server's trouble, not the video's: the job tries again later.
  if (/No space left on device/i.test(result.stderr))
    return new Error(`ffmpeg: no space left on device`);
  if (/Cannot allocate memory|out of memory/i.test(result.stderr))
    return new MediaRefused("The video needs more memory to process than this server allows");
  return new MediaRefused("The video is damaged or incomplete");
}

/** The first video stream (not cover art) and the first audio stream. */
function pick(probe: Probe) {
  const video = probe.streams.find((s) => s.type === "video" && !s.attachedPicture);
  const audio = probe.streams.find((s) => s.type === "audio");
  return { video, audio };
}

function shown(stream: ProbedStream): { width: number; height: number } {
  const quarterTurn = Math.abs(Math.round(stream.rotation)) % 180 === 90;
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  return quarterTurn ? { width: height, height: width } : { width, height };
}

async function probe(binary: string, container: VideoContainer, file: string, limits: VideoLimits) {
  const seconds = 30 * limits.timeScale;
  const result = await runFfmpeg(binary, inputArgs(container, file), {
    timeoutMs: seconds * 1000,
    memoryBytes: limits.memoryBytes,
  });
  if (result.timedOut) throw failure(result, seconds);
  return parseProbe(result.stderr);
}

/**
 * Cleans the video in `file` (whose first bytes said `container`). Throws
 * `MediaRefused` for what is not a video Clique takes; the caller writes the
 * result where it belongs, then calls `dispose()`.
 */
export async function processVideo(
  file: string,
  container: VideoContainer,
  limits: VideoLimits = DEFAULT_VIDEO_LIMITS,
): Promise<ProcessedVideo> {
  const binary = ffmpegPath();
  if (!binary)
    throw new MediaRefused(
      "Videos cannot be processed on this server (there is no ffmpeg for its platform)",
    );
  const input = await probe(binary, container, file, limits);
  if (!input)
    throw new MediaRefused("This is not a video Clique can read (MP4 or WebM), or it is damaged");
  const { video, audio } = pick(input);
  if (input.streams.length === 0)
    throw new MediaRefused("The video is damaged or incomplete (no stream could be read)");
  if (!video) throw new MediaRefused("The file has no video track");
  if (!video.width || !video.height || !video.codec || video.codec === "none")
    throw new MediaRefused("The video is damaged, or in a format Clique cannot read");
  if (video.width * video.height > limits.maxPixels)
    throw new MediaRefused(
      `The video is ${video.width}×${video.height}; at most ${limits.maxPixels} pixels a frame are taken`,
    );
  if (input.duration !== null && input.duration > limits.maxSeconds)
    throw new MediaRefused(
      `The video is ${Math.round(input.duration)} seconds long; at most ${limits.maxSeconds} are taken`,
    );

  const steps = plan(video, audio);
  const dir = await mkdtemp(path.join(tmpdir(), "clique-video-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const output = path.join(dir, `video.${steps.target}`);
    const expected = input.duration ?? limits.maxSeconds;
    // Copying is bound by the disk; re-encoding by the CPU (about 2× real time for 1080p on 2 cores).
    const seconds = (steps.copyVideo ? 30 + expected / 2 : 60 + expected * 3) * limits.timeScale;
    const cleaned = await runFfmpeg(
      binary,
      [
        ...inputArgs(container, file),
        "-v",
        "error",
        // Stop at the first damaged packet instead of serving what came before it.
        "-xerror",
        "-map",
        `0:${video.index}`,
        ...(audio ? ["-map", `0:${audio.index}`] : []),
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        // A container that understates its length stops here; longer ones are refused below.
        "-t",
        String(limits.maxSeconds + 1),
        ...steps.videoArgs,
        ...steps.audioArgs,
        // No encoder name and version, no creation time.
        "-fflags",
        "+bitexact",
        ...(steps.target === "mp4" ? ["-movflags", "+faststart", "-f", "mp4"] : ["-f", "webm"]),
        "-y",
        output,
      ],
      { timeoutMs: seconds * 1000, memoryBytes: limits.memoryBytes },
    );
    if (cleaned.code !== 0) throw failure(cleaned, seconds);

    const result = await probe(binary, steps.target === "mp4" ? "mp4" : "matroska", output, limits);
    const made = result && pick(result).video;
    if (!result || !made || !result.duration || !(await stat(output)).size)
      throw new MediaRefused("The video is damaged or incomplete");
    if (result.duration > limits.maxSeconds)
      throw new MediaRefused(`The video is longer than ${limits.maxSeconds} seconds`);

    const poster = await makePoster(binary, steps.target, output, result.duration, limits);
    const size = shown(made);
    return {
      width: size.width || poster.width,
      height: size.height || poster.height,
      duration: Math.round(result.duration * 1000) / 1000,
      blurhash: poster.blurhash,
      video: {
        file: output,
        mediaType: steps.target === "mp4" ? "video/mp4" : "video/webm",
        extension: steps.target,
      },
      poster: { data: poster.data, width: poster.width, height: poster.height },
      method: steps.copyVideo ? "copied" : "re-encoded",
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** A WebP poster from the cleaned video (upright, as players show it), with its blurhash. */
async function makePoster(
  binary: string,
  target: "mp4" | "webm",
  file: string,
  duration: number,
  limits: VideoLimits,
) {
  const seconds = 30 * limits.timeScale;
  const frameAt = async (at: number) => {
    const result = await runFfmpeg(
      binary,
      [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-max_alloc",
        String(MAX_ALLOC),
        "-threads",
        "2",
        ...(at > 0 ? ["-ss", String(at)] : []),
        "-protocol_whitelist",
        "file",
        "-f",
        target === "mp4" ? "mov" : "matroska",
        "-i",
        file,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        `scale=w='min(${POSTER_SIDE},iw)':h='min(${POSTER_SIDE},ih)':force_original_aspect_ratio=decrease`,
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "pipe:1",
      ],
      { timeoutMs: seconds * 1000, memoryBytes: limits.memoryBytes, stdoutBytes: POSTER_PNG_BYTES },
    );
    if (result.timedOut) throw failure(result, seconds);
    return result.code === 0 ? result.stdout : Buffer.alloc(0);
  };
  let png = duration >= 2 ? await frameAt(1) : Buffer.alloc(0);
  if (png.length === 0) png = await frameAt(0);
  if (png.length === 0) throw new MediaRefused("No frame of the video could be decoded");
  const poster = await sharp(png).webp({ quality: 80, effort: 3 }).toBuffer({
    resolveWithObject: true,
  });
  const tiny = await sharp(png)
    .resize({ width: 32, height: 32, fit: "inside" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: poster.data,
    width: poster.info.width,
    height: poster.info.height,
    blurhash: encode(new Uint8ClampedArray(tiny.data), tiny.info.width, tiny.info.height, 4, 3),
  };
}
