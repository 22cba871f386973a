/**
 * Clique's own report endpoints, under `/api/v1/clique/reports`: what a member
 * sees of the reports they filed, and what Mastodon's admin API has no word
 * for (dismissing, forwarding). Strict like the rest of Clique's API.
 */
import { MAX_ACTION_TEXT, REPORT_STATES } from "@clique/moderation";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { pageSchema, readBody, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { setPaginationLinks } from "../mastodon/render.ts";
import { renderAdminReports, renderOwnReports } from "../mastodon/report-serializers.ts";

/** Mounted at `/api/v1/clique/reports`. */
export const cliqueReportsApi = new Hono<AppEnv>();

// The member's own reports: what became of them (never who handled them, or how).
cliqueReportsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const q = validate(pageSchema.extend({ state: z.enum(REPORT_STATES).optional() }), readQuery(c));
  const reports = await moderation.reports.listOwn(member, { ...toPage(q), state: q.state });
  setPaginationLinks(c, reports);
  return c.json(await renderOwnReports(c, reports));
});

cliqueReportsApi.get("/:id", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const report = await moderation.reports.getOwn(member, c.req.param("id"));
  if (!report) throw notFound();
  const [rendered] = await renderOwnReports(c, [report]);
  return c.json(rendered);
});

cliqueReportsApi.post("/:id/dismiss", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const input = validate(
    z
      .object({
        reason: z
          .string()
          .max(MAX_ACTION_TEXT * 4)
          .optional(),
      })
      .strict(),
    await readBody(c),
  );
  const result = await moderation.reports.step(
    member,
    c.req.param("id"),
    "dismiss",
    input.reason ?? "",
  );
  if (!result.ok) throw problem(result.reason, result.detail);
  const [report] = await renderAdminReports(c, [result.value]);
  return c.json(report);
});

// To the reported account's server, from the instance actor; the comment only if asked.
cliqueReportsApi.post("/:id/forward", async (c) => {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const input = validate(
    z.object({ include_comment: z.boolean().optional() }).strict(),
    await readBody(c),
  );
  const result = await moderation.reports.forward(member, c.req.param("id"), {
    includeComment: input.include_comment ?? false,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const [report] = await renderAdminReports(c, [result.value]);
  return c.json(report);
});
