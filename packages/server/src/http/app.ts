/**
 * The HTTP application: middleware, error mapping and every route. Routes are
 * listed in `routes.ts`; this file only wires them.
 */
import { CliqueError } from "@clique/core";
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { exportApi } from "../api/clique/export.ts";
import { moderationApi } from "../api/clique/moderation.ts";
import { profilePreviewApi } from "../api/clique/profile-preview.ts";
import { domainsApi, remoteAccountsApi } from "../api/clique/remote-moderation.ts";
import { cliqueReportsApi } from "../api/clique/reports.ts";
import { cliqueApi } from "../api/clique/routes.ts";
import { welcomeApi } from "../api/clique/welcome.ts";
// End-to-end encrypted chats: the delivery service and key directory (issue 15).
import { e2eeApi } from "../api/e2ee/routes.ts";
import { securityPolicyApi, webBundleApi } from "../api/e2ee/security.ts";
import { accountsApi, isProfileUpload, profileApi } from "../api/mastodon/accounts.ts";
import { adminAccountsApi } from "../api/mastodon/admin-accounts.ts";
import { adminDomainBlocksApi } from "../api/mastodon/admin-domain-blocks.ts";
import { announcementsApi, cliqueAnnouncementsApi } from "../api/mastodon/announcements.ts";
import { conversationsApi } from "../api/mastodon/conversations.ts";
import { blocksApi, followRequestsApi, searchApi } from "../api/mastodon/follows.ts";
import { instanceV1Api, instanceV2Api } from "../api/mastodon/instance.ts";
// Boosts, bookmarks, pins (issue 11).
import { interactionListsApi, statusInteractionsApi } from "../api/mastodon/interactions.ts";
import { markersApi } from "../api/mastodon/markers.ts";
import { mediaApi, mediaUploadApi } from "../api/mastodon/media.ts";
import { notificationsApi } from "../api/mastodon/notifications.ts";
import { adminReportsApi, reportsApi } from "../api/mastodon/reports.ts";
import { startupApi, startupV2Api } from "../api/mastodon/startup.ts";
import { statusesApi } from "../api/mastodon/statuses.ts";
import { timelinesApi } from "../api/mastodon/timelines.ts";
// OAuth apps, scopes and CORS (issue 11).
import { appsApi, memberAppsApi, metadataApi } from "../oauth/apps.ts";
import { authorizeApi } from "../oauth/authorize.ts";
import { cors } from "../oauth/cors.ts";
import { scopeGuard } from "../oauth/scopes.ts";
import { tokenApi } from "../oauth/token.ts";
// Live updates (issue 11): the streaming API's HTTP side; the WebSocket is streaming/hub.ts.
import { streamingApi } from "../streaming/streams.ts";
import { authentication } from "./auth.ts";
import { avatars } from "./avatars.ts";
import { discardRest } from "./discard-rest.ts";
import { activityGuard, inputGuard, isUnreadableActivity, jsonErrors } from "./edge.ts";
import type { AppEnv, AppServices } from "./env.ts";
import { errorBody, statusOf } from "./errors.ts";
import { federationMiddleware } from "./federation.ts";
import { mediaFiles } from "./media-files.ts";
import { mediaProxyFiles } from "./media-proxy.ts";
// Single sign-on through an OpenID Connect provider.
import { oidcApi, oidcAuth } from "./oidc.ts";
import { pages } from "./pages.ts";
import { remoteRefusal } from "./remote-refusal.ts";
import { API_ROUTES } from "./routes.ts";
import { staticAssets } from "./static.ts";
import { webUi } from "./web-ui.ts";

const log = getLogger(["clique", "http"]);

/** Where uploads are posted (streamed, with the media limits instead of CLIQUE_BODY_LIMIT). */
const UPLOAD_PATHS = new Set(["/api/v1/media", "/api/v2/media"]);
/** A profile edit with an avatar or header: a multipart form streamed the same way (its text under the body limit). */
const PROFILE_UPLOAD_PATH = "/api/v1/accounts/update_credentials";

