/**
 * The ffmpeg that ships inside the `@ffmpeg-installer` npm package (a static
 * build for this platform; nothing is downloaded at install or run time), run
 * as a child process with its arguments as an array — never through a shell —
 * under a wall-clock limit (killed when it is reached) and a CPU-time limit
 * (`-timelimit`, which outlives this process), an address-space limit
 * (`prlimit`, where the machine has it) and a cap on what it may print.
 * What `ffmpeg -i` prints is parsed for the streams, since the package has
 * no ffprobe.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

let located: string | null | undefined;

/** Where the ffmpeg binary is, or `null` when the package has none for this platform. */
export function ffmpegPath(): string | null {
  if (located !== undefined) return located;
  try {
    // The package throws (a string) on platforms it has no binary for: load it lazily.
    const found = createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path?: unknown };
    located = typeof found.path === "string" && existsSync(found.path) ? found.path : null;
  } catch {
    located = null;
  }
  return located;
}

const PRLIMIT = ["/usr/bin/prlimit", "/bin/prlimit"].find((p) => existsSync(p)) ?? null;

/** How long a run may take and how much it may use. */
export interface RunLimits {
  timeoutMs: number;
  /** Address space of the process, where `prlimit` exists (a bound above its peak RSS). */
  memoryBytes: number;
  /** Most bytes kept from stdout; past it the run is killed. Default 0: stdout is ignored. */
  stdoutBytes?: number;
}

/** How a run ended. */
export interface RunResult {
  /** Exit code, `null` when killed by a signal. */
  code: number | null;
  timedOut: boolean;
  /** Killed because stdout grew past `stdoutBytes`. */
  overflowed: boolean;
  stdout: Buffer;
  /** The first 256 KiB of stderr (the stream listing is at its start). */
  stderr: string;
}

const STDERR_KEPT = 256 * 1024;

/** Runs ffmpeg with `args` (no shell), within `limits`. Rejects only when it cannot be started. */
export function runFfmpeg(binary: string, args: readonly string[], limits: RunLimits) {
  // A CPU-time limit too (two threads' worth of the wall-clock one), which the
  // kernel enforces even if this process dies and leaves ffmpeg behind.
  const cpuSeconds = Math.ceil((limits.timeoutMs / 1000) * 2) + 5;
  const full = ["-timelimit", String(cpuSeconds), ...args];
  const [command, argv] = PRLIMIT
    ? [PRLIMIT, [`--as=${limits.memoryBytes}`, "--core=0", "--", binary, ...full]]
    : [binary, full];
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, argv, {
      stdio: ["ignore", limits.stdoutBytes ? "pipe" : "ignore", "pipe"],
      shell: false,
      windowsHide: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = "";
    let timedOut = false;
    let overflowed = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limits.timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > (limits.stdoutBytes ?? 0)) {
        overflowed = true;
        child.kill("SIGKILL");
      } else out.push(chunk);
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.slice(0, STDERR_KEPT - stderr.length);
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, overflowed, stdout: Buffer.concat(out), stderr });
    });
  });
}

/** One stream, as `ffmpeg -i` lists it. */
export interface ProbedStream {
  index: number;
  type: "video" | "audio" | "other";
  /** ffmpeg's codec name (`h264`, `hevc`, `vp9`, `aac`, `opus`...). */
  codec: string;
  /** For video: `yuv420p`, `yuv420p10le`..., or `null` when not listed. */
  pixelFormat: string | null;
  /** Coded size, for video. */
  width: number | null;
  height: number | null;
  /** Cover art in a video's container, not the video. */
  attachedPicture: boolean;
  /** Degrees of the display matrix (a phone held upright records a 90° one). */
  rotation: number;
}

/** What `ffmpeg -i` said about a file. */
export interface Probe {
  /** Seconds, `null` when the container does not say (a browser's MediaRecorder WebM). */
  duration: number | null;
  streams: ProbedStream[];
}

/** Splits at commas outside parentheses and brackets. */
function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(" || char === "[") depth++;
    else if ((char === ")" || char === "]") && depth > 0) depth--;
    if (char === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += char;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/**
 * Reads the listing `ffmpeg -i FILE` prints for input 0, or `null` when ffmpeg
 * could not open it. Lines are matched at their exact indentation: ffmpeg
 * prints a metadata value's line breaks as indented continuations, so a title
 * cannot pose as a stream.
 */
export function parseProbe(stderr: string): Probe | null {
  const lines = stderr.split(/\r?\n/);
  if (!lines.some((line) => /^Input #0, /.test(line))) return null;
  let duration: number | null = null;
  const streams: ProbedStream[] = [];
  for (const line of lines) {
    if (/^Input #[1-9]/.test(line) || /^Output #/.test(line)) break;
    const time = /^ {2}Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?),/.exec(line);
    if (time) {
      duration = Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]);
      continue;
    }
    const stream = /^ {4}Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (\w+): (.*)$/.exec(line);
    if (stream) {
      const parts = topLevelParts(stream[3]!);
      const kind = stream[2]!.toLowerCase();
      const size = parts.map((p) => /^(\d+)x(\d+)(?:\s|$)/.exec(p)).find(Boolean);
      const pixel = kind === "video" ? /^([a-z][a-z0-9_]*)(?:\(|$)/.exec(parts[1] ?? "") : null;
      streams.push({
        index: Number(stream[1]),
        type: kind === "video" ? "video" : kind === "audio" ? "audio" : "other",
        codec: (parts[0] ?? "").split(/\s/)[0] ?? "",
        pixelFormat: pixel ? pixel[1]! : null,
        width: size ? Number(size[1]) : null,
        height: size ? Number(size[2]) : null,
        attachedPicture: /\(attached pic\)/.test(stream[3]!),
        rotation: 0,
      });
      continue;
    }
    const matrix = /^ {6}displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(line);
    const last = streams.at(-1);
    if (matrix && last) last.rotation = Number(matrix[1]);
  }
  return { duration, streams };
}
