import type { Clique, Member, OAuthApp, Viewer } from "@clique/core";
import type { Moderation } from "@clique/moderation";
import type { Config } from "../config.ts";
import type { BlobStore } from "../media/blob-store.ts";
import type { MediaProxy } from "../media/proxy.ts";
import type { DocumentCache } from "./document-cache.ts";

/** What every request handler can reach. */
export interface AppServices {
  clique: Clique;
  config: Config;
  /** Where media files are kept. */
  blobs: BlobStore;
  /** Remote attachments, fetched and kept a while (`media/proxy.ts`). */
  mediaProxy: MediaProxy;
  /** Local disk, for files processed while a request waits (profile images), whatever `blobs` is. */
  scratch: BlobStore;
  /** Roles, reports, removals, remote blocks and the audit log. */
  moderation: Moderation;
  /** WebFinger, NodeInfo and actor documents, kept a few seconds (`document-cache.ts`). */
  sharedDocuments?: DocumentCache;
}

/** Hono's typing for our app: services, and who is asking. */
export interface AppEnv {
  Variables: {
    services: AppServices;
    /** The signed-in member, or `null`. */
    member: Member | null;
    viewer: Viewer;
    /** How the member authenticated. */
    authKind: "session" | "api" | null;
    /** The session or token the member authenticated with (its id, never the secret). */
    tokenId: string | null;
    /**
     * OAuth (issue 11): what the bearer token may do; `null` when no token
     * limits the request (anonymous, or a session cookie, which has every scope).
     */
    scopes: readonly string[] | null;
    /** OAuth (issue 11): the app the bearer token was issued to, if any. */
    oauthApp: OAuthApp | null;
  };
}
