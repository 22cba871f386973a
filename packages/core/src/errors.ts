/**
 * Codes for failures that cross a boundary (storage, network, configuration).
 * Domain decisions do not throw: they return `Result` values instead.
 */
export type CliqueErrorCode =
  | "not_found"
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "conflict"
  | "too_many_requests"
  | "payload_too_large"
  | "unavailable"
  | "internal";

/**
 * The one error type thrown across boundaries. `message` is safe to show to a
 * user; `cause` holds the internal detail for the log and never reaches a
 * response.
 */
export class CliqueError extends Error {
  /** Machine-readable code; the HTTP edge maps it to a status once. */
  readonly code: CliqueErrorCode;

  constructor(code: CliqueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliqueError";
    this.code = code;
  }
}

/** A domain decision: either a value, or a reason the caller must handle. */
export type Result<T, R extends string> =
  | { ok: true; value: T }
  | { ok: false; reason: R; detail?: string };

/** Builds a successful `Result`. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Builds a failed `Result`. */
export function fail<R extends string>(
  reason: R,
  detail?: string,
): { ok: false; reason: R; detail?: string } {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}
