import type { Conversation } from "@clique/core";
import { type Context, Hono } from "hono";
import { requireMember } from "../../http/auth.ts";
import { pageSchema, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";
import { renderAccounts, renderStatuses } from "./render.ts";

/** Mastodon's `/api/v1/conversations`: a member's direct posts, grouped by who is in them. */
export const conversationsApi = new Hono<AppEnv>();

async function renderConversation(c: Context<AppEnv>, conversation: Conversation) {
  const [accounts, [lastStatus]] = await Promise.all([
    renderAccounts(c, conversation.accountIds),
    renderStatuses(c, [conversation.lastPost]),
  ]);
  return {
    id: conversation.id,
    unread: conversation.unread,
    accounts,
    last_status: lastStatus ?? null,
  };
}

conversationsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { clique, config } = c.get("services");
  const page = toPage(validate(pageSchema.passthrough(), readQuery(c)));
  const list = await clique.listConversations(member, page);
  if (list.length > 0) {
    // Pages are cut by each conversation's last post.
    const link = (key: string, id: string) => {
      const u = new URL(c.req.path, config.origin);
      u.searchParams.set("limit", String(page.limit));
      u.searchParams.set(key, id);
      return u.toString();
    };
    c.header(
      "Link",
      `<${link("max_id", list[list.length - 1]!.lastPost.id)}>; rel="next", <${link("min_id", list[0]!.lastPost.id)}>; rel="prev"`,
    );
  }
  return c.json(await Promise.all(list.map((conv) => renderConversation(c, conv))));
});

conversationsApi.post("/:id/read", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.markConversationRead(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json(await renderConversation(c, result.value));
});

conversationsApi.delete("/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.hideConversation(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json({});
});
