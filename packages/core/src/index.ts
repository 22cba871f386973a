/**
 * @clique/core — the reusable core of Clique: domain types, store
 * interfaces, the visibility rules and the use cases. The Kysely/PostgreSQL
 * stores are exported separately from `@clique/core/kysely`.
 *
 * @module @clique/core
 */

export { checkPassword } from "./auth/secrets.ts";
export { type Clique, type CreateCliqueOptions, createClique } from "./clique.ts";
export type { CliqueConfig, Deps } from "./deps.ts";
// End-to-end encrypted chats (issue 15).
export * from "./domain/e2ee.ts";
// OAuth apps, codes and scopes (issue 11).
export { type InviteStatus, inviteStatus } from "./domain/invite-status.ts";
export * from "./domain/oauth.ts";
// Sign-in through OpenID Connect.
export type * from "./domain/oidc.ts";
export {
  type ActorSanction,
  type ActorSanctionKind,
  DOMAIN_SEVERITIES,
  type DomainBlock,
  type DomainSeverity,
  domainCovers,
  hostOfUrl,
  normalizeDomain,
  type RemoteStandingKind,
} from "./domain/remote-moderation.ts";
export * from "./domain/timelines.ts";
export * from "./domain/types.ts";
export { checkUsername, type UsernameProblem } from "./domain/username.ts";
export { CliqueError, type CliqueErrorCode, fail, ok, type Result } from "./errors.ts";
export type {
  EventSubscriber,
  FederationEvent,
  FederationEventKind,
  Publisher,
  RecordedEvent,
  RemoteResolver,
} from "./federation/events.ts";
export { FEDERATION_PATHS, type FederationOptions } from "./federation/federation.ts";
export type { InboxListener } from "./federation/inbox.ts";
export {
  DEFAULT_RELAY_POLICY,
  type RelayOutcome,
  type RelayPolicy,
} from "./federation/relay.ts";
export { INSTANCE_IDENTIFIER } from "./federation/remote-actors.ts";
export {
  createRemoteStanding,
  type RemoteStanding,
  STANDING_TTL_MS,
} from "./federation/remote-standing.ts";
export { isId, newId } from "./ids.ts";
export {
  ACTIONS,
  type Action,
  type Decision,
  decide,
  mayTake,
  RANK,
  type Refusal,
  SERVER_ACTOR,
} from "./permissions/permissions.ts";
export type { ActingAs } from "./permissions/permit.ts";
export type * from "./stores/e2ee.store.ts";
export type * from "./stores/stores.ts";
export { htmlToPlainText, sanitizePostHtml } from "./text/render.ts";
export {
  type ProfileImageLink,
  profileImagesOf,
  type Urls,
  urlsFor,
} from "./urls.ts";
export { type AccountStats, NO_STATS } from "./usecases/account-stats.ts";
// OAuth apps (issue 11).
export {
  AUTHORIZATION_CODE_TTL_MS,
  type AuthorizationGrant,
  type BearerIdentity,
} from "./usecases/authorize-app.ts";
export type {
  BlockDomainProblem,
  BlockedDomain,
  DomainBlockInput,
} from "./usecases/block-domain.ts";
// Boosts and pins (issue 11).
export type { BoostProblem, BoostResult } from "./usecases/boost-post.ts";
export type {
  ChangePasswordInput,
  ChangePasswordProblem,
  ResetPasswordProblem,
} from "./usecases/change-password.ts";
export type { Conversation } from "./usecases/conversations.ts";
export { mayInvite } from "./usecases/create-invite.ts";
export {
  type CreatePostInput,
  type CreatePostProblem,
  MAX_POST_LENGTH,
  MAX_SPOILER_LENGTH,
} from "./usecases/create-post.ts";
// End-to-end encrypted chats (issue 15).
export type {
  ClaimedKeyPackage,
  CommitSubmission,
  E2eeCaller,
  GroupProblem,
} from "./usecases/e2ee-delivery.ts";
export type { HidePostProblem } from "./usecases/hide-post.ts";
export type { InitCliqueProblem } from "./usecases/init-clique.ts";
export type { LeaveCliqueProblem } from "./usecases/leave-clique.ts";
export type { TimelineProblem } from "./usecases/list-timelines.ts";
export {
  MAX_ATTACHMENTS,
  MAX_DESCRIPTION,
  MAX_PROCESSING_PER_MEMBER,
  type MediaProblem,
  newFileKey,
  UNATTACHED_TTL_MS,
  type VisibleMediaFile,
} from "./usecases/media.ts";
export type { NotificationFilters, NotificationPage } from "./usecases/notifications.ts";
// Notifications of every type (issue 11): for other packages' workflows (reports, boosts).
export {
  type NotificationInput,
  notifyReportFiled,
  recordNotification,
} from "./usecases/notifications.ts";
export type { OidcSignInProblem, UnlinkIdentityProblem } from "./usecases/oidc-identities.ts";
export { MAX_PINS, type PinProblem } from "./usecases/pin-post.ts";
export type { PostExtras, ViewableMedia } from "./usecases/post-extras.ts";
export type { InvitePreview } from "./usecases/preview-invite.ts";
export type { PurgeSummary } from "./usecases/purge-remote-actors.ts";
export type { RedeemInviteProblem } from "./usecases/redeem-invite.ts";
// OAuth apps (issue 11).
export type { RegisterAppInput, RegisterAppProblem } from "./usecases/register-app.ts";
export type { RemovalOptions, RemoveMemberProblem } from "./usecases/remove-member.ts";
export type { RemovePostProblem } from "./usecases/remove-post.ts";
export type { Sanctioned, SanctionProblem } from "./usecases/sanction-remote-account.ts";
export type { SetMemberRoleProblem } from "./usecases/set-member-role.ts";
export type { SetupCliqueProblem } from "./usecases/setup-clique.ts";
export {
  MAX_FAILED_SIGN_INS,
  MAX_FAILED_SIGN_INS_PER_ADDRESS,
  MAX_FAILED_SIGN_INS_PER_USERNAME,
  type SignInProblem,
} from "./usecases/sign-in.ts";
export type {
  SuspendMemberProblem,
  UnsuspendMemberProblem,
} from "./usecases/suspend-member.ts";
export type { ProfileUpdate } from "./usecases/update-profile.ts";
export type { VisibleProfile } from "./usecases/view-profile.ts";
export type { WarnMemberProblem } from "./usecases/warn-member.ts";
export {
  ANONYMOUS,
  canSeeMemberList,
  canSeePart,
  canSeeParts,
  canView,
  effectivePermission,
  federates,
  type Grant,
  grantsFor,
  type HypotheticalViewer,
  hypotheticalViewer,
  isOpenToEveryone,
  mayInteract,
  type PartQuestion,
  type ReplyAudience,
  replyAudience,
  type Viewer,
  type VisibilityFacts,
  type VisibilityFilter,
  viewerActorOf,
  visibilityFilter,
  type Who,
  widens,
} from "./visibility/visibility.ts";
