/**
 * Benchmark: photos through the media pipeline on this machine.
 *
 *   npm run bench:media     (BENCH_IMAGES=8 photos, BENCH_COMPARED=2 for the formats)
 *
 * 1. Makes BENCH_IMAGES 12-megapixel JPEGs (4000×3000) with sharp: smooth
 *    colour fields, mid-scale detail and per-pixel grain, at quality 90 with
 *    camera and GPS EXIF, so they weigh what a phone's photo weighs (3-6 MB).
 * 2. `processImage` (what the `media` job runs: upright, metadata stripped,
 *    WebP display 1920 and small 480, blurhash) over all of them, one at a
 *    time and two at a time, each run in a fresh child process whose peak RSS
 *    (VmHWM) is read at its end: images per second and peak RSS.
 *    Also `processProfileImage` (an avatar and a header per photo).
 * 3. The display variant, WebP as today (quality 82, effort 3) against AVIF at
 *    several qualities and efforts: encode time, bytes, and SSIM (8×8 windows,
 *    luma) against the resized picture they encode, so that sizes are compared
 *    at the quality they keep.
 *
 * Prints the figures; nothing here asserts a timing. The machine may be
 * shared: run it more than once.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import sharp, { type Sharp } from "sharp";
import {
  DISPLAY_SIDE,
  PROFILE_IMAGE_SIZES,
  processImage,
  processProfileImage,
} from "../../packages/server/src/media/process-image.ts";

const IMAGES = Number(process.env.BENCH_IMAGES ?? 8);
/** Photos the formats are compared on (AVIF at effort 4 takes seconds each). */
const COMPARED = Number(process.env.BENCH_COMPARED ?? 2);
const WIDTH = 4000;
const HEIGHT = 3000;
/** The server's default CLIQUE_IMAGE_MAX_PIXELS. */
const MAX_PIXELS = 50_000_000;

// ------------------------------------------------------------------ child: one timed run

interface RunResult {
  seconds: number;
  images: number;
  /** Peak resident set of the whole process, in MiB. */
  peakRssMiB: number;
  /** Resident set before the first image, in MiB (Node, sharp and libvips loaded). */
  startRssMiB: number;
}

async function childRun(
  mode: "attachment" | "profile",
  concurrency: number,
  files: string[],
): Promise<RunResult> {
  // Load libvips before measuring the baseline.
  await sharp({ create: { width: 8, height: 8, channels: 3, background: "white" } })
    .png()
    .toBuffer();
  const startRssMiB = process.memoryUsage().rss / 2 ** 20;
  const queue = [...files];
  const started = performance.now();
  const work = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      if (mode === "attachment") await processImage(file, MAX_PIXELS);
      else {
        await processProfileImage(file, MAX_PIXELS, PROFILE_IMAGE_SIZES.avatar);
        await processProfileImage(file, MAX_PIXELS, PROFILE_IMAGE_SIZES.header);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  const seconds = (performance.now() - started) / 1000;
  const peakRssMiB = await peakRss();
  return { seconds, images: files.length, peakRssMiB, startRssMiB };
}

/**
 * This process's peak resident set, in MiB: Linux's VmHWM, which starts anew
 * with the process image (getrusage's maxrss would carry the parent's peak
 * over the fork), else Node's own word.
 */
async function peakRss(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kib = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kib ? Number(kib) / 1024 : process.resourceUsage().maxRSS / 1024;
}

if (process.argv[2] === "--child") {
  const [, , , mode, concurrency, ...files] = process.argv;
  const result = await childRun(mode as "attachment" | "profile", Number(concurrency), files);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

// ------------------------------------------------------------------ photos

/** Random bytes stretched to the whole picture: smooth fields at `cells`, detail where small. */
async function layer(cellsX: number, cellsY: number): Promise<Buffer> {
  return sharp(randomBytes(cellsX * cellsY * 3), {
    raw: { width: cellsX, height: cellsY, channels: 3 },
  })
    .resize(WIDTH, HEIGHT, { kernel: "cubic" })
    .raw()
    .toBuffer();
}

/** A 12-megapixel JPEG that compresses like a photo: colour fields, detail, grain, EXIF. */
async function photo(): Promise<Buffer> {
  const [fields, detail] = await Promise.all([layer(40, 30), layer(800, 600)]);
  const grain = randomBytes(WIDTH * HEIGHT * 3);
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let i = 0; i < pixels.length; i++) {
    const value = fields[i]! * 0.75 + (detail[i]! - 128) * 0.35 + ((grain[i]! & 31) - 16) + 32;
    pixels[i] = Math.max(0, Math.min(255, value));
  }
  return sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .withExif({
      IFD0: { Make: "BenchCam", Model: "Twelve" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 2964/100" },
    })
    .jpeg({ quality: 90 })
    .toBuffer();
}

// ------------------------------------------------------------------ WebP against AVIF

/** Mean SSIM of the luma of two same-sized RGB images, over 8×8 windows. */
function ssim(a: Buffer, b: Buffer, width: number, height: number): number {
  const luma = (p: Buffer, i: number) => 0.299 * p[i]! + 0.587 * p[i + 1]! + 0.114 * p[i + 2]!;
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  let windows = 0;
  for (let y = 0; y + 8 <= height; y += 8) {
    for (let x = 0; x + 8 <= width; x += 8) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let dy = 0; dy < 8; dy++) {
        for (let dx = 0; dx < 8; dx++) {
          const i = ((y + dy) * width + x + dx) * 3;
          const la = luma(a, i);
          const lb = luma(b, i);
          sa += la;
          sb += lb;
          saa += la * la;
          sbb += lb * lb;
          sab += la * lb;
        }
      }
      const ma = sa / 64;
      const mb = sb / 64;
      const va = saa / 64 - ma * ma;
      const vb = sbb / 64 - mb * mb;
      const cov = sab / 64 - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      windows++;
    }
  }
  return total / windows;
}

