import { z } from "zod";

/** Durations like `30m`, `12h`, `7d`, `2w` (or plain seconds) to seconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,7})\s*([smhdw]?)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[
    m[2] as "" | "s" | "m" | "h" | "d" | "w"
  ];
  return n * unit;
}

/** A duration given as seconds or text like `7d`. */
export const durationSchema = z
  .union([z.number().int().positive(), z.string()])
  .transform((v, ctx) => {
    const seconds = typeof v === "number" ? v : parseDuration(v);
    if (seconds === null) {
      ctx.addIssue({ code: "custom", message: "use seconds or a duration like 30m, 12h, 7d, 2w" });
      return z.NEVER;
    }
    return seconds;
  });
