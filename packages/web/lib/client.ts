/**
 * The browser side of the API: same-origin requests with the session cookie
 * (the server checks `Origin` on every write, which is the CSRF protection).
 */

/** An API error with the server's own message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, message: string, code: string | null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; JSON bodies in and out. */
export async function api<T = unknown>(
  path: string,
  options: { method?: string; json?: unknown; body?: BodyInit } = {},
): Promise<T> {
  const response = await fetch(path, {
    method: options.method ?? (options.json !== undefined || options.body ? "POST" : "GET"),
    credentials: "same-origin",
    headers: {
      accept: "application/json",
      ...(options.json !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body as { error?: string; code?: string } | null;
    throw new ApiError(
      response.status,
      error?.error ?? `The server answered ${response.status}`,
      error?.code ?? null,
    );
  }
  return body as T;
}

/** A message fit to show for a failed call. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Could not reach the server. Check your connection and try again.";
}

/** `max_id` of a Link header's `rel="next"`. */
export function nextMaxIdOf(link: string | null): string | null {
  const match = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
  return match ? new URL(match[1]!).searchParams.get("max_id") : null;
}

/** Reads one page of a list and where the next page starts. */
export async function apiPage<T>(path: string): Promise<{ items: T[]; next: string | null }> {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { accept: "application/json" },
  });
  if (!response.ok) {
    const error = (await response.json().catch(() => null)) as {
      error?: string;
      code?: string;
    } | null;
    throw new ApiError(
      response.status,
      error?.error ?? `The server answered ${response.status}`,
      error?.code ?? null,
    );
  }
  const items = (await response.json()) as T[];
  return { items, next: items.length > 0 ? nextMaxIdOf(response.headers.get("link")) : null };
}
