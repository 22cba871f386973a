/**
 * Renders posts and notifications for one subscriber exactly as the API
 * renders them for that member: the API's renderers read only the services
 * and who is asking from the request context, so a stream hands them a
 * context holding just those (there is no HTTP request behind an event).
 */
import type { Member, Notification, Post } from "@clique/core";
import type { Context } from "hono";
import { renderNotifications } from "../api/mastodon/notifications.ts";
import { renderStatuses } from "../api/mastodon/render.ts";
import type { AppEnv, AppServices } from "../http/env.ts";

/** The API's renderers, as `member` sees things. */
export function renderForMember(
  services: AppServices,
  member: Member,
  authKind: "api" | "session" = "api",
) {
  const variables: Partial<AppEnv["Variables"]> = {
    services,
    member,
    viewer: { kind: "member", actorId: member.id, role: member.role },
    authKind,
    tokenId: null,
  };
  const c = {
    get: (key: keyof AppEnv["Variables"]) => variables[key],
  } as unknown as Context<AppEnv>;
  return {
    statuses: (posts: readonly Post[]) => renderStatuses(c, posts),
    notifications: (list: readonly Notification[], posts: readonly Post[]) =>
      renderNotifications(c, list, posts),
  };
}
