/**
 * Where Fedify keeps its cache: always in PostgreSQL (`@fedify/postgres`,
 * adapted to Fedify 2's interface). Its queues are on the job engine.
 */
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import { PostgresKvStore } from "@fedify/postgres";
import postgres from "postgres";

const KV_TABLE = "fedify_kv_v2";

/** A UTF-16 code unit without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function safeString(text: string): string {
  const withoutNul = text.includes("\0") ? text.replaceAll("\0", "") : text;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.replace(LONE_SURROGATE, "");
}

/**
 * A JSON value as `jsonb` can hold it: without NUL characters and lone
 * surrogates, which PostgreSQL refuses (error 22P05). A remote activity may
 * carry them (hostile or broken text); refused, it would fail its inbox POST
 * with a 500 on every retry. Values without them are returned as they are.
 */
export function jsonbSafe<T>(value: T): T {
  if (!/\\u0000|\\ud[89a-f]/i.test(JSON.stringify(value) ?? "")) return value;
  const clean = (v: unknown): unknown => {
    if (typeof v === "string") return safeString(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [safeString(k), clean(x)]));
    return v;
  };
  return clean(value) as T;
}

/**
 * `@fedify/postgres` 1.8 predates Fedify 2: its store lacks `list()`. This
 * adapter delegates the rest and lists by key prefix in SQL.
 */
class PostgresKvAdapter implements KvStore {
  readonly #inner: PostgresKvStore;
  readonly #sql: postgres.Sql;

  constructor(sql: postgres.Sql) {
    this.#sql = sql;
    this.#inner = new PostgresKvStore(sql, { tableName: KV_TABLE });
  }

  // One CREATE TABLE for every caller: the store checks a flag it sets only once the
  // table exists, so concurrent first requests raced to `type "fedify_kv_v2" already
  // exists` (a 500 for one of them).
  #ready: Promise<void> | undefined;
  #initialize(): Promise<void> {
    this.#ready ??= this.#inner.initialize().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    await this.#initialize();
    return (await this.#inner.get(key)) as T | undefined;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    await this.#initialize();
    if (value !== null) return this.#inner.set(key, jsonbSafe(value), options as never);
    // Fedify 2 caches a key it could not fetch as `null`; the 1.8 store would
    // write SQL NULL into its NOT NULL column and fail the whole inbox request.
    const ttl = options?.ttl == null ? null : options.ttl.toString();
    await this.#sql`INSERT INTO ${this.#sql(KV_TABLE)} (key, value, ttl)
      VALUES (${[...key]}::text[], 'null'::jsonb, ${ttl}::interval)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, ttl = EXCLUDED.ttl, created = CURRENT_TIMESTAMP`;
  }

  async delete(key: KvKey): Promise<void> {
    await this.#initialize();
    return this.#inner.delete(key);
  }

  /** Compare-and-swap in one statement, so concurrent workers cannot race. */
  cas = async (
    key: KvKey,
    expected: unknown,
    value: unknown,
    options?: KvStoreSetOptions,
  ): Promise<boolean> => {
    await this.#initialize();
    const ttl = options?.ttl == null ? null : options.ttl.toString();
    const parts = [...key];
    const next = this.#sql.json(jsonbSafe(value) as postgres.JSONValue);
    const rows =
      expected === undefined
        ? await this.#sql`INSERT INTO ${this.#sql(KV_TABLE)} (key, value, ttl)
            VALUES (${parts}::text[], ${next}, ${ttl}::interval)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, ttl = EXCLUDED.ttl, created = CURRENT_TIMESTAMP
              WHERE ${this.#sql(KV_TABLE)}.ttl IS NOT NULL AND ${this.#sql(KV_TABLE)}.created + ${this.#sql(KV_TABLE)}.ttl <= CURRENT_TIMESTAMP
            RETURNING 1`
        : await this
            .#sql`UPDATE ${this.#sql(KV_TABLE)} SET value = ${next}, ttl = ${ttl}::interval, created = CURRENT_TIMESTAMP
            WHERE key = ${parts}::text[] AND value = ${this.#sql.json(expected as postgres.JSONValue)}
              AND (ttl IS NULL OR created + ttl > CURRENT_TIMESTAMP)
            RETURNING 1`;
    return rows.length > 0;
  };

  async *list(prefix: KvKey = [] as unknown as KvKey): AsyncIterable<KvStoreListEntry> {
    await this.#initialize();
    const parts = [...prefix];
    const rows =
      parts.length === 0
        ? await this
            .#sql`SELECT key, value FROM ${this.#sql(KV_TABLE)} WHERE ttl IS NULL OR created + ttl > CURRENT_TIMESTAMP`
        : await this.#sql`SELECT key, value FROM ${this.#sql(KV_TABLE)}
            WHERE key[1:${parts.length}] = ${parts}::text[] AND (ttl IS NULL OR created + ttl > CURRENT_TIMESTAMP)`;
    for (const row of rows) yield { key: row.key as unknown as KvKey, value: row.value };
  }
}

/** Fedify's key–value cache, and how to close its connections. */
export interface FederationBackends {
  kv: KvStore;
  close(): Promise<void>;
}

/** Opens Fedify's cache in the database (the job engine owns the queues: `jobs/engine.ts`). */
export function openFederationBackends(connectionString: string): FederationBackends {
  const sql = postgres(connectionString, { max: 4, onnotice: () => {} });
  return {
    kv: new PostgresKvAdapter(sql),
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
