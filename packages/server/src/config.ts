/**
 * Configuration: parsed once, from the environment, into a typed object.
 * Every other module receives what it needs from here.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type AddressSet, parseAddressSet } from "./http/client-address.ts";
import type { S3Settings } from "./media/s3-blob-store.ts";

/** The server's settings. */
export interface Config {
  port: number;
  /** Interface to bind: loopback unless the operator exposes it (`0.0.0.0`, `::`, an address). */
  host: string;
  origin: string;
  dataDir: string;
  /** `null`: the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | null;
  /** `null`: queues and caches live in PostgreSQL. */
  redisUrl: string | null;
  /** Allow fetching and delivering to loopback/private addresses (tests, local trials). */
  allowPrivateAddress: boolean;
  defaultMemberCap: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Reverse proxies whose `X-Forwarded-For` is believed; nobody's by default. */
  trustedProxies: AddressSet;
  logLevel: "debug" | "info" | "warning" | "error";
  /** What this process does: serve HTTP, run the jobs (relay, deliveries, inbox), or both. */
  role: Role;
  /** Connections of the main database pool (the job engine and Fedify's cache hold a few more). */
  dbPoolSize: number;
  media: {
    /** Where media files live (local disk). */
    dir: string;
    /** Largest image upload, in bytes. */
    imageBytes: number;
    /** Largest video upload, in bytes. */
    videoBytes: number;
    /** Most pixels an image may have. */
    maxPixels: number;
    /** An S3-compatible bucket for the files instead of `dir` (which then holds only temporary copies). */
    s3: S3Settings | null;
  };
  /** Sign-in through an OpenID Connect provider; `null` when not configured. */
  oidc: OidcSettings | null;
  jobs: {
    /** Tries per delivery before it is a dead letter (inbox and fan-out jobs get fewer). */
    deliveryAttempts: number;
    /** First wait before retrying a failed job; doubles every time. */
    retryBaseMs: number;
    /** How long a worker's hold on a job lasts: a dead worker's jobs are taken up after it. */
    lockMs: number;
    /** How long a stopping worker waits for its running jobs. */
    shutdownMs: number;
    /** Deliveries one worker process makes at once. */
    deliveryConcurrency: number;
    /** Test only: the process kills itself (SIGKILL) at this step. */
    crashAt: "relay-handed-over" | null;
  };
}

/** An OpenID Connect provider members may sign in with. */
export interface OidcSettings {
  /** The provider's issuer URL (its discovery document is under it). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** What the sign-in button says ("Sign in with ..."). */
  name: string;
}

