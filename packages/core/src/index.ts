/**
 * @clique/core — the reusable core of Clique: domain types, store
 * interfaces, the visibility rules and the use cases. The Kysely/PostgreSQL
 * stores are exported separately from `@clique/core/kysely`.
 */

export { checkPassword } from "./auth/secrets.ts";
export { type Clique, type CreateCliqueOptions, createClique } from "./clique.ts";
export type { CliqueConfig, Deps } from "./deps.ts";
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
export { isId, newId } from "./ids.ts";
export {
  ACTIONS,
  type Action,
  type Decision,
  decide,
  mayTake,
  RANK,
  type Refusal,
} from "./permissions/permissions.ts";
export type * from "./stores/stores.ts";
export { htmlToPlainText, sanitizePostHtml } from "./text/render.ts";
export {
  type ProfileImageLink,
  profileImagesOf,
  type Urls,
  urlsFor,
} from "./urls.ts";
export { type AccountStats, NO_STATS } from "./usecases/account-stats.ts";
export type {
  ChangePasswordInput,
  ChangePasswordProblem,
  ResetPasswordProblem,
} from "./usecases/change-password.ts";
export { mayInvite } from "./usecases/create-invite.ts";
export {
  type CreatePostInput,
  type CreatePostProblem,
  MAX_POST_LENGTH,
  MAX_SPOILER_LENGTH,
} from "./usecases/create-post.ts";
export type { InitCliqueProblem } from "./usecases/init-clique.ts";
export {
  MAX_ATTACHMENTS,
  MAX_DESCRIPTION,
  MAX_PROCESSING_PER_MEMBER,
  type MediaProblem,
  newFileKey,
  UNATTACHED_TTL_MS,
  type VisibleMediaFile,
} from "./usecases/media.ts";
export type { PostExtras, ViewableMedia } from "./usecases/post-extras.ts";
export type { RedeemInviteProblem } from "./usecases/redeem-invite.ts";
export {
  MAX_FAILED_SIGN_INS,
  MAX_FAILED_SIGN_INS_PER_ADDRESS,
  MAX_FAILED_SIGN_INS_PER_USERNAME,
  type SignInProblem,
} from "./usecases/sign-in.ts";
export type { ProfileUpdate } from "./usecases/update-profile.ts";
export type { VisibleProfile } from "./usecases/view-profile.ts";
export {
  ANONYMOUS,
  canSeeMemberList,
  canSeePart,
  canView,
  effectivePermission,
  federates,
  type Grant,
  grantsFor,
  isOpenToEveryone,
  mayInteract,
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
