/**
 * Request bodies and query strings to plain objects, then through a zod
 * schema. Mastodon clients send JSON, form-urlencoded or multipart bodies and
 * encode arrays as `key[]`; all are accepted.
 */
import { type AudienceRef, CliqueError, isId, PART_AUDIENCES } from "@clique/core";
import type { Context } from "hono";
import { z } from "zod";

function addField(target: Record<string, unknown>, rawKey: string, value: unknown): void {
  // `fields_attributes[0][name]=x` → { fields_attributes: { "0": { name: "x" } } }
  const parts = rawKey.replace(/\]/g, "").split("[");
  let node = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const next = parts[i + 1]!;
    if (next === "") {
      const list = Array.isArray(node[part]) ? (node[part] as unknown[]) : [];
      list.push(value);
      node[part] = list;
      return;
    }
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Reads the body as a plain object; unparseable bodies are a clear 422/400. */
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
    return parsed as Record<string, unknown>;
  }
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    const form = await c.req.formData().catch(() => {
      throw new CliqueError("invalid_input", "The form body could not be read");
    });
    const out: Record<string, unknown> = {};
    for (const [key, value] of form.entries()) addField(out, key, value);
    return out;
  }
  const text = await c.req.text();
  if (text.trim() === "") return {};
  throw new CliqueError("invalid_input", "Send JSON (application/json) or a form");
}

/** The query string as an object (repeated `key[]` become arrays). */
export function readQuery(c: Context): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URL(c.req.url).searchParams.entries()) addField(out, key, value);
  return out;
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
