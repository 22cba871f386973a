import {
  canView,
  type Deps,
  INSTANCE_IDENTIFIER,
  type InboxListener,
  isId,
  type Member,
  type Post,
  urlsFor,
} from "@clique/core";
import type { InboxContext } from "@fedify/fedify";
import { Flag } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { cleanText, type ReportContext } from "./context.ts";
import { MAX_FLAG_COMMENT, MAX_REPORTED_POSTS, type Report, type ReportedPost } from "./report.ts";

const log = getLogger(["clique", "moderation", "flag"]);

/** What a `Flag` names of ours: members (by username) and posts (by id). */
function namedHere(
  ctx: InboxContext<void>,
  flag: Flag,
): { usernames: string[]; postIds: string[] } {
  const usernames: string[] = [];
  const postIds: string[] = [];
  // Fedify's own router says what each URI is, and only for this origin.
  for (const uri of flag.objectIds.slice(0, MAX_REPORTED_POSTS + 1)) {
    const parsed = ctx.parseUri(uri);
    if (parsed?.type === "actor" && parsed.identifier !== INSTANCE_IDENTIFIER)
      usernames.push(parsed.identifier);
    else if (parsed?.type === "object" && isId(parsed.values.id ?? ""))
      postIds.push(parsed.values.id!);
  }
  return { usernames, postIds };
}

async function reportedMember(
  deps: Deps,
  usernames: string[],
  posts: Post[],
): Promise<Member | null> {
  for (const username of usernames) {
    const member = await deps.stores.members.getByUsername(username);
    if (member && member.status !== "removed") return member;
  }
  // Some servers name only the posts: the account is their author.
  for (const post of posts) {
    const member = await deps.stores.members.getById(post.authorId);
    if (member && member.status !== "removed") return member;
  }
  return null;
}

/**
 * Another server's `Flag` becomes a report in the queue, when it is about one
 * of our members or their posts (Mastodon's and GoToSocial's shape: `object`
 * is the account, then its posts; `content` the comment). Fedify has checked
 * the signature and that the signer is the `actor`; nothing of a blocked
 * server or a suspended account is filed. Posts are kept only if the account
 * wrote them and the sender's server may see them: a `Flag` cannot show the
 * moderators what its server could not see. The same `Flag` twice (two
 * inboxes, a retry) files one report.
 */
export function flagListener(rctx: ReportContext): InboxListener<Flag> {
  return {
    type: Flag,
    async handle(deps, ctx, flag) {
      if (!flag.id || !flag.actorId) return;
      const sender = flag.actorId;
      // A blocked server (or a suspended account) files nothing. The edge refuses its
      // POSTs already; this catches a Flag queued before the decision.
      if ((await deps.standing.ofActor({ uri: sender.href, host: sender.host })) === "blocked")
        return;
      const { usernames, postIds } = namedHere(ctx, flag);
      const found: Post[] = [];
      for (const id of new Set(postIds)) {
        const post = await deps.stores.posts.getById(id);
        if (post && post.uri === null) found.push(post);
      }
      const target = await reportedMember(deps, usernames, found);
      if (!target) {
        log.info("Flag {flag} from {sender} names none of our members: nothing filed", {
          flag: flag.id.href,
          sender: sender.href,
        });
        return;
      }
      const server = { kind: "server", host: sender.host } as const;
      const urls = urlsFor(deps.config.origin);
      const posts: ReportedPost[] = [];
      for (const post of found) {
        if (post.authorId !== target.id) continue;
        if (!(await canView(server, post, deps.stores.facts))) continue;
        posts.push({
          postId: post.id,
          uri: urls.post(target.username, post.id),
          contentHtml: post.contentHtml,
          spoilerText: post.spoilerText,
          createdAt: post.createdAt.toISOString(),
        });
      }
      // The sender as an account, for moderation apps (Mastodon shows the reporting server's actor).
      const reporter = await deps.resolver.resolveUri(sender.href).catch(() => null);
      const now = deps.now();
      const report: Report = {
        id: rctx.newId(),
        targetAccountId: target.id,
        targetAccountUri: urls.actor(target.username),
        posts,
        comment: cleanText(flag.content?.toString() ?? "", MAX_FLAG_COMMENT),
        category: "other",
        reporter: {
          kind: "remote",
          actorUri: sender.href,
          host: sender.host,
          actorId: reporter?.kind === "remote" ? reporter.id : null,
        },
        forwardRequested: false,
        flagUri: flag.id.href,
        state: "open",
        assigneeId: null,
        actionTaken: null,
        actionTakenAt: null,
        actionTakenById: null,
        forwardedAt: null,
        forwardedById: null,
        createdAt: now,
        updatedAt: now,
      };
      // The moderators are told in the same transaction (admin.report notifications).
      const filed = await rctx.storage.transaction(async (tx) => {
        if (!(await tx.reports.create(report))) return false;
        await tx.notifyFiled(report, now);
        return true;
      });
      if (filed)
        log.info("Report {id} filed from a Flag by {sender} about {username}", {
          id: report.id,
          sender: sender.href,
          username: target.username,
        });
    },
  };
}
