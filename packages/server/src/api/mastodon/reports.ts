/**
 * Reports: Mastodon's `POST /api/v1/reports` for members, and its admin API
 * (`/api/v1/admin/reports`) so moderation apps can work the queue. Moderation
 * (`@clique/moderation`) decides everything; this only reads and writes JSON.
 */
import { isId } from "@clique/core";
import {
  MAX_ACTION_TEXT,
  MAX_REPORTED_POSTS,
  REPORT_CATEGORIES,
  REPORT_STATES,
  type ReportStep,
} from "@clique/moderation";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import {
  looseBoolean,
  pageSchema,
  readBody,
  readQuery,
  toPage,
  validate,
} from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";
import { setPaginationLinks } from "./render.ts";
import { renderAdminReports, renderOwnReports } from "./report-serializers.ts";

/** A list as forms send it (`status_ids[]=…`, or one value). */
const idList = (max: number) =>
  z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(z.string().max(64)).max(max));

// Mastodon's fields; anything else a client sends is ignored, as Mastodon does.
const reportSchema = z.object({
  account_id: z.string().max(64),
  status_ids: idList(MAX_REPORTED_POSTS).optional(),
  comment: z.string().max(10_000).optional(),
  category: z.enum(REPORT_CATEGORIES).optional(),
  forward: looseBoolean.optional(),
  // Accepted and left aside: a moderator decides where a report goes, and Clique has no rules list.
  forward_to_domains: idList(20).optional(),
  rule_ids: idList(50).optional(),
});

/** `POST /api/v1/reports`. */
export const reportsApi = new Hono<AppEnv>();

reportsApi.post("/", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const input = validate(reportSchema, await readBody(c));
  const result = await moderation.reports.file(member, {
    accountId: input.account_id,
    statusIds: input.status_ids ?? [],
    comment: input.comment ?? "",
    ...(input.category ? { category: input.category } : {}),
    forward: input.forward ?? false,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const [report] = await renderOwnReports(c, [result.value]);
  return c.json(report);
});

/** `/api/v1/admin/reports`: the queue, for moderators and up. */
export const adminReportsApi = new Hono<AppEnv>();

const listSchema = pageSchema.extend({
  resolved: looseBoolean.optional(),
  account_id: z.string().refine(isId, "not a valid id").optional(),
  target_account_id: z.string().refine(isId, "not a valid id").optional(),
  // Clique extension: one state (Mastodon's `resolved` cannot tell resolved from dismissed).
  state: z.enum(REPORT_STATES).optional(),
});

adminReportsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const q = validate(listSchema, readQuery(c));
  const result = await moderation.reports.list(member, {
    ...toPage(q, { limit: 100, max: 200 }),
    state: q.state,
    closed: q.resolved,
    reporterMemberId: q.account_id,
    targetAccountId: q.target_account_id,
  });
  if (!result.ok) throw problem(result.reason);
  setPaginationLinks(c, result.value);
  return c.json(await renderAdminReports(c, result.value));
});

adminReportsApi.get("/:id", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const result = await moderation.reports.get(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  const [report] = await renderAdminReports(c, [result.value]);
  return c.json(report);
});

const resolveSchema = z.object({
  // Clique extension: what was done (Mastodon's apps send nothing).
  action_taken_comment: z
    .string()
    .max(MAX_ACTION_TEXT * 4)
    .optional(),
});

for (const [path, step] of [
  ["assign_to_self", "assign"],
  ["unassign", "unassign"],
  ["resolve", "resolve"],
  ["reopen", "reopen"],
] as const satisfies readonly (readonly [string, ReportStep])[]) {
  adminReportsApi.post(`/:id/${path}`, async (c) => {
    const member = requireMember(c);
    const { moderation } = c.get("services");
    const text =
      step === "resolve"
        ? (validate(resolveSchema, await readBody(c)).action_taken_comment ?? "")
        : "";
    const result = await moderation.reports.step(member, c.req.param("id"), step, text);
    if (!result.ok) throw problem(result.reason, result.detail);
    const [report] = await renderAdminReports(c, [result.value]);
    return c.json(report);
  });
}