/** What a process does. `all`: web and jobs in one process (the default). */
export const ROLES = ["all", "web", "worker"] as const;
/** What a process does. */
export type Role = (typeof ROLES)[number];

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  CLIQUE_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
  CLIQUE_DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .optional(),
  CLIQUE_ALLOW_PRIVATE_ADDRESS: bool.default(false),
  CLIQUE_MEMBER_CAP: z.coerce.number().int().min(1).max(10_000).default(50),
  CLIQUE_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  CLIQUE_TRUSTED_PROXIES: z
    .string()
    .transform((text, ctx) => {
      try {
        return parseAddressSet(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warning", "error"]).default("info"),
  CLIQUE_ROLE: z.enum(ROLES).default("all"),
  // At least 4: each of the two relay loops holds one connection while its subscribers use others.
  CLIQUE_DB_POOL: z.coerce.number().int().min(4).max(200).default(10),
  CLIQUE_MEDIA_DIR: z.string().min(1).optional(),
  CLIQUE_IMAGE_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  CLIQUE_VIDEO_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(8 * 1024 * 1024 * 1024)
    .default(100 * 1024 * 1024),
  CLIQUE_IMAGE_MAX_PIXELS: z.coerce
    .number()
    .int()
    .min(1_000_000)
    .max(1_000_000_000)
    .default(50_000_000),
  CLIQUE_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  CLIQUE_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
    .optional(),
  CLIQUE_S3_REGION: z.string().min(1).default("us-east-1"),
  CLIQUE_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  CLIQUE_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  CLIQUE_S3_PATH_STYLE: bool.optional(),
  CLIQUE_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  CLIQUE_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  CLIQUE_JOB_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  CLIQUE_SHUTDOWN_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  CLIQUE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  CLIQUE_TEST_CRASH_AT: z.enum(["relay-handed-over"]).optional(),
  CLIQUE_OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  CLIQUE_OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  CLIQUE_OIDC_CLIENT_SECRET: z.string().min(1).max(2000).optional(),
  CLIQUE_OIDC_NAME: z.string().trim().min(1).max(60).optional(),
});

const SERVER_PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

/**
 * The project's root: the nearest directory at or above `from` whose
 * `package.json` declares `workspaces` (the monorepo's), or `null`.
 */
export function findProjectRoot(from: string): string | null {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { workspaces?: unknown };
        if (parsed.workspaces !== undefined) return dir;
      } catch {
        // Not ours to judge: keep looking above it.
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Where data lives when `CLIQUE_DATA_DIR` is unset: `.clique` in the project
 * root, wherever the command is run from (so `npx clique` in a subdirectory
 * finds the same Clique); `.clique` in `cwd` when there is no project root.
 */
export function defaultDataDir(
  from: string = SERVER_PACKAGE_DIR,
  cwd: string = process.cwd(),
): string {
  return path.join(findProjectRoot(from) ?? cwd, ".clique");
}

/** Which database a configuration uses, for people to read (never a password). */
export function describeDatabase(config: Config): string {
  if (config.databaseUrl === null) return "its embedded PostgreSQL";
  try {
    const url = new URL(config.databaseUrl);
    return `${url.host}${url.pathname} from DATABASE_URL`;
  } catch {
    // Validated at load; keep the vague wording if it somehow is not a URL.
    return "the one named by DATABASE_URL";
  }
}

/** Which data directory and database a configuration uses, in one phrase. */
export function describeData(config: Config): string {
  return config.databaseUrl === null
    ? `data directory ${config.dataDir}, with ${describeDatabase(config)}`
    : `data directory ${config.dataDir}; database ${describeDatabase(config)}`;
}

/** Thrown for a bad setting; the message names the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The S3 settings, when a bucket is named; a half-given set is an error, not a quiet fallback to disk. */
function s3Settings(e: z.infer<typeof schema>): S3Settings | null {
  const given = [
    e.CLIQUE_S3_ENDPOINT,
    e.CLIQUE_S3_ACCESS_KEY_ID,
    e.CLIQUE_S3_SECRET_ACCESS_KEY,
    e.CLIQUE_S3_PATH_STYLE,
  ].some((v) => v !== undefined);
  if (!e.CLIQUE_S3_BUCKET) {
    if (given)
      throw new ConfigError(
        "Invalid configuration: CLIQUE_S3_BUCKET: needed with the other CLIQUE_S3_ settings",
      );
    return null;
  }
  if ((e.CLIQUE_S3_ACCESS_KEY_ID === undefined) !== (e.CLIQUE_S3_SECRET_ACCESS_KEY === undefined))
    throw new ConfigError(
      "Invalid configuration: CLIQUE_S3_ACCESS_KEY_ID and CLIQUE_S3_SECRET_ACCESS_KEY go together",
    );
  return {
    endpoint: e.CLIQUE_S3_ENDPOINT ?? null,
    bucket: e.CLIQUE_S3_BUCKET,
    region: e.CLIQUE_S3_REGION,
    credentials:
      e.CLIQUE_S3_ACCESS_KEY_ID && e.CLIQUE_S3_SECRET_ACCESS_KEY
        ? {
            accessKeyId: e.CLIQUE_S3_ACCESS_KEY_ID,
            secretAccessKey: e.CLIQUE_S3_SECRET_ACCESS_KEY,
          }
        : null,
    // Self-hosted servers (MinIO, Garage, Ceph) want the bucket in the path; AWS wants it in the host.
    pathStyle: e.CLIQUE_S3_PATH_STYLE ?? e.CLIQUE_S3_ENDPOINT !== undefined,
  };
}

/** The OpenID Connect settings: all three of issuer, client id and secret, or none. */
function oidcSettings(e: z.infer<typeof schema>): OidcSettings | null {
  const parts = [e.CLIQUE_OIDC_ISSUER, e.CLIQUE_OIDC_CLIENT_ID, e.CLIQUE_OIDC_CLIENT_SECRET];
  if (parts.every((v) => v === undefined)) {
    if (e.CLIQUE_OIDC_NAME !== undefined)
      throw new ConfigError(
        "Invalid configuration: CLIQUE_OIDC_NAME: needs CLIQUE_OIDC_ISSUER, CLIQUE_OIDC_CLIENT_ID and CLIQUE_OIDC_CLIENT_SECRET",
      );
    return null;
  }
  if (!e.CLIQUE_OIDC_ISSUER || !e.CLIQUE_OIDC_CLIENT_ID || !e.CLIQUE_OIDC_CLIENT_SECRET)
    throw new ConfigError(
      "Invalid configuration: CLIQUE_OIDC_ISSUER, CLIQUE_OIDC_CLIENT_ID and CLIQUE_OIDC_CLIENT_SECRET go together",
    );
  // Tokens and the client secret must not cross the network in the clear; loopback trials may.
  if (e.CLIQUE_OIDC_ISSUER.startsWith("http:") && !e.CLIQUE_ALLOW_PRIVATE_ADDRESS)
    throw new ConfigError(
      "Invalid configuration: CLIQUE_OIDC_ISSUER: must be an https:// URL (http only with CLIQUE_ALLOW_PRIVATE_ADDRESS=true, for tests)",
    );
  return {
    issuer: e.CLIQUE_OIDC_ISSUER,
    clientId: e.CLIQUE_OIDC_CLIENT_ID,
    clientSecret: e.CLIQUE_OIDC_CLIENT_SECRET,
    name: e.CLIQUE_OIDC_NAME ?? "single sign-on",
  };
}

/** Reads the configuration from an environment (normally `process.env`). */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty variables count as unset: `FOO= npm start` should not fail.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const s3 = s3Settings(e);
  const oidc = oidcSettings(e);
  const origin = new URL(e.CLIQUE_ORIGIN ?? `http://localhost:${e.PORT || 3000}`).origin;
  return {
    port: e.PORT,
    host: e.HOST,
    origin,
    // An explicit directory is relative to where the command runs, as paths are.
    dataDir: e.CLIQUE_DATA_DIR !== undefined ? path.resolve(e.CLIQUE_DATA_DIR) : defaultDataDir(),
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    allowPrivateAddress: e.CLIQUE_ALLOW_PRIVATE_ADDRESS,
    defaultMemberCap: e.CLIQUE_MEMBER_CAP,
    bodyLimit: e.CLIQUE_BODY_LIMIT,
    trustedProxies: e.CLIQUE_TRUSTED_PROXIES ?? parseAddressSet(""),
    logLevel: e.LOG_LEVEL,
    role: e.CLIQUE_ROLE,
    dbPoolSize: e.CLIQUE_DB_POOL,
    media: {
      dir:
        e.CLIQUE_MEDIA_DIR !== undefined
          ? path.resolve(e.CLIQUE_MEDIA_DIR)
          : path.join(
              e.CLIQUE_DATA_DIR !== undefined ? path.resolve(e.CLIQUE_DATA_DIR) : defaultDataDir(),
              "media",
            ),
      imageBytes: e.CLIQUE_IMAGE_LIMIT,
      videoBytes: e.CLIQUE_VIDEO_LIMIT,
      maxPixels: e.CLIQUE_IMAGE_MAX_PIXELS,
      s3,
    },
    oidc,
    jobs: {
      deliveryAttempts: e.CLIQUE_DELIVERY_ATTEMPTS,
      retryBaseMs: e.CLIQUE_RETRY_BASE_MS,
      lockMs: e.CLIQUE_JOB_LOCK_MS,
      shutdownMs: e.CLIQUE_SHUTDOWN_MS,
      deliveryConcurrency: e.CLIQUE_DELIVERY_CONCURRENCY,
      crashAt: e.CLIQUE_TEST_CRASH_AT ?? null,
    },
  };
}

/** Every variable the server reads, for `--help` and the README. */
export const ENVIRONMENT_VARIABLES: readonly { name: string; default: string; meaning: string }[] =
  [
    { name: "PORT", default: "3000", meaning: "TCP port to listen on" },
    {
      name: "HOST",
      default: "127.0.0.1",
      meaning: "interface to bind; 0.0.0.0 (or ::) serves other machines too",
    },
    {
      name: "CLIQUE_ORIGIN",
      default: "http://localhost:$PORT",
      meaning: "public origin (scheme://host[:port]) used in links and ActivityPub ids",
    },
    {
      name: "CLIQUE_DATA_DIR",
      default: "<project root>/.clique",
      meaning: "where the embedded database and other data live",
    },
    {
      name: "DATABASE_URL",
      default: "(embedded PostgreSQL)",
      meaning: "PostgreSQL connection URL",
    },
    {
      name: "REDIS_URL",
      default: "(none: PostgreSQL)",
      meaning: "Redis URL for queues and caches",
    },
    {
      name: "CLIQUE_ALLOW_PRIVATE_ADDRESS",
      default: "false",
      meaning: "allow federation with loopback/private addresses (tests only)",
    },
    {
      name: "CLIQUE_MEMBER_CAP",
      default: "50",
      meaning: "member cap used by `clique init` when --cap is not given",
    },
    { name: "CLIQUE_BODY_LIMIT", default: "1048576", meaning: "largest request body, in bytes" },
    {
      name: "CLIQUE_TRUSTED_PROXIES",
      default: "(none)",
      meaning:
        "reverse proxies whose X-Forwarded-For is believed: addresses and CIDRs, comma-separated",
    },
    {
      name: "CLIQUE_ROLE",
      default: "all",
      meaning: "what `clique start` runs: web, worker (relay, deliveries, inbox) or all",
    },
    {
      name: "CLIQUE_DB_POOL",
      default: "10",
      meaning: "database connections per process (the job engine and cache use about 17 more)",
    },
    {
      name: "CLIQUE_MEDIA_DIR",
      default: "$CLIQUE_DATA_DIR/media",
      meaning: "where photos and videos are stored",
    },
    {
      name: "CLIQUE_S3_BUCKET",
      default: "(none: files on disk)",
      meaning:
        "keep photos and videos in this S3-compatible bucket (CLIQUE_MEDIA_DIR then holds only temporary copies)",
    },
    {
      name: "CLIQUE_S3_ENDPOINT",
      default: "(AWS)",
      meaning: "the S3-compatible server's URL (MinIO, Garage, Ceph, R2...)",
    },
    { name: "CLIQUE_S3_REGION", default: "us-east-1", meaning: "the bucket's region" },
    {
      name: "CLIQUE_S3_ACCESS_KEY_ID",
      default: "(the AWS SDK's own chain)",
      meaning: "access key for the bucket, with CLIQUE_S3_SECRET_ACCESS_KEY (never logged)",
    },
    {
      name: "CLIQUE_S3_SECRET_ACCESS_KEY",
      default: "(the AWS SDK's own chain)",
      meaning: "secret key for the bucket (never logged)",
    },
    {
      name: "CLIQUE_S3_PATH_STYLE",
      default: "true with CLIQUE_S3_ENDPOINT",
      meaning: "bucket in the URL path (self-hosted servers) rather than in the host name (AWS)",
    },
    {
      name: "CLIQUE_IMAGE_LIMIT",
      default: "16777216",
      meaning: "largest image upload, in bytes",
    },
    {
      name: "CLIQUE_VIDEO_LIMIT",
      default: "104857600",
      meaning: "largest video upload, in bytes",
    },
    {
      name: "CLIQUE_IMAGE_MAX_PIXELS",
      default: "50000000",
      meaning: "most pixels an image may have (larger ones are refused)",
    },
    {
      name: "CLIQUE_DELIVERY_ATTEMPTS",
      default: "10",
      meaning: "tries per delivery before it is a dead letter (`clique queue status`)",
    },
    {
      name: "CLIQUE_RETRY_BASE_MS",
      default: "30000",
      meaning: "first wait before retrying a failed job, doubling each time",
    },
    {
      name: "CLIQUE_JOB_LOCK_MS",
      default: "30000",
      meaning: "after this long without a sign of life, a worker's job is taken up by another",
    },
    {
      name: "CLIQUE_SHUTDOWN_MS",
      default: "10000",
      meaning: "how long a stopping worker waits for its running jobs",
    },
    {
      name: "CLIQUE_DELIVERY_CONCURRENCY",
      default: "16",
      meaning: "deliveries one worker process makes at once",
    },
    {
      name: "CLIQUE_OIDC_ISSUER",
      default: "(none: passwords only)",
      meaning:
        "OpenID Connect provider members may sign in with (https; with CLIQUE_OIDC_CLIENT_ID and _SECRET)",
    },
    { name: "CLIQUE_OIDC_CLIENT_ID", default: "(none)", meaning: "this Clique's client id there" },
    {
      name: "CLIQUE_OIDC_CLIENT_SECRET",
      default: "(none)",
      meaning: "this Clique's client secret there (never logged)",
    },
    {
      name: "CLIQUE_OIDC_NAME",
      default: "single sign-on",
      meaning: "what the sign-in button names the provider",
    },
    { name: "LOG_LEVEL", default: "info", meaning: "debug, info, warning or error" },
  ];
