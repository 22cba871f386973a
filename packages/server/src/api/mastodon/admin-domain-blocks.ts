/**
 * Mastodon's admin domain blocks API (`/api/v1/admin/domain_blocks`), so that
 * moderation apps can block and limit servers. Mastodon's severities map to
 * Clique's: `suspend` is a block, `silence` a limit, `noop` a note.
 *
 * What does not fit: Clique does not reject only a server's media or only its
 * reports (`reject_media`, `reject_reports`): a block rejects everything, so
 * they read `true` for a block and `false` otherwise, and asking for them on
 * anything but a block is refused. `obfuscate` is accepted and read back
 * `false`: Clique never publishes its blocks, obfuscated or not.
 */
import { createHash } from "node:crypto";
import { type DomainBlock, type DomainSeverity, normalizeDomain } from "@clique/core";
import { MAX_REMOTE_REASON } from "@clique/moderation";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { looseBoolean, looseInt, readBody, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";

const TO_CLIQUE = { suspend: "block", silence: "limit", noop: "noop" } as const;
const TO_MASTODON: Record<DomainSeverity, keyof typeof TO_CLIQUE> = {
  block: "suspend",
  limit: "silence",
  noop: "noop",
};

/** Mastodon's `Admin::DomainBlock` entity. */
function serialize(block: DomainBlock) {
  return {
    id: block.id,
    domain: block.domain,
    digest: createHash("sha256").update(block.domain).digest("hex"),
    created_at: block.createdAt.toISOString(),
    severity: TO_MASTODON[block.severity],
    reject_media: block.severity === "block",
    reject_reports: block.severity === "block",
    private_comment: block.reason === "" ? null : block.reason,
    public_comment: block.publicComment === "" ? null : block.publicComment,
    obfuscate: false,
  };
}

const fields = {
  severity: z.enum(["silence", "suspend", "noop"]).optional(),
  reject_media: looseBoolean.optional(),
  reject_reports: looseBoolean.optional(),
  private_comment: z.string().max(MAX_REMOTE_REASON).nullable().optional(),
  public_comment: z.string().max(MAX_REMOTE_REASON).nullable().optional(),
  obfuscate: looseBoolean.optional(),
};

/** Refuses what Clique cannot do: rejecting media or reports without blocking. */
function checkRejections(
  severity: DomainSeverity,
  input: { reject_media?: boolean | undefined; reject_reports?: boolean | undefined },
): void {
  if (severity !== "block" && (input.reject_media || input.reject_reports))
    throw problem(
      "unsupported_rejection",
      "Clique rejects a server's media and reports only by blocking it: use severity suspend",
    );
}

/** The block with this id, if the caller may see blocks; else the refusal. */
async function blockById(c: Context<AppEnv>): Promise<DomainBlock> {
  const member = requireMember(c);
  const result = await c.get("services").moderation.remote.getDomain(member, c.req.param("id")!);
  if (!result.ok) throw result.reason === "not_found" ? notFound() : problem(result.reason);
  return result.value;
}

/** `/api/v1/admin/domain_blocks`: admins and owners. */
export const adminDomainBlocksApi = new Hono<AppEnv>();

adminDomainBlocksApi.get("/", async (c) => {
  const member = requireMember(c);
  const q = validate(
    z.object({ limit: looseInt.pipe(z.number().int().min(1)).optional() }).passthrough(),
    readQuery(c),
  );
  const result = await c.get("services").moderation.remote.listDomains(member);
  if (!result.ok) throw problem(result.reason);
  // Newest first, as Mastodon lists them; a Clique's list is short, so one page holds it.
  const blocks = [...result.value].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return c.json(blocks.slice(0, Math.min(q.limit ?? 100, 200)).map(serialize));
});

adminDomainBlocksApi.get("/:id", async (c) => c.json(serialize(await blockById(c))));

adminDomainBlocksApi.post("/", async (c) => {
  const member = requireMember(c);
  const input = validate(
    z.object({ domain: z.string().min(1).max(300), ...fields }).passthrough(),
    await readBody(c),
  );
  const severity = TO_CLIQUE[input.severity ?? "silence"];
  checkRejections(severity, input);
  const { moderation } = c.get("services");
  // Mastodon refuses a second block of a domain (changes go through PUT).
  const allowed = await moderation.remote.listDomains(member);
  if (!allowed.ok) throw problem(allowed.reason);
  const domain = normalizeDomain(input.domain);
  const existing = allowed.value.find((b) => b.domain === domain);
  if (existing)
    throw problem("existing_domain_block", `${existing.domain} is already blocked or limited`);
  const result = await moderation.remote.decideDomain(member, {
    domain: input.domain,
    severity,
    reason: input.private_comment ?? "",
    ...(input.public_comment ? { publicComment: input.public_comment } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(serialize(result.value.block));
});

adminDomainBlocksApi.put("/:id", async (c) => {
  const member = requireMember(c);
  const input = validate(z.object(fields).passthrough(), await readBody(c));
  const current = await blockById(c);
  const severity = input.severity ? TO_CLIQUE[input.severity] : current.severity;
  checkRejections(severity, input);
  const result = await c.get("services").moderation.remote.decideDomain(member, {
    domain: current.domain,
    severity,
    reason: input.private_comment === undefined ? current.reason : (input.private_comment ?? ""),
    publicComment:
      input.public_comment === undefined ? current.publicComment : (input.public_comment ?? ""),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json(serialize(result.value.block));
});

adminDomainBlocksApi.delete("/:id", async (c) => {
  const member = requireMember(c);
  const current = await blockById(c);
  const result = await c.get("services").moderation.remote.liftDomain(member, current.domain);
  if (!result.ok) throw result.reason === "not_found" ? notFound() : problem(result.reason);
  return c.json({});
});
