import type { CliqueConfig, Deps } from "./deps.ts";
import type { AudienceRef, MediaFile, Member, Post } from "./domain/types.ts";
import { type EventSubscriber, NO_PUBLISHER, NO_RESOLVER } from "./federation/events.ts";
import { buildFederation, type FederationOptions } from "./federation/federation.ts";
import type { InboxListener } from "./federation/inbox.ts";
import { createPublisher } from "./federation/publisher.ts";
import { type RelayPolicy, relayNext } from "./federation/relay.ts";
import { createResolver } from "./federation/remote-actors.ts";
import { createRemoteStanding } from "./federation/remote-standing.ts";
import { isId } from "./ids.ts";
import type { OutboxEntry, ProcessedMedia, Stores } from "./stores/stores.ts";
import { accountStats, countOpenLocalPosts } from "./usecases/account-stats.ts";
import {
  createAnnouncement,
  deleteAnnouncement,
  dismissAnnouncement,
  listAnnouncements,
  updateAnnouncement,
} from "./usecases/announcements.ts";
import { authenticate, revokeToken } from "./usecases/authenticate.ts";
// OAuth apps (issue 11).
import {
  authenticateBearer,
  findAuthorizationCode,
  grantAuthorizationCode,
  issueAppToken,
  revokeAppToken,
  useAuthorizationCode,
} from "./usecases/authorize-app.ts";
import {
  blockAccount,
  muteAccount,
  unblockAccount,
  unmuteAccount,
} from "./usecases/block-account.ts";
import { blockDomain, unblockDomain } from "./usecases/block-domain.ts";
import { bookmarkPost, unbookmarkPost } from "./usecases/bookmark-post.ts";
// Boosts, bookmarks, pins (issue 11).
import { boostPost, unboostPost } from "./usecases/boost-post.ts";
import { changePassword, resetPassword } from "./usecases/change-password.ts";
import {
  createCircle,
  deleteCircle,
  getCircle,
  listCircles,
  updateCircle,
} from "./usecases/circles.ts";
import {
  hideConversation,
  listConversations,
  markConversationRead,
} from "./usecases/conversations.ts";
import { createInvite } from "./usecases/create-invite.ts";
import { createPost } from "./usecases/create-post.ts";
import { deletePost } from "./usecases/delete-post.ts";
// End-to-end encrypted chats: the delivery service and key directory (issue 15).
import * as e2ee from "./usecases/e2ee-delivery.ts";
import { editPost } from "./usecases/edit-post.ts";
import {
  authorizeFollowRequest,
  followAccount,
  listFollowRequests,
  rejectFollower,
  relationship,
  unfollowAccount,
} from "./usecases/follow-account.ts";
import { getContext } from "./usecases/get-context.ts";
import { getVisiblePost } from "./usecases/get-visible-post.ts";
import { hidePost, unhidePost } from "./usecases/hide-post.ts";
import { initClique } from "./usecases/init-clique.ts";
import { leaveClique } from "./usecases/leave-clique.ts";
import { likePost, unlikePost } from "./usecases/like-post.ts";
import {
  listBookmarks,
  listFavourites,
  listHomeEntries,
  listPinned,
  listPostInteractors,
} from "./usecases/list-interactions.ts";
import { getPostHistory, listAccountPosts, listHomeFeed } from "./usecases/list-posts.ts";
import { listLocalTimeline, listTagTimeline } from "./usecases/list-timelines.ts";
// OAuth apps (issue 11).
import { listAuthorizedApps, revokeAuthorizedApp } from "./usecases/manage-apps.ts";
import { listSessions, revokeSession } from "./usecases/manage-sessions.ts";
import { getMarkers, saveMarkers } from "./usecases/markers.ts";
import {
  checkOwnMedia,
  describeMedia,
  getOwnMedia,
  getVisibleMediaFile,
  getVisibleRemoteMedia,
  mediaFileKey,
  mediaPath,
  sweepUnattachedMedia,
  uploadMedia,
} from "./usecases/media.ts";
import {
  clearNotifications,
  dismissNotification,
  getNotification,
  listNotifications,
} from "./usecases/notifications.ts";
// Sign-in through OpenID Connect.
import {
  linkIdentity,
  listIdentities,
  oidcStateSecret,
  signInWithIdentity,
  unlinkIdentity,
} from "./usecases/oidc-identities.ts";
import { pinPost, unpinPost } from "./usecases/pin-post.ts";
import { postExtras } from "./usecases/post-extras.ts";
import { previewInvite } from "./usecases/preview-invite.ts";
import { redeemInvite } from "./usecases/redeem-invite.ts";
import { findClientApp, registerApp } from "./usecases/register-app.ts";
import { removeMember } from "./usecases/remove-member.ts";
import { removePost } from "./usecases/remove-post.ts";
import { revokeInvite } from "./usecases/revoke-invite.ts";
import {
  liftRemoteSanction,
  rejectPendingFollows,
  sanctionRemoteAccount,
} from "./usecases/sanction-remote-account.ts";
import { setMemberRole } from "./usecases/set-member-role.ts";
import { setMemberStatus } from "./usecases/set-member-status.ts";
import { issueSetupToken, setupClique, setupNeeded } from "./usecases/setup-clique.ts";
import { issueToken, signIn } from "./usecases/sign-in.ts";
import {
  endedSuspensions,
  nextSuspensionEnd,
  suspendMember,
  unsuspendMember,
} from "./usecases/suspend-member.ts";
import { updateProfile } from "./usecases/update-profile.ts";
import { viewProfile, viewProfiles } from "./usecases/view-profile.ts";
import { warnMember } from "./usecases/warn-member.ts";
import { ANONYMOUS, canSeePart, canView, type Viewer } from "./visibility/visibility.ts";

