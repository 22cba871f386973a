/**
 * Clique's own remote moderation API: decisions about other servers
 * (`/api/v1/clique/domains`, admins and owners) and about single remote
 * accounts (`/api/v1/clique/moderation/remote_accounts`, moderators and up).
 * Moderation (`@clique/moderation`) asks the permission table, has core
 * enforce the decision and writes the audit log; this only reads and writes
 * JSON. Strict, as Clique's API is: unknown fields are an error.
 */
import type { ActorSanction, DomainBlock } from "@clique/core";
import { MAX_REMOTE_REASON } from "@clique/moderation";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { readBody, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";
import { renderAccounts } from "../mastodon/render.ts";

/** A decision about a server, as Clique's API shows it. */
export function serializeDomainBlock(block: DomainBlock) {
  return {
    id: block.id,
    domain: block.domain,
    severity: block.severity,
    reason: block.reason,
    public_comment: block.publicComment,
    created_by: block.createdBy,
    created_at: block.createdAt.toISOString(),
    updated_at: block.updatedAt.toISOString(),
  };
}

const reason = z.string().max(MAX_REMOTE_REASON);
const domain = z.string().min(1).max(300);

// --- Servers -------------------------------------------------------------------

/** `/api/v1/clique/domains`: blocks (`block`), limits (`limit`) and notes (`noop`) of servers. */
export const domainsApi = new Hono<AppEnv>();

domainsApi.get("/", async (c) => {
  const member = requireMember(c);
  const result = await c.get("services").moderation.remote.listDomains(member);
  if (!result.ok) throw problem(result.reason);
  return c.json(result.value.map(serializeDomainBlock));
});

domainsApi.post("/", async (c) => {
  const member = requireMember(c);
  const input = validate(
    z
      .object({
        domain,
        severity: z.enum(["block", "limit", "noop"]).optional(),
        reason: reason.refine((r) => r.trim() !== "", "say why"),
        public_comment: reason.optional(),
      })
      .strict(),
    await readBody(c),
  );
  const result = await c.get("services").moderation.remote.decideDomain(member, {
    domain: input.domain,
    severity: input.severity ?? "block",
    reason: input.reason,
    ...(input.public_comment !== undefined ? { publicComment: input.public_comment } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const { block, previous, purged } = result.value;
  return c.json(
    {
      ...serializeDomainBlock(block),
      previous_severity: previous?.severity ?? null,
      purged: {
        accounts: purged.accounts,
        posts: purged.posts,
        follows: purged.follows,
        interactions: purged.interactions,
        media_files: purged.files,
      },
    },
    previous ? 200 : 201,
  );
});

domainsApi.delete("/", async (c) => {
  const member = requireMember(c);
  const q = validate(z.object({ domain, reason: reason.optional() }).passthrough(), readQuery(c));
  const result = await c.get("services").moderation.remote.liftDomain(member, q.domain, q.reason);
  if (!result.ok) throw problem(result.reason);
  return c.json({ ok: true, lifted: serializeDomainBlock(result.value) });
});

// --- Single remote accounts ------------------------------------------------------

/** `/api/v1/clique/moderation/remote_accounts`: suspensions and silences of remote accounts. */
export const remoteAccountsApi = new Hono<AppEnv>();

/** Each sanctioned account once, with its sanctions. */
async function renderSanctioned(c: Context<AppEnv>, sanctions: readonly ActorSanction[]) {
  const ids = [...new Set(sanctions.map((s) => s.actorId))];
  const accounts = new Map((await renderAccounts(c, ids)).map((a) => [a.id, a]));
  const entry = (s: ActorSanction | undefined) =>
    s ? { reason: s.reason, created_by: s.createdBy, created_at: s.createdAt.toISOString() } : null;
  return ids.map((id) => ({
    account: accounts.get(id) ?? { id },
    suspended: entry(sanctions.find((s) => s.actorId === id && s.kind === "suspend")),
    silenced: entry(sanctions.find((s) => s.actorId === id && s.kind === "silence")),
  }));
}

remoteAccountsApi.get("/", async (c) => {
  const member = requireMember(c);
  const result = await c.get("services").moderation.remote.listSanctioned(member);
  if (!result.ok) throw problem(result.reason);
  return c.json(await renderSanctioned(c, result.value));
});

const actions = {
  suspend: "suspendAccount",
  silence: "silenceAccount",
  unsuspend: "unsuspendAccount",
  unsilence: "unsilenceAccount",
  reject_follows: "rejectFollows",
} as const;

for (const [path, workflow] of Object.entries(actions)) {
  const lifting = path.startsWith("un") || path === "reject_follows";
  remoteAccountsApi.post(`/:id/${path}`, async (c) => {
    const member = requireMember(c);
    const input = validate(
      z
        .object({
          // A suspension or silence says why; lifting one may.
          reason: lifting ? reason.optional() : reason.refine((r) => r.trim() !== "", "say why"),
        })
        .strict(),
      await readBody(c),
    );
    const remote = c.get("services").moderation.remote;
    const id = c.req.param("id");
    const result = await remote[workflow](member, id, input.reason);
    if (!result.ok) throw problem(result.reason, result.detail);
    const sanctions = await c.get("services").clique.remoteModeration.sanctionsOf(id);
    const [account] = await renderAccounts(c, [id]);
    return c.json({
      account: account ?? { id },
      suspended: sanctions.some((s) => s.kind === "suspend"),
      silenced: sanctions.some((s) => s.kind === "silence"),
      ...("rejected" in result.value ? { rejected_follows: result.value.rejected } : {}),
      ...("purged" in result.value && result.value.purged
        ? {
            purged: {
              posts: result.value.purged.posts,
              follows: result.value.purged.follows,
              interactions: result.value.purged.interactions,
              media_files: result.value.purged.files,
            },
          }
        : {}),
    });
  });
}