/** Builds the app for a composed Clique. */
export function createApp(services: AppServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((error, c) => {
    if (error instanceof CliqueError) {
      if (error.code === "internal")
        log.error("{message}", { message: error.message, cause: error.cause });
      // The rest of a refused body is not read: the client must not reuse this connection.
      if (error.code === "payload_too_large") c.header("Connection", "close");
      return c.json(errorBody(error), statusOf(error.code));
    }
    if (isUnreadableActivity(c, error)) {
      log.warn("Refused an unreadable activity on {path}: {error}", { path: c.req.path, error });
      return c.json({ error: "The activity could not be read", code: "invalid_input" }, 400);
    }
    log.error("Unhandled error on {method} {path}: {error}", {
      method: c.req.method,
      path: c.req.path,
      error,
    });
    return c.json({ error: "Something went wrong on our side", code: "internal" }, 500);
  });
  app.notFound((c) => c.json({ error: "Record not found", code: "not_found" }, 404));

  app.use("*", async (c, next) => {
    c.set("services", services);
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
  });
  // CORS (issue 11): preflights answered before anything else; bearer tokens only.
  app.use("*", cors());
  app.use("*", jsonErrors());
  app.use("*", inputGuard());
  const limit = bodyLimit({
    maxSize: services.config.bodyLimit,
    onError: async (c) => {
      // Read the rest first (bounded): answering while the client still sends resets the
      // connection, and most clients then lose the 413.
      await discardRest(c.req.raw.body);
      c.header("Connection", "close");
      return c.json(
        {
          error: `The request body is larger than ${services.config.bodyLimit} bytes`,
          code: "payload_too_large",
        },
        413,
      );
    },
  });
  // Uploads stream to disk under limits of their own (media/upload.ts); every other body is capped.
  app.use("*", (c, next) =>
    (c.req.method === "POST" && UPLOAD_PATHS.has(c.req.path)) ||
    (c.req.method === "PATCH" && c.req.path === PROFILE_UPLOAD_PATH && isProfileUpload(c.req.raw))
      ? next()
      : limit(c, next),
  );
  app.use("*", activityGuard());
  // Blocked servers and suspended accounts are turned away before Fedify reads their requests.
  app.use("*", remoteRefusal());
  app.use("/api/*", authentication());
  // OAuth scopes (issue 11): a bearer token reaches only the routes its scopes cover.
  app.use("/api/*", scopeGuard());
  app.use("/media/*", authentication());
  app.use("*", federationMiddleware());

  // OAuth apps (issue 11): registration, authorization, tokens, members' apps.
  app.route("/api/v1/apps", appsApi);
  app.route("/api/v1/clique/apps", memberAppsApi);
  app.route("/oauth/authorize", authorizeApi);
  app.route("/oauth", tokenApi);
  app.route("/.well-known/oauth-authorization-server", metadataApi);
  // The e2ee security policy (issue 15): public; the key directory's head for members only.
  app.use("/.well-known/clique-security", authentication());
  app.route("/.well-known/clique-security", securityPolicyApi);
  // The web client's bundle manifest (issue 15): public, the hash of every file of the web build.
  app.route("/.well-known/clique-web-bundle", webBundleApi);

  // What apps call at start-up (issue 11); before the accounts routes, whose
  // `/:id` would take `accounts/familiar_followers`.
  app.route("/api/v1", startupApi);
  app.route("/api/v2", startupV2Api);
  app.route("/api/v1/markers", markersApi);
  app.route("/api/v1/announcements", announcementsApi);
  app.route("/api/v1/clique/announcements", cliqueAnnouncementsApi);
  app.route("/api/v1/conversations", conversationsApi);
  app.route("/api/v1/accounts", accountsApi);
  app.route("/api/v1/profile", profileApi);
  app.route("/api/v1/statuses", statusesApi);
  // Boosts, bookmarks, pins, favourited_by/reblogged_by (issue 11).
  app.route("/api/v1/statuses", statusInteractionsApi);
  app.route("/api/v1", interactionListsApi);
  app.route("/api/v1/follow_requests", followRequestsApi);
  app.route("/api/v2", searchApi);
  app.route("/api/v1", blocksApi);
  app.route("/api/v1/timelines", timelinesApi);
  app.route("/api/v1", instanceV1Api);
  app.route("/api/v2", instanceV2Api);
  app.route("/api/v1/clique/reports", cliqueReportsApi);
  app.route("/api/v1/clique/domains", domainsApi);
  app.route("/api/v1/clique/moderation/remote_accounts", remoteAccountsApi);
  app.route("/api/v1/clique/moderation", moderationApi);
  app.route("/api/v1/clique/export", exportApi);
  app.route("/api/v1/clique/profile/preview", profilePreviewApi);
  app.route("/api/v1/clique/oidc", oidcApi);
  app.route("/auth/oidc", oidcAuth);
  app.route("/api/v1/clique", cliqueApi);
  // First-run setup and invite previews (the web UI's public pages).
  app.route("/api/v1/clique", welcomeApi);
  app.route("/api/v1/admin/accounts", adminAccountsApi);
  app.route("/api/v1/e2ee", e2eeApi);
  app.route("/api/v1/notifications", notificationsApi);
  app.route("/api/v1/streaming", streamingApi);
  app.route("/api/v1/admin/domain_blocks", adminDomainBlocksApi);
  app.route("/api/v1/reports", reportsApi);
  app.route("/api/v1/admin/reports", adminReportsApi);
  app.route("/api/v2/media", mediaUploadApi);
  app.route("/api/v1/media", mediaUploadApi);
  app.route("/api/v1/media", mediaApi);
  app.route("/media/proxy", mediaProxyFiles);
  app.route("/media", mediaFiles);
  app.route("/static", staticAssets);
  app.route("/avatars", avatars);
  app.get("/health", (c) => c.json({ ok: true }));
  // Profile and post pages, remote follow (issue 11).
  app.route("/", pages);
  // The web interface (packages/web): each page is listed in routes.ts; Next answers them
  // in this process. Without a build, `/` and invite links still say what to do.
  const web = webUi();
  for (const route of API_ROUTES) if (route.web) app.get(route.path, web);
  app.get("/invite/:code", async (c) => {
    const settings = await services.clique.getSettings();
    const code = c.req.param("code").replace(/[^A-Za-z0-9_-]/g, "");
    return c.text(
      `You are invited to ${settings?.name ?? "a Clique"}.\n\n` +
        `To join, send your chosen username and password with this code:\n` +
        `  POST ${services.config.origin}/api/v1/clique/invites/redeem\n` +
        `  {"code": "${code}", "username": "...", "password": "..."}\n` +
        `or, on the server: npx clique invite redeem ${code} --username NAME --password-stdin\n`,
    );
  });
  app.get("/", async (c) => {
    const settings = await services.clique.getSettings();
    return c.text(
      settings
        ? `${settings.name} — a Clique. The web interface is not built on this server (npm run build); the API is at /api/v1.\n`
        : 'This Clique is not set up yet. Run: npx clique init --name "My Clique" --owner yourname\n',
    );
  });
  return app;
}
