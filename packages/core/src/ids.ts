import { v7 as uuidv7 } from "uuid";

/**
 * Returns a new time-sortable identifier (UUIDv7). Rows created later sort
 * after rows created earlier, which is what cursor pagination relies on.
 */
export function newId(): string {
  return uuidv7();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Tells whether a string has the shape of a UUID (any version). */
export function isId(value: string): boolean {
  return UUID_RE.test(value);
}
