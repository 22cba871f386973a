/**
 * An uploaded image made safe to serve, with sharp. The type comes from the
 * bytes (sharp's own detection), never from the file's name or the client's
 * word for it. The picture is turned upright from its EXIF orientation, then
 * re-encoded without any of its metadata (EXIF, GPS, XMP, IPTC; colours
 * converted to sRGB): nothing of the original file is ever served. Images
 * with more pixels than the limit (decompression bombs) and damaged or
 * truncated files are refused before they are decoded in full.
 */
import { encode } from "blurhash";
import sharp, { type Metadata, type Sharp } from "sharp";

/** An upload processing refuses for good (its message is for the member). */
export class MediaRefused extends Error {
  override name = "MediaRefused";
}

/** Formats taken in, as sharp names what it finds in the bytes. */
const ACCEPTED = new Set(["jpeg", "png", "webp", "gif", "heif"]);

/** Sizes made of every image: the display size, and a small preview. */
export const DISPLAY_SIDE = 1920;
export const SMALL_SIDE = 480;

/** A processed image: two WebP files and what describes them. */
export interface ProcessedImage {
  width: number;
  height: number;
  blurhash: string;
  display: { data: Buffer; width: number; height: number };
  small: { data: Buffer; width: number; height: number };
}

/** An image whose header Clique accepted, ready to decode. */
interface OpenedImage {
  meta: Metadata;
  animated: boolean;
  /** A pipeline over the whole image, turned upright (the orientation tag goes with the rest). */
  load(): Sharp;
}

/**
 * Reads an image's header and refuses what Clique does not take (another
 * format, HEIC, more pixels than `maxPixels`) before anything is decoded.
 * `animation`: keep a GIF's frames (else only the first is read).
 */
async function openImage(
  file: string,
  maxPixels: number,
  animation: boolean,
): Promise<OpenedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw new MediaRefused("This is not an image Clique can read (JPEG, PNG, WebP, AVIF or GIF)");
  }
  if (!meta.format || !ACCEPTED.has(meta.format))
    throw new MediaRefused(
      `${meta.format ? `${meta.format.toUpperCase()} files are` : "This file is"} not taken: send a JPEG, PNG, WebP, AVIF or GIF image`,
    );
  if (meta.format === "heif" && meta.compression !== "av1")
    throw new MediaRefused("HEIC photos cannot be read here yet: send them as JPEG");
  const pixels = (meta.width ?? 0) * ((meta.pageHeight ?? meta.height) || 0);
  if (pixels > maxPixels)
    throw new MediaRefused(
      `The image has ${pixels} pixels; at most ${maxPixels} are taken (${meta.width}×${meta.height})`,
    );
  const animated = animation && meta.format === "gif" && (meta.pages ?? 1) > 1;
  return {
    meta,
    animated,
    // Upright by its EXIF orientation; no metadata is written back (sharp's default).
    load: () =>
      sharp(file, { limitInputPixels: maxPixels, failOn: "truncated", animated }).rotate(),
  };
}

/** Runs the decoding work, turning libvips' word for a damaged file or a bomb into `MediaRefused`. */
async function decoding<T>(maxPixels: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = String((error as Error).message ?? error);
    if (/truncated|premature end|unexpected end|corrupt|bad|invalid|read error/i.test(message))
      throw new MediaRefused("The image is damaged or incomplete");
    if (/pixel limit/i.test(message))
      throw new MediaRefused(`The image has more than ${maxPixels} pixels`);
    throw error;
  }
}

/**
 * Processes the image in `file`. Throws `MediaRefused` for files that are
 * not an image Clique takes, too large, damaged or truncated.
 */
export async function processImage(file: string, maxPixels: number): Promise<ProcessedImage> {
  const { meta, animated, load } = await openImage(file, maxPixels, true);
  return decoding(maxPixels, async () => {
    const display = await load()
      .resize({
        width: DISPLAY_SIDE,
        height: DISPLAY_SIDE,
        fit: "inside",
        withoutEnlargement: true,
      })
      // WebP, not AVIF: at the same SSIM, AVIF saves 15-25% of the bytes but
      // takes 4 (effort 2) to 40 (effort 4) times as long to encode here (npm run bench:media).
      .webp({ quality: 82, effort: 3 })
      .toBuffer({ resolveWithObject: true });
    const small = await sharp(display.data, { animated })
      .resize({ width: SMALL_SIDE, height: SMALL_SIDE, fit: "inside", withoutEnlargement: true })
      .webp({ quality: 72, effort: 3 })
      .toBuffer({ resolveWithObject: true });
    const tiny = await sharp(small.data)
      .resize({ width: 32, height: 32, fit: "inside" })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const upright = (meta.orientation ?? 1) >= 5;
    return {
      width: (upright ? meta.height : meta.width) ?? display.info.width,
      height: (upright ? meta.width : (meta.pageHeight ?? meta.height)) ?? display.info.height,
      blurhash: encode(new Uint8ClampedArray(tiny.data), tiny.info.width, tiny.info.height, 4, 3),
      display: {
        data: display.data,
        width: display.info.width,
        height: display.info.pageHeight ?? display.info.height,
      },
      small: {
        data: small.data,
        width: small.info.width,
        height: small.info.pageHeight ?? small.info.height,
      },
    };
  });
}

/** Sizes of profile images, as Mastodon makes them. */
export const PROFILE_IMAGE_SIZES = {
  avatar: { width: 400, height: 400 },
  header: { width: 1500, height: 500 },
} as const;

/**
 * An avatar or header: the same checks and clean re-encoding as `processImage`,
 * cropped to fill exactly `size` around the centre (smaller pictures are
 * enlarged), as one WebP still (an animated GIF gives its first frame).
 */
export async function processProfileImage(
  file: string,
  maxPixels: number,
  size: { width: number; height: number },
): Promise<{ data: Buffer; width: number; height: number }> {
  const { load } = await openImage(file, maxPixels, false);
  return decoding(maxPixels, async () => {
    const { data, info } = await load()
      .resize({ width: size.width, height: size.height, fit: "cover", position: "centre" })
      .webp({ quality: 85, effort: 4 })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  });
}
