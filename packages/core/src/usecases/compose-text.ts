import type { Deps } from "../deps.ts";
import type { ContentType } from "../domain/types.ts";
import { extractMentionsAndTags, renderPost } from "../text/render.ts";
import { urlsFor } from "../urls.ts";

/** What a post's text becomes: HTML, the actors it mentions and its hashtags. */
export interface ComposedText {
  html: string;
  mentionIds: string[];
  hashtags: string[];
}

/**
 * Renders a post's source and resolves its mentions to actors. Mentions of
 * local members (with or without this server's host) resolve here; remote
 * mentions resolve through `resolveRemote` when federation provides one, and
 * otherwise stay plain text.
 */
export async function composeText(
  deps: Deps,
  source: string,
  contentType: ContentType,
  /** The writer: accounts they block, or that block them, are not mentioned. */
  authorId: string | null = null,
): Promise<ComposedText> {
  const urls = urlsFor(deps.config.origin);
  const localHost = new URL(deps.config.origin).host.toLowerCase();
  const { mentions } = extractMentionsAndTags(source, { contentType });
  const resolved = new Map<string, { id: string; url: string; acct: string }>();
  for (const m of mentions) {
    const key = `${m.username.toLowerCase()}@${m.host?.toLowerCase() ?? ""}`;
    if (resolved.has(key)) continue;
    if (m.host === null || m.host.toLowerCase() === localHost) {
      const member = await deps.stores.members.getByUsername(m.username);
      if (member && member.status === "active")
        resolved.set(key, {
          id: member.id,
          url: urls.profile(member.username),
          acct: member.username,
        });
    } else {
      const actor = await deps.resolver.resolveHandle(m.username, m.host);
      if (actor && actor.kind === "remote")
        resolved.set(key, {
          id: actor.id,
          url: actor.url ?? actor.uri ?? "",
          acct: `${actor.username}@${actor.host}`,
        });
    }
  }
  if (authorId !== null) {
    for (const [key, target] of resolved) {
      if (await deps.stores.blocks.between(authorId, target.id)) resolved.delete(key);
    }
  }
  const rendered = renderPost({
    source,
    contentType,
    resolveMention: (m) =>
      resolved.get(`${m.username.toLowerCase()}@${m.host?.toLowerCase() ?? ""}`) ?? null,
    tagUrl: (tag) => urls.tag(tag),
  });
  return {
    html: rendered.html,
    mentionIds: [...new Set([...resolved.values()].map((r) => r.id))],
    hashtags: rendered.hashtags,
  };
}
