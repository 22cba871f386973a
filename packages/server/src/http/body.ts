/**
 * Request bodies and query strings to plain objects, then through a zod
 * schema. Mastodon clients send JSON, form-urlencoded or multipart bodies and
 * encode arrays as `key[]` and lists of objects as `key[0][name]`; all are
 * accepted. Forms and query strings go through `qs` (its prototype guard on);
 * every parser then refuses what no client sends on purpose and what must not
 * reach the database: `__proto__`/`constructor`/`prototype` keys, NUL bytes and
 * lone UTF-16 surrogates, and absurd nesting.
 */
import { type AudienceRef, CliqueError, isId, PART_AUDIENCES } from "@clique/core";
import type { Context } from "hono";
import qs from "qs";
import { z } from "zod";

/** Keys that reach `Object.prototype` or a constructor when a parser or a merge walks them. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
/** A forbidden key as one segment of a bracketed form key (`a[__proto__][b]`, `constructor.x`). */
const FORBIDDEN_SEGMENT = /(?:^|[[\].])(?:__proto__|constructor|prototype)(?:$|[[\].])/;

/** Deepest nesting a JSON body may have; Mastodon's deepest is `key[0][name]`. */
const MAX_DEPTH = 8;
/** Form and query limits, handed to qs (and the parameter count checked here). */
const PARAMETER_LIMIT = 1000;
const QS_OPTIONS: qs.IParseOptions = {
  depth: 5,
  strictDepth: true,
  // The longest list any route takes is a circle's 500 members.
  arrayLimit: 500,
  parameterLimit: PARAMETER_LIMIT,
  throwOnLimitExceeded: true,
  allowPrototypes: false,
  duplicates: "combine",
};

/** Where a value came from, for the error message. */
type Origin = "field" | "query parameter";

function refuse(origin: Origin, name: string, problem: string): never {
  const what =
    name === "" ? `The ${origin === "field" ? "body" : "query"}` : `The ${origin} "${name}"`;
  throw new CliqueError("invalid_input", `${what} ${problem}`);
}

/** Why a string cannot be stored (PostgreSQL refuses NUL; lone surrogates are not text), or null. */
function badText(text: string): string | null {
  if (text.includes("\0")) return "contains a NUL character (U+0000), which is not allowed";
  if (!text.isWellFormed()) return "contains an unpaired UTF-16 surrogate, which is not valid text";
  return null;
}

/** A key as people read it in a message: safe to print even when it is the problem. */
function printable(key: string): string {
  return key.replace(/\0/g, "\\0").toWellFormed().slice(0, 100);
}

function checkKey(origin: Origin, path: string, key: string): void {
  const bad = badText(key);
  if (bad)
    refuse(origin, printable(path === "" ? key : `${path}.${key}`), `has a name that ${bad}`);
  if (FORBIDDEN_KEYS.has(key) || FORBIDDEN_SEGMENT.test(key))
    refuse(origin, printable(path === "" ? key : `${path}.${key}`), "is not allowed");
}

/**
 * Walks a parsed value and throws a 422 naming the first field that is a
 * forbidden key, holds NUL or a lone surrogate, or nests too deeply.
 * Iterative, so a hostile body cannot exhaust the stack.
 */
