/**
 * The one place where failures become HTTP statuses. Use cases return
 * reasons; boundaries throw `CliqueError`; both are mapped here.
 */
import { CliqueError, type CliqueErrorCode } from "@clique/core";
import type { ContentfulStatusCode } from "hono/utils/http-status";

const STATUS: Record<CliqueErrorCode, ContentfulStatusCode> = {
  not_found: 404,
  invalid_input: 422,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  too_many_requests: 429,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** HTTP status for an error code. */
export function statusOf(code: CliqueErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

// Domain reasons that are not plain validation failures (those default to invalid_input).
const REASON_CODES: Record<string, CliqueErrorCode> = {
  not_found: "not_found",
  reply_target_not_found: "not_found",
  circle_not_found: "not_found",
  not_initialized: "unavailable",
  not_allowed: "forbidden",
  not_author: "forbidden",
  account_disabled: "forbidden",
  invalid_credentials: "unauthorized",
  too_many_attempts: "too_many_requests",
  clique_full: "conflict",
  username_taken: "conflict",
  // Single sign-on: the identity is another member's.
  identity_taken: "conflict",
  // Encrypted chats: a member's devices keep this much in attachments at most.
  blob_quota_exceeded: "payload_too_large",
  // Unlinking the last identity needs the member's password.
  last_identity: "forbidden",
  already_initialized: "conflict",
  invalid_setup_token: "forbidden",
  too_many_processing: "too_many_requests",
  // The permission table's refusals.
  outranked: "forbidden",
  last_owner: "forbidden",
  self: "forbidden",
  not_suspended: "conflict",
  // Timelines (issue 11): anonymous visitors while the Clique keeps its timelines to members.
  members_only: "unauthorized",
};

// What a person reads when a use case gives no detail of its own.
const REASON_MESSAGES: Record<string, string> = {
  not_found: "Record not found",
  reply_target_not_found: "The post you are replying to was not found",
  circle_not_found: "Circle not found",
  not_initialized: "This Clique has not been set up yet: run `clique init`",
  not_allowed: "You are not allowed to do that",
  not_author: "Only the author can do that",
  invalid_username: "Usernames are 1 to 30 letters, digits or underscores",
  reserved_username: "That username is reserved",
  username_taken: "That username is taken",
  password_too_short: "Passwords need at least 10 characters",
  password_too_long: "Passwords can have at most 256 characters",
  wrong_password: "The current password is not right",
  empty_post: "A post needs some text",
  post_too_long: "The post is too long",
  spoiler_too_long: "The content warning is too long",
  circle_required: "A circle post needs a circle_id",
  invalid_language: "Unknown language code",
  clique_full: "This Clique is full",
  invalid_invite: "This invite code is not valid",
  already_initialized: "This Clique is already set up",
  media_not_found: "One of media_ids is not an upload of yours that can be attached",
  media_not_ready: "Cannot attach files that have not finished processing. Try again in a moment!",
  media_failed: "One of the uploads could not be processed: upload it again or leave it out",
  too_many_attachments: "A post can have at most 8 photos or videos",
  description_too_long: "The description can have at most 1500 characters",
  invalid_focus: "A focal point is two numbers between -1 and 1",
  outranked: "You cannot act on a member of your rank or above",
  last_owner:
    "The last owner cannot be suspended, removed or demoted, nor leave: make someone else an owner first",
  self: "You cannot do that to yourself",
  not_suspended: "This member is not suspended",
  not_local: "Only this Clique's posts can be removed: hide a post from elsewhere instead",
  not_remote: "Only posts from elsewhere can be hidden: remove a member's post instead",
  invalid_until: "A suspension must end in the future",
  members_only: "This method requires an authenticated user",
};

/** Turns a use case's refusal into the error thrown at the edge. */
export function problem(reason: string, detail?: string): CliqueError {
  const code = REASON_CODES[reason] ?? "invalid_input";
  const message = detail ?? REASON_MESSAGES[reason] ?? reason.replaceAll("_", " ");
  const error = new CliqueError(code, message);
  (error as CliqueError & { reason?: string }).reason = reason;
  return error;
}

/** The JSON body of an error response: Mastodon's `{ error }`, plus our machine-readable reason. */
export function errorBody(error: CliqueError): { error: string; code: string } {
  return {
    error: error.message,
    code: (error as CliqueError & { reason?: string }).reason ?? error.code,
  };
}

/** Shorthand for the ubiquitous "not found" (also used for "not visible"). */
export function notFound(): CliqueError {
  return problem("not_found");
}