type Bound<F> = F extends (deps: Deps, ...args: infer A) => infer R ? (...args: A) => R : never;

function bind<F extends (deps: Deps, ...args: never[]) => unknown>(deps: Deps, fn: F): Bound<F> {
  return ((...args: never[]) => fn(deps, ...args)) as Bound<F>;
}

/** What `createClique` needs. */
export interface CreateCliqueOptions {
  stores: Stores;
  config: CliqueConfig;
  now?: () => Date;
  /** Without it the Clique does not federate (nothing is sent or served over ActivityPub). */
  federation?: FederationOptions;
  /**
   * What other packages (moderation, media) do when something happens: each
   * gets every recorded event, after the federation publisher, at least once.
   */
  subscribers?: readonly EventSubscriber[];
  /** Inbox listeners for activity types core does not handle (e.g. `Flag`). */
  inboxListeners?: readonly InboxListener[];
}

/**
 * Builds a Clique: every use case bound to explicit dependencies. Nothing here
 * reads the environment or knows HTTP; the server composes it.
 */
export function createClique(options: CreateCliqueOptions) {
  const deps: Deps = {
    stores: options.stores,
    config: options.config,
    now: options.now ?? (() => new Date()),
    publisher: NO_PUBLISHER,
    subscribers: options.subscribers ?? [],
    resolver: NO_RESOLVER,
    standing: createRemoteStanding(() => options.stores.remoteModeration),
    cache: {},
  };
  // The federation dispatches through the use cases, and the use cases publish
  // through the federation: build the deps first, then plug the two in.
  const federation = options.federation
    ? buildFederation(deps, options.federation, options.inboxListeners ?? [])
    : null;
  // End-to-end encrypted chats: a removed or suspended member's devices leave every group.
  deps.subscribers = [...deps.subscribers, e2ee.e2eeMembershipSubscriber(deps)];
  if (federation) {
    deps.publisher = createPublisher(deps, federation.context, federation.person);
    deps.resolver = createResolver(deps, federation.context);
  }
  const { stores } = deps;
  return {
    deps,
    config: deps.config,
    /** The Fedify federation to mount, or `null` when not federating. */
    federation: federation?.federation ?? null,
    /**
     * Who signed an HTTP request (a remote actor, or a server's instance
     * actor), verified as for ActivityPub fetches; anonymous when unsigned.
     */
    signedViewer: (request: Request): Promise<Viewer> =>
      federation ? federation.viewerOfRequest(request) : Promise.resolve(ANONYMOUS),
    /**
     * Hands the oldest due outbox event to the publisher and every subscriber
     * (the server's relay calls it; see `relay.ts`).
     */
    relayNext: (
      policy?: RelayPolicy,
      afterHandled?: (entry: OutboxEntry) => void | Promise<void>,
    ) => relayNext(deps, [deps.publisher, ...deps.subscribers], policy, afterHandled),
    /** The outbox: waiting and dead events, and bringing a dead one back. */
    outbox: {
      counts: () => stores.outbox.counts(),
      listDead: (limit = 50) => stores.outbox.listDead(limit),
      revive: (id: string) =>
        isId(id) ? stores.outbox.revive(id, deps.now()) : Promise.resolve(false),
    },
    // Following and interactions
    followAccount: bind(deps, followAccount),
    unfollowAccount: bind(deps, unfollowAccount),
    listFollowRequests: bind(deps, listFollowRequests),
    authorizeFollowRequest: bind(deps, authorizeFollowRequest),
    rejectFollower: bind(deps, rejectFollower),
    relationship: bind(deps, relationship),
    likePost: bind(deps, likePost),
    blockAccount: bind(deps, blockAccount),
    unblockAccount: bind(deps, unblockAccount),
    muteAccount: bind(deps, muteAccount),
    unmuteAccount: bind(deps, unmuteAccount),
    listBlocks: (member: Member) => stores.blocks.list(member.id),
    listMutes: (member: Member) => stores.mutes.list(member.id),
    /** What a viewer may see of a member's profile (every part asks the visibility module). */
    viewProfile: bind(deps, viewProfile),
    viewProfiles: bind(deps, viewProfiles),
    /** Whether a viewer may see a part of someone's profile (or use a permission). */
    canSeePart: (viewer: Viewer, ownerId: string, ref: AudienceRef) =>
      canSeePart(viewer, ownerId, ref, stores.facts),
    unlikePost: bind(deps, unlikePost),
    // Boosts, bookmarks, pins and who liked or boosted (issue 11)
    /** Boosts a post open to everyone; federated as an `Announce`. */
    boostPost: bind(deps, boostPost),
    unboostPost: bind(deps, unboostPost),
    /** Private bookmarks. */
    bookmarkPost: bind(deps, bookmarkPost),
    unbookmarkPost: bind(deps, unbookmarkPost),
    /** Pins one's own post to one's profile (and the `featured` collection). */
    pinPost: bind(deps, pinPost),
    unpinPost: bind(deps, unpinPost),
    /** The home feed with the boosts of followed accounts (every post through the visibility module). */
    listHomeEntries: bind(deps, listHomeEntries),
    listBookmarks: bind(deps, listBookmarks),
    listFavourites: bind(deps, listFavourites),
    listPinned: bind(deps, listPinned),
    /** Who liked or boosted a post the viewer may see; `null` for any other. */
    listPostInteractors: bind(deps, listPostInteractors),
    /** Finds a remote account by handle, fetching it if needed. */
    resolveHandle: (username: string, host: string) => deps.resolver.resolveHandle(username, host),
    resolveUri: (uri: string) => deps.resolver.resolveUri(uri),
    // Setup and membership
    initClique: bind(deps, initClique),
    /** First-run setup from the web: a new one-time token while the Clique is not set up. */
    issueSetupToken: bind(deps, issueSetupToken),
    setupNeeded: bind(deps, setupNeeded),
    /** `initClique` for the holder of the setup token, which it consumes. */
    setupClique: bind(deps, setupClique),
    /** What an invite's landing page shows; `null` for an unknown code. */
    previewInvite: bind(deps, previewInvite),
    createInvite: bind(deps, createInvite),
    redeemInvite: bind(deps, redeemInvite),
    revokeInvite: bind(deps, revokeInvite),
    setMemberStatus: bind(deps, setMemberStatus),
    updateProfile: bind(deps, updateProfile),
    /** A member leaves on their own (password confirmed); the last owner cannot. */
    leaveClique: bind(deps, leaveClique),
    // Moderation's primitives: each asks the permission table (`null` acts as the server)
    /** Gives a member a role; ownership is handed over by making someone owner, then stepping down. */
    setMemberRole: bind(deps, setMemberRole),
    /** Removes a member: seat freed, tokens ended, posts deleted or kept hidden, a Delete of the actor sent. */
    removeMember: bind(deps, removeMember),
    /** Suspends a member, until a date or until lifted; federated as the actor becoming unavailable. */
    suspendMember: bind(deps, suspendMember),
    unsuspendMember: bind(deps, unsuspendMember),
    /** Suspended members whose end date has come. */
    endedSuspensions: bind(deps, endedSuspensions),
    nextSuspensionEnd: bind(deps, nextSuspensionEnd),
    /** Tells a member why (a moderation warning), changing nothing else. */
    warnMember: bind(deps, warnMember),
    /** A moderator removes a member's post with a reason; the author is told. */
    removePost: bind(deps, removePost),
    /** Hides a remote post from the whole Clique, or shows it again. */
    hidePost: bind(deps, hidePost),
    unhidePost: bind(deps, unhidePost),
    /** What a member was told (each about a post only while they may see it). */
    listNotifications: bind(deps, listNotifications),
    // Notifications of every type (issue 11).
    getNotification: bind(deps, getNotification),
    dismissNotification: bind(deps, dismissNotification),
    clearNotifications: bind(deps, clearNotifications),
    /** Any notification by id, unchecked: live updates load it, then ask `getNotification` per subscriber. */
    loadNotification: (id: string) =>
      isId(id) ? stores.notifications.getAnyById(id) : Promise.resolve(null),
    /**
     * Whether `viewer` may see a post already loaded (live updates load each
     * post once, then ask this for every subscriber; the visibility module decides).
     */
    canViewPost: (viewer: Viewer, post: Post) => canView(viewer, post, stores.facts),
    /** A post's hashtags, lower-cased as stored (the hashtag streams match them). */
    hashtagsOf: async (postId: string) =>
      (await stores.posts.hashtagsOf([postId])).get(postId) ?? [],
    // Credentials
    signIn: bind(deps, signIn),
    issueToken: bind(deps, issueToken),
    authenticate: bind(deps, authenticate),
    revokeToken: bind(deps, revokeToken),
    // Sign-in through OpenID Connect: the server proves identities, these decide.
    /** A session for the active member holding a proven identity. */
    signInWithIdentity: bind(deps, signInWithIdentity),
    linkIdentity: bind(deps, linkIdentity),
    listIdentities: bind(deps, listIdentities),
    unlinkIdentity: bind(deps, unlinkIdentity),
    /** The secret that signs the state of a sign-in in progress. */
    oidcStateSecret: bind(deps, oidcStateSecret),
    /** A member's live browser sessions, and ending one of them. */
    listSessions: bind(deps, listSessions),
    revokeSession: bind(deps, revokeSession),
    // OAuth apps (issue 11): registration, codes, app tokens, members' authorised apps.
    /** Registers a client app (`POST /api/v1/apps`); the secret is returned once. */
    registerApp: bind(deps, registerApp),
    /** The app with a client id (and secret, when given and right). */
    findClientApp: bind(deps, findClientApp),
    /** A member's consent, as a single-use authorization code. */
    grantAuthorizationCode: bind(deps, grantAuthorizationCode),
    findAuthorizationCode: bind(deps, findAuthorizationCode),
    useAuthorizationCode: bind(deps, useAuthorizationCode),
    /** A token for an app, on behalf of a member or (member `null`) of the app itself. */
    issueAppToken: bind(deps, issueAppToken),
    /** Who a bearer token speaks for: a member (and the app), or an app alone. */
    authenticateBearer: bind(deps, authenticateBearer),
    /** RFC 7009 revocation by the app the token was issued to. */
    revokeAppToken: bind(deps, revokeAppToken),
    listAuthorizedApps: bind(deps, listAuthorizedApps),
    revokeAuthorizedApp: bind(deps, revokeAuthorizedApp),
    /** A member changes their own password; other sessions and tokens end unless kept. */
    changePassword: bind(deps, changePassword),
    /** An operator sets a member's password; all their sessions and tokens end. */
    resetPassword: bind(deps, resetPassword),
    // Posts (every read goes through the visibility module)
    createPost: bind(deps, createPost),
    editPost: bind(deps, editPost),
    deletePost: bind(deps, deletePost),
    getVisiblePost: bind(deps, getVisiblePost),
    getContext: bind(deps, getContext),
    getPostHistory: bind(deps, getPostHistory),
    listHomeFeed: bind(deps, listHomeFeed),
    listAccountPosts: bind(deps, listAccountPosts),
    // Timelines, start-up reads, conversations (issue 11)
    /** The Clique's own timeline (members' posts the viewer may see); anonymous only if allowed. */
    listLocalTimeline: bind(deps, listLocalTimeline),
    /** Posts with a hashtag that the viewer may see. */
    listTagTimeline: bind(deps, listTagTimeline),
    getMarkers: bind(deps, getMarkers),
    saveMarkers: bind(deps, saveMarkers),
    createAnnouncement: bind(deps, createAnnouncement),
    updateAnnouncement: bind(deps, updateAnnouncement),
    deleteAnnouncement: bind(deps, deleteAnnouncement),
    listAnnouncements: bind(deps, listAnnouncements),
    dismissAnnouncement: bind(deps, dismissAnnouncement),
    /** A member's direct conversations (each post through the visibility module). */
    listConversations: bind(deps, listConversations),
    markConversationRead: bind(deps, markConversationRead),
    hideConversation: bind(deps, hideConversation),
    // Circles
    createCircle: bind(deps, createCircle),
    listCircles: bind(deps, listCircles),
    getCircle: bind(deps, getCircle),
    updateCircle: bind(deps, updateCircle),
    deleteCircle: bind(deps, deleteCircle),
    /**
     * Remote moderation's enforcement: domain blocks and limits, suspended and
     * silenced remote accounts. Moderation's workflows call these after asking
     * the permission table, and write the audit log.
     */
    remoteModeration: {
      blockDomain: bind(deps, blockDomain),
      unblockDomain: bind(deps, unblockDomain),
      listDomainBlocks: () => stores.remoteModeration.listDomains(),
      getDomainBlock: (id: string) =>
        isId(id) ? stores.remoteModeration.getDomain(id) : Promise.resolve(null),
      sanctionAccount: bind(deps, sanctionRemoteAccount),
      liftSanction: bind(deps, liftRemoteSanction),
      rejectPendingFollows: bind(deps, rejectPendingFollows),
      listSanctions: () => stores.remoteModeration.listSanctions(),
      sanctionsOf: (actorId: string) =>
        isId(actorId) ? stores.remoteModeration.sanctionsOf(actorId) : Promise.resolve([]),
      /** Where a host or remote actor stands (cached: the edge asks it on every inbox POST). */
      standing: deps.standing,
    },
    // Reads that carry no per-post privacy
    getSettings: () => stores.settings.get(),
    updateSettings: (patch: Parameters<Stores["settings"]["update"]>[0]) =>
      stores.settings.update(patch),
    listMembers: (status?: Member["status"]) => stores.members.list(status ? { status } : {}),
    getMemberByUsername: (username: string) => stores.members.getByUsername(username),
    getMember: (id: string) => (isId(id) ? stores.members.getById(id) : Promise.resolve(null)),
    /** Any post by id, deleted and hidden ones included: for moderation, never for showing. */
    getPostForModeration: (id: string) =>
      isId(id) ? stores.posts.getById(id) : Promise.resolve(null),
    getMembers: (ids: readonly string[]) => stores.members.getByIds(ids.filter(isId)),
    getActors: (ids: readonly string[]) => stores.actors.getByIds(ids.filter(isId)),
    getActor: (id: string) => (isId(id) ? stores.actors.getById(id) : Promise.resolve(null)),
    listInvites: () => stores.invites.list(),
    /** Ids of an account's approved followers, or of those it follows (callers check `showFollows`). */
    async listFollowIds(actorId: string, side: "followers" | "following"): Promise<string[]> {
      const follows =
        side === "followers"
          ? await stores.follows.listFollowers(actorId, "accepted")
          : await stores.follows.listFollowing(actorId, "accepted");
      return follows.map((f) => (side === "followers" ? f.followerId : f.followeeId));
    },
    countSeated: () => stores.members.countSeated(),
    /** Each account's numbers as the viewer may see them (posts counted through the visibility module). */
    accountStats: bind(deps, accountStats),
    /** How many of this Clique's posts anyone may see. */
    countOpenLocalPosts: bind(deps, countOpenLocalPosts),
    /** Authors, mentions, hashtags, parent authors and counts of already-visible posts. */
    postExtras: bind(deps, postExtras),
    // Photos and videos (every file asks the visibility module: canViewMedia)
    uploadMedia: bind(deps, uploadMedia),
    getOwnMedia: bind(deps, getOwnMedia),
    checkOwnMedia: bind(deps, checkOwnMedia),
    describeMedia: bind(deps, describeMedia),
    getVisibleMediaFile: bind(deps, getVisibleMediaFile),
    /** A remote attachment the viewer may see, by its proxy key (the server's media proxy serves it). */
    getVisibleRemoteMedia: bind(deps, getVisibleRemoteMedia),
    mediaPath: bind(deps, mediaPath),
    /** The key of one processed file of an upload: the same each time, unguessable. */
    mediaFileKey: bind(deps, mediaFileKey),
    sweepUnattachedMedia: bind(deps, sweepUnattachedMedia),
    /** End-to-end encrypted chats: devices, KeyPackages, key directory, sequencing (issue 15). */
    e2ee: {
      registerDevice: bind(deps, e2ee.registerDevice),
      listOwnDevices: bind(deps, e2ee.listOwnDevices),
      removeDevice: bind(deps, e2ee.removeDevice),
      uploadKeyPackages: bind(deps, e2ee.uploadKeyPackages),
      claimKeyPackages: bind(deps, e2ee.claimKeyPackages),
      readDirectory: bind(deps, e2ee.readDirectory),
      directoryHead: bind(deps, e2ee.directoryHead),
      uploadBlob: bind(deps, e2ee.uploadBlob),
      fetchBlob: bind(deps, e2ee.fetchBlob),
      deviceSitsInGroup: bind(deps, e2ee.deviceSitsInGroup),
      createGroup: bind(deps, e2ee.createGroup),
      submitCommit: bind(deps, e2ee.submitCommit),
      sendGroupMessage: bind(deps, e2ee.sendGroupMessage),
      fetchDeviceMessages: bind(deps, e2ee.fetchDeviceMessages),
      findDevice: bind(deps, e2ee.findDevice),
    },
    /** Processing of an upload finished (the server's media worker reports it). */
    markMediaReady: (id: string, result: ProcessedMedia) => stores.media.markReady(id, result),
    markMediaFailed: (id: string, error: string) => stores.media.markFailed(id, error),
    getMediaById: (id: string) => (isId(id) ? stores.media.getById(id) : Promise.resolve(null)),
    /** The avatar or header file with this key, while its member is not removed (public, like the actor). */
    async getProfileImage(key: string): Promise<MediaFile | null> {
      if (!/^[A-Za-z0-9_-]{22,}\.[a-z0-9]{2,5}$/.test(key)) return null;
      const found = await stores.members.getByProfileImageKey(key);
      return found && found.member.status !== "removed" ? found.file : null;
    },
  };
}

/** A composed Clique. */
export type Clique = ReturnType<typeof createClique>;