export function checkInput(value: unknown, origin: Origin = "field"): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  while (stack.length > 0) {
    const { value: node, path, depth } = stack.pop()!;
    if (typeof node === "string") {
      const bad = badText(node);
      if (bad) refuse(origin, path, bad);
    } else if (typeof File !== "undefined" && node instanceof File) {
      const bad = badText(node.name);
      if (bad) refuse(origin, path, `has a file name that ${bad}`);
    } else if (typeof node === "object" && node !== null) {
      if (depth >= MAX_DEPTH) refuse(origin, path, `is nested more than ${MAX_DEPTH} levels deep`);
      for (const key of Object.keys(node)) {
        if (!Array.isArray(node)) checkKey(origin, path, key);
        const child = (node as Record<string, unknown>)[key];
        stack.push({ value: child, path: path === "" ? key : `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
}

/**
 * Flat form pairs (`fields_attributes[0][name]` → `x`) to nested objects, with
 * qs. Keys are checked before qs sees them, so a hostile key is refused with a
 * clear message rather than silently dropped.
 */
function parseForm(
  pairs: Iterable<[string, FormDataEntryValue]>,
  origin: Origin,
): Record<string, unknown> {
  // Null prototype: a key such as `hasOwnProperty` is only a key here.
  const flat: Record<string, FormDataEntryValue | FormDataEntryValue[]> = Object.create(null);
  let count = 0;
  for (const [key, value] of pairs) {
    if (++count > PARAMETER_LIMIT)
      refuse(origin, "", `has more than ${PARAMETER_LIMIT} parameters`);
    checkKey(origin, "", key);
    const previous = flat[key];
    if (previous === undefined) flat[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else flat[key] = [previous, value];
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = qs.parse(flat as Record<string, string>, QS_OPTIONS);
  } catch (error) {
    const detail = error instanceof RangeError ? `: ${error.message}` : "";
    throw new CliqueError(
      "invalid_input",
      `The ${origin === "field" ? "form" : "query string"} could not be read${detail}`,
      { cause: error },
    );
  }
  checkInput(parsed, origin);
  return parsed;
}

/**
 * Text fields of a multipart form read elsewhere (streamed with its files:
 * `media/upload.ts`) as a plain object, by the same rules as `readBody`.
 */
export function readFormFields(
  pairs: Iterable<[string, FormDataEntryValue]>,
): Record<string, unknown> {
  return parseForm(pairs, "field");
}

/** Reads the body as a plain object; unparseable or hostile bodies are a clear 422. */
export async function readBody(c: Context): Promise<Record<string, unknown>> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.includes("application/json")) {
    let parsed: unknown;
    try {
      parsed = await c.req.json();
    } catch {
      throw new CliqueError("invalid_input", "The request body is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new CliqueError("invalid_input", "The request body must be a JSON object");
    checkInput(parsed);
    return parsed as Record<string, unknown>;
  }
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    const form = await c.req.formData().catch(() => {
      throw new CliqueError("invalid_input", "The form body could not be read");
    });
    return parseForm(form.entries(), "field");
  }
  const text = await c.req.text();
  if (text.trim() === "") return {};
  throw new CliqueError("invalid_input", "Send JSON (application/json) or a form");
}

/** The query string as an object (`key[]` become arrays); hostile queries are a 422. */
export function readQuery(c: Context): Record<string, unknown> {
  return parseForm(new URL(c.req.url).searchParams.entries(), "query parameter");
}

/**
 * The path, checked before any route sees its parameters: NUL bytes and lone
 * surrogates are refused for every route, the API's and Fedify's alike.
 */
export function checkPath(c: Context): void {
  for (const segment of new URL(c.req.url).pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      continue; // Not UTF-8: routers keep it as it is, which is harmless text.
    }
    const bad = badText(decoded);
    if (bad) throw new CliqueError("invalid_input", `The URL path ${bad}`);
  }
}

/** Validates with a schema; failures name the fields. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  throw new CliqueError("invalid_input", `Validation failed: ${details}`);
}

/** Booleans as clients send them: JSON booleans, or "true"/"false"/"1"/"0" in forms. */
export const looseBoolean = z.preprocess((v) => {
  if (typeof v === "string") {
    if (["true", "1", "on"].includes(v.toLowerCase())) return true;
    if (["false", "0", "off", ""].includes(v.toLowerCase())) return false;
  }
  return v;
}, z.boolean());

/** Integers that may arrive as strings. */
export const looseInt = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v),
  z.number().int(),
);

/** Mastodon pagination parameters. */
export const pageSchema = z.object({
  max_id: z.string().refine(isId, "not a valid id").optional(),
  since_id: z.string().refine(isId, "not a valid id").optional(),
  min_id: z.string().refine(isId, "not a valid id").optional(),
  limit: looseInt.pipe(z.number().int().min(1)).optional(),
});

/** Turns pagination parameters into a store page (limits clamped like Mastodon). */
export function toPage(q: z.infer<typeof pageSchema>, defaults = { limit: 20, max: 40 }) {
  return {
    maxId: q.max_id,
    sinceId: q.since_id,
    minId: q.min_id,
    limit: Math.min(q.limit ?? defaults.limit, defaults.max),
  };
}

/** A part audience as clients send it: `"followers"`, or `{ "audience": "circle", "circle_id": "…" }`. */
export const audienceRefSchema = z.union([
  z.enum(PART_AUDIENCES),
  z
    .object({
      audience: z.enum(PART_AUDIENCES),
      circle_id: z.string().refine(isId, "not a valid id").nullish(),
    })
    .strict(),
]);

/** An audience reference in core's terms; omitted means everyone. */
export function toRef(value: z.infer<typeof audienceRefSchema> | undefined): AudienceRef {
  if (value === undefined) return { audience: "public" };
  if (typeof value === "string") return { audience: value };
  return { audience: value.audience, circleId: value.circle_id ?? null };
}