interface Encoding {
  name: string;
  encode(image: Sharp): Sharp;
}

const ENCODINGS: Encoding[] = [
  { name: "WebP q82 effort 3 (today)", encode: (s) => s.webp({ quality: 82, effort: 3 }) },
  { name: "WebP q75 effort 4", encode: (s) => s.webp({ quality: 75, effort: 4 }) },
  { name: "AVIF q50 effort 2", encode: (s) => s.avif({ quality: 50, effort: 2 }) },
  {
    name: "AVIF q50 effort 4 (sharp's default)",
    encode: (s) => s.avif({ quality: 50, effort: 4 }),
  },
  { name: "AVIF q60 effort 2", encode: (s) => s.avif({ quality: 60, effort: 2 }) },
  { name: "AVIF q60 effort 4", encode: (s) => s.avif({ quality: 60, effort: 4 }) },
  { name: "AVIF q45 effort 4", encode: (s) => s.avif({ quality: 45, effort: 4 }) },
];

async function compareFormats(files: string[]) {
  const rows = new Map<string, { ms: number[]; bytes: number[]; ssim: number[] }>();
  for (const file of files) {
    // The picture the display variant encodes: upright, 1920 on its long side.
    const { data: reference, info } = await sharp(file)
      .rotate()
      .resize({ width: DISPLAY_SIDE, height: DISPLAY_SIDE, fit: "inside" })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: 3 as const } };
    for (const encoding of ENCODINGS) {
      const started = performance.now();
      const encoded = await encoding.encode(sharp(reference, raw)).toBuffer();
      const ms = performance.now() - started;
      const decoded = await sharp(encoded).removeAlpha().raw().toBuffer();
      const row = rows.get(encoding.name) ?? { ms: [], bytes: [], ssim: [] };
      row.ms.push(ms);
      row.bytes.push(encoded.length);
      row.ssim.push(ssim(reference, decoded, info.width, info.height));
      rows.set(encoding.name, row);
    }
  }
  return rows;
}

// ------------------------------------------------------------------ main

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function runChild(mode: string, concurrency: number, files: string[]): Promise<RunResult> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", self, "--child", mode, String(concurrency), ...files],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout) as RunResult;
}

const dir = await mkdtemp(path.join(tmpdir(), "clique-media-bench-"));
try {
  console.log(
    `Media benchmark: ${IMAGES} photos of ${WIDTH}×${HEIGHT} (12 MP), libvips ${sharp.versions.vips}, ` +
      `sharp's threads ${sharp.concurrency()}, ${(await import("node:os")).availableParallelism()} cores`,
  );
  const files: string[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const jpeg = await photo();
    const file = path.join(dir, `photo-${i}.jpg`);
    await writeFile(file, jpeg);
    files.push(file);
    sizes.push(jpeg.length);
  }
  console.log(
    `Photos: JPEG quality 90, ${(mean(sizes) / 2 ** 20).toFixed(1)} MiB on average ` +
      `(${(Math.min(...sizes) / 2 ** 20).toFixed(1)}–${(Math.max(...sizes) / 2 ** 20).toFixed(1)} MiB)\n`,
  );

  console.log("processImage (the media job: display 1920 + small 480 WebP, blurhash)");
  for (const concurrency of [1, 2]) {
    // A warm-up photo first would be in the peak RSS; each run is a fresh process instead.
    const run = await runChild("attachment", concurrency, files);
    console.log(
      `  concurrency ${concurrency}: ${(run.images / run.seconds).toFixed(2)} images/s ` +
        `(${((run.seconds / run.images) * 1000).toFixed(0)} ms each on average), ` +
        `peak RSS ${run.peakRssMiB.toFixed(0)} MiB (${run.startRssMiB.toFixed(0)} MiB before the first)`,
    );
  }
  console.log("processProfileImage (an avatar 400×400 and a header 1500×500 per photo)");
  for (const concurrency of [1, 2]) {
    const run = await runChild("profile", concurrency, files);
    console.log(
      `  concurrency ${concurrency}: ${(run.images / run.seconds).toFixed(2)} photos/s ` +
        `(${((run.seconds / run.images / 2) * 1000).toFixed(0)} ms per picture), ` +
        `peak RSS ${run.peakRssMiB.toFixed(0)} MiB`,
    );
  }

  console.log("\nThe display variant (1920 on its long side), one encode at a time:");
  const rows = await compareFormats(files.slice(0, Math.min(COMPARED, files.length)));
  const today = rows.get(ENCODINGS[0]!.name)!;
  for (const [name, row] of rows) {
    console.log(
      `  ${name.padEnd(36)} ${mean(row.ms).toFixed(0).padStart(5)} ms  ` +
        `${(mean(row.bytes) / 1024).toFixed(0).padStart(5)} KiB  ` +
        `(${((mean(row.bytes) / mean(today.bytes)) * 100).toFixed(0)}% of today's)  SSIM ${mean(row.ssim).toFixed(4)}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
