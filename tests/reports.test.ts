/**
 * Reports, through real processes: two Cliques behind TLS proxies on loopback
 * (as in `federation.test.ts`), and a fake Mastodon-shaped server that sends
 * `Flag`s of its own.
 *
 * Site A: alice (owner), amy (member). Site B: bob (owner), bea (member).
 * amy follows bea and reports one of bea's posts with Mastodon's
 * `POST /api/v1/reports`; alice works the queue with Mastodon's admin API
 * (through masto, a Mastodon client library) and forwards the report
 * to B, which files it in its own queue. B's proxy records what B was sent,
 * so the test reads the very `Flag` that arrived. The tests run in order and
 * build on each other.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openDatabase } from "@clique/core/kysely";
import { createModeration, type ModerationDatabase } from "@clique/moderation";
import {
  createTestCertificates,
  createTestDatabase,
  type FakeRemote,
  lastLine,
  runCli,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  startTlsProxy,
  stopEmbeddedTestServer,
  type TestCertificates,
  type TestDatabase,
  type TlsProxy,
  trustingFetch,
} from "@clique/testing";
import type { Kysely } from "kysely";
import { createRestAPIClient, MastoHttpError, type mastodon as masto } from "masto";
import { publishInstanceActor } from "./support/instance-actor.ts";
import { deliver, type Signer } from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const TIMEOUT_MS = 20_000;

type Json = Record<string, unknown> & { id: string };

interface Site {
  label: string;
  origin: string;
  host: string;
  server: ServerProcess;
  proxy: TlsProxy;
  db: TestDatabase;
  env: Record<string, string | undefined>;
  tokens: Record<string, string>;
  ids: Record<string, string>;
}

const cleanup: (() => Promise<unknown>)[] = [];
const logs: { label: string; output: () => string }[] = [];
let failed = false;
let certs: TestCertificates;
let httpsFetch: ReturnType<typeof trustingFetch>;
let A: Site;
let B: Site;
let mastodon: FakeRemote;
let mastodonActor: Signer;

async function startSite(
  label: string,
  owner: string,
  members: readonly string[],
  record = false,
): Promise<Site> {
  const db = await createTestDatabase();
  cleanup.push(() => db.drop());
  const dataDir = await mkdtemp(join(tmpdir(), `clique-reports-${label}-`));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const proxy = await startTlsProxy({ cert: certs.cert, key: certs.key, record });
  cleanup.push(() => proxy.close());
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_DATA_DIR: dataDir,
    CLIQUE_ORIGIN: proxy.origin,
    CLIQUE_DB_POOL: "4",
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    NODE_EXTRA_CA_CERTS: certs.caPath,
  };
  const password = (name: string) => `password-of-${name}-${label}`;
  await runCliOk(["init", "--name", `Site ${label}`, "--owner", owner, "--password-stdin"], {
    env,
    stdin: password(owner),
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", owner], { env }));
  for (const name of members)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: password(name),
    });
  const tokens: Record<string, string> = {};
  for (const name of [owner, ...members])
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
  const server = await startServerProcess({
    env,
    databaseUrl: db.url,
    dataDir,
    origin: proxy.origin,
  });
  cleanup.unshift(() => server.stop());
  logs.push({ label, output: () => server.output() });
  proxy.upstream = server.url;
  const site: Site = {
    label,
    origin: proxy.origin,
    host: new URL(proxy.origin).host,
    server,
    proxy,
    db,
    env,
    tokens,
    ids: {},
  };
  for (const name of [owner, ...members])
    site.ids[name] = (await api(site, name, "GET", "/api/v1/accounts/verify_credentials")).id;
  return site;
}

before(async () => {
  certs = await createTestCertificates();
  cleanup.push(() => certs.remove());
  httpsFetch = trustingFetch(certs.ca);
  mastodon = await startFakeRemote({ usernames: ["moderator"] });
  cleanup.push(() => mastodon.close());
  mastodonActor = publishInstanceActor(mastodon);
  [A, B] = await Promise.all([
    startSite("a", "alice", ["amy"]),
    startSite("b", "bob", ["bea"], true),
  ]);
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed) for (const log of logs) console.error(`--- server ${log.label} ---\n${log.output()}`);
  for (const step of cleanup) await step().catch((error: unknown) => console.error(error));
  await stopEmbeddedTestServer();
});

// ---------------------------------------------------------------- helpers

/**
 * A request as a Mastodon app makes it: a bearer token, `Accept: application/json`,
 * and a form body (`application/x-www-form-urlencoded`, lists as `key[]`) or JSON.
 */
async function request(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: Record<string, unknown> | URLSearchParams,
) {
  const headers: Record<string, string> = { accept: "application/json, text/plain, */*" };
  if (user) headers.authorization = `Bearer ${site.tokens[user]}`;
  let text: string | undefined;
  if (body instanceof URLSearchParams) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    text = body.toString();
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    text = JSON.stringify(body);
  }
  const response = await httpsFetch(`${site.origin}${path}`, {
    method,
    headers,
    ...(text !== undefined ? { body: text } : {}),
  });
  const raw = await response.text();
  let json: unknown = raw;
  try {
    json = JSON.parse(raw);
  } catch {
    // Kept as text for the message.
  }
  return {
    status: response.status,
    body: json as Record<string, unknown>,
    headers: response.headers,
  };
}

async function api<T = Json>(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: Record<string, unknown> | URLSearchParams,
): Promise<T> {
  const r = await request(site, user, method, path, body);
  assert.ok(
    r.status >= 200 && r.status < 300,
    `${method} ${site.label}${path} as ${user}: ${r.status} ${JSON.stringify(r.body)}`,
  );
  return r.body as T;
}

async function eventually<T>(what: string, probe: () => Promise<T>): Promise<NonNullable<T>> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) assert.fail(`Timed out waiting for ${what}`);
    await sleep(150);
  }
}

function token(label: string): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

/** The audit log of a site, read as moderation reads it. */
async function auditOf(site: Site, reportId: string) {
  const db = openDatabase(site.db.url, { maxConnections: 1 });
  try {
    const moderation = createModeration({ db: db as unknown as Kysely<ModerationDatabase> });
    return await moderation.audit.list({ about: { kind: "report", id: reportId } });
  } finally {
    await db.destroy();
  }
}

/** The `Flag`s B's proxy saw arrive, as JSON, with the request they came in. */
function flagsAtB() {
  return B.proxy.requests
    .filter((r) => r.method === "POST" && /inbox$/.test(r.path))
    .map((r) => ({ request: r, json: JSON.parse(r.body) as Record<string, unknown> }))
    .filter((r) => r.json.type === "Flag");
}

interface AdminReport extends Json {
  action_taken: boolean;
  action_taken_comment: string | null;
  state: string;
  comment: string;
  category: string;
  forwarded: boolean;
  account: (Json & { username: string; domain: string | null; account: Json | null }) | null;
  target_account: Json & { username: string; domain: string | null; account: Json };
  assigned_account: Json | null;
  action_taken_by_account: Json | null;
  statuses: (Json & { content: string })[];
  reported_posts: { id: string; uri: string; content: string }[];
  reporter_domain: string | null;
}

/** A Mastodon client library, talking to a site's server as an app would. */
function client(site: Site, user: string): masto.rest.Client {
  return createRestAPIClient({ url: site.server.url, accessToken: site.tokens[user] });
}

function isHttpError(status: number) {
  return (error: unknown) => {
    assert.ok(error instanceof MastoHttpError, `expected an HTTP error, got ${String(error)}`);
    assert.equal(error.statusCode, status, error.message);
    return true;
  };
}

/** An `Admin::Report` as masto reads it (camelCase), with Clique's extensions. */
type CliqueAdminReport = masto.v1.admin.Report & {
  account: masto.v1.admin.Account;
  targetAccount: masto.v1.admin.Account;
  reportedPosts: { id: string; uri: string; content: string }[];
  actionTakenComment: string | null;
  state: string;
};

// ---------------------------------------------------------------- the world

/** What the tests learn as they go. */
const known = {
  beaOnA: "",
  beaPostOnA: "",
  beaPostOnB: "",
  beaPostUri: "",
  beaToken: "",
  alicePrivate: "",
  amyPublic: "",
  amyClique: "",
  report: "",
  secondReport: "",
  comment: "",
};

describe("reports between two Cliques", () => {
  test("amy follows bea on B and sees her followers-only post", async () => {
    const found = await api<{ accounts: Json[] }>(
      A,
      "amy",
      "GET",
      `/api/v2/search?q=${encodeURIComponent(`bea@${B.host}`)}&resolve=true&type=accounts`,
    );
    known.beaOnA = found.accounts[0]!.id;
    await api(A, "amy", "POST", `/api/v1/accounts/${known.beaOnA}/follow`);
    const request = await eventually("amy's follow request on B", async () =>
      (await api<Json[]>(B, "bea", "GET", "/api/v1/follow_requests")).find(
        (a) => a.acct === `amy@${A.host}`,
      ),
    );
    await api(B, "bea", "POST", `/api/v1/follow_requests/${request.id}/authorize`);
    await eventually("amy to follow bea", async () => {
      const [r] = await api<{ following: boolean }[]>(
        A,
        "amy",
        "GET",
        `/api/v1/accounts/relationships?id[]=${known.beaOnA}`,
      );
      return r?.following;
    });
    known.beaToken = token("bea-insults");
    const posted = await api<Json & { uri: string }>(B, "bea", "POST", "/api/v1/statuses", {
      status: `you are all fools ${known.beaToken}`,
      visibility: "private",
    });
    known.beaPostOnB = posted.id;
    known.beaPostUri = posted.uri;
    const arrived = await eventually("bea's post in amy's home", async () =>
      (await api<(Json & { content: string })[]>(A, "amy", "GET", "/api/v1/timelines/home")).find(
        (s) => s.content.includes(known.beaToken),
      ),
    );
    known.beaPostOnA = arrived.id;
    // A post of alice's that amy cannot see (direct, naming nobody), and two of amy's.
    known.alicePrivate = (
      await api(A, "alice", "POST", "/api/v1/statuses", {
        status: "alice's own note",
        visibility: "direct",
      })
    ).id;
    known.amyPublic = (
      await api(A, "amy", "POST", "/api/v1/statuses", {
        status: "amy, public",
        visibility: "public",
      })
    ).id;
    known.amyClique = (
      await api(A, "amy", "POST", "/api/v1/statuses", {
        status: "amy, Clique only",
        audience: "clique",
      })
    ).id;
  });

  test("a member reports a post she can see with Mastodon's POST /api/v1/reports", async () => {
    known.comment = `amy-private-words-${randomBytes(4).toString("hex")}`;
    const report = await client(A, "amy").v1.reports.create({
      accountId: known.beaOnA,
      statusIds: [known.beaPostOnA],
      comment: known.comment,
      category: "spam",
      forward: true,
    });
    known.report = report.id;
    assert.deepEqual(
      {
        actionTaken: report.actionTaken,
        category: report.category,
        comment: report.comment,
        forwarded: report.forwarded,
        statusIds: report.statusIds,
        state: (report as unknown as { state: string }).state,
        acct: report.targetAccount.acct,
      },
      {
        actionTaken: false,
        category: "spam",
        comment: known.comment,
        forwarded: false,
        statusIds: [known.beaPostOnA],
        state: "open",
        acct: `bea@${B.host}`,
      },
    );
  });

  test("a post she cannot see, or of someone else, is not found (404)", async () => {
    for (const [account, status] of [
      [A.ids.alice!, known.alicePrivate],
      [known.beaOnA, known.alicePrivate],
      [known.beaOnA, known.amyPublic],
    ]) {
      // As a form, the way many apps send it.
      const form = new URLSearchParams({ account_id: account!, comment: "should not be filed" });
      form.append("status_ids[]", status!);
      const refused = await request(A, "amy", "POST", "/api/v1/reports", form);
      assert.equal(refused.status, 404, JSON.stringify(refused.body));
      assert.deepEqual(refused.body, { error: "Record not found", code: "not_found" });
    }
    const mine = await api<Json[]>(A, "amy", "GET", "/api/v1/clique/reports");
    assert.deepEqual(
      mine.map((r) => r.id),
      [known.report],
      "only the report that was filed",
    );
  });

  test("moderators list and assign through Mastodon's admin API; members cannot", async () => {
    await assert.rejects(
      async () => await client(A, "amy").v1.admin.reports.list(),
      isHttpError(403),
    );
    const open = await client(A, "alice").v1.admin.reports.list({ resolved: false });
    const report = open.find((r) => r.id === known.report) as unknown as CliqueAdminReport;
    assert.ok(report, "the report is in the queue");
    assert.equal(report.account.username, "amy");
    assert.equal(report.account.domain, null);
    assert.equal(report.account.account.acct, "amy");
    assert.equal(report.targetAccount.username, "bea");
    assert.equal(report.targetAccount.domain, B.host);
    assert.equal(report.targetAccount.account.acct, `bea@${B.host}`);
    // `statuses` are what the moderator may see now (the visibility module): alice does
    // not follow bea. What amy saw and reported is kept with the report.
    assert.deepEqual(report.statuses, []);
    assert.deepEqual(
      report.reportedPosts.map((p) => [p.id, p.uri]),
      [[known.beaPostOnA, known.beaPostUri]],
    );
    assert.match(report.reportedPosts[0]!.content, new RegExp(known.beaToken));
    assert.equal(report.assignedAccount, null);
    assert.equal(report.actionTaken, false);

    const reportOf = client(A, "alice").v1.admin.reports.$select(known.report);
    const assigned = await reportOf.assignToSelf();
    assert.equal(assigned.assignedAccount?.id, A.ids.alice);
    const fetched = await reportOf.fetch();
    assert.equal(fetched.assignedAccount?.id, A.ids.alice);
    assert.equal(fetched.comment, known.comment);
  });

  test("forwarded, it reaches B as a Flag from A's instance actor, naming no one of A", async () => {
    const forwarded = await api<AdminReport>(
      A,
      "alice",
      "POST",
      `/api/v1/clique/reports/${known.report}/forward`,
      {},
    );
    assert.equal(forwarded.forwarded, true);
    const again = await request(
      A,
      "alice",
      "POST",
      `/api/v1/clique/reports/${known.report}/forward`,
      {},
    );
    assert.equal(again.status, 422);
    assert.equal(again.body.code, "already_forwarded");

    const [arrived] = await eventually("a Flag at B", async () => {
      const flags = flagsAtB();
      return flags.length > 0 ? flags : null;
    });
    const flag = arrived!.json;
    const instance = `${A.origin}/users/instance.actor`;
    assert.equal(flag.actor, instance);
    assert.deepEqual([flag.object].flat(), [`${B.origin}/users/bea`, known.beaPostUri]);
    assert.equal(flag.content, undefined, "no comment unless the moderator sends it");
    assert.match(String(flag.id), new RegExp(`^${instance}/flags/`));
    // Signed by the instance actor too (draft-cavage or RFC 9421).
    const signature = `${arrived!.request.headers.signature ?? ""} ${arrived!.request.headers["signature-input"] ?? ""}`;
    assert.match(signature, /instance\.actor/);
    // Nothing in what B was sent names a member of A, amy's words, or her report.
    const sent = `${arrived!.request.body} ${JSON.stringify(arrived!.request.headers)}`;
    for (const secret of [
      "amy",
      "alice",
      `${A.origin}/users/amy`,
      A.ids.amy!,
      A.ids.alice!,
      known.report,
      known.comment,
    ])
      assert.ok(!sent.includes(secret), `B was not sent ${secret}`);
  });

  test("the Flag lands in B's queue, about bea and her post, from A's server", async () => {
    const report = await eventually("the report in B's queue", async () =>
      (await api<AdminReport[]>(B, "bob", "GET", "/api/v1/admin/reports")).find(
        (r) => r.target_account.username === "bea",
      ),
    );
    assert.equal(report.reporter_domain, A.host);
    assert.equal(report.account?.domain, A.host, "the reporter is A's instance actor");
    assert.equal(report.account?.username, "localhost");
    assert.equal(report.comment, "");
    assert.equal(report.category, "other");
    assert.equal(report.state, "open");
    // bob does not follow bea: her followers-only post is not his to see, only the report's record of it.
    assert.deepEqual(report.statuses, []);
    assert.deepEqual(
      report.reported_posts.map((p) => p.id),
      [known.beaPostOnB],
    );
    assert.match(report.reported_posts[0]!.content, new RegExp(known.beaToken));
    const text = JSON.stringify(report);
    for (const secret of ["amy", A.ids.amy!, known.comment])
      assert.ok(!text.includes(secret), `B's report does not name ${secret}`);
    // bea, the reported, sees nothing of it.
    assert.equal((await request(B, "bea", "GET", "/api/v1/admin/reports")).status, 403);
    assert.equal(
      (await request(B, "bea", "GET", `/api/v1/admin/reports/${report.id}`)).status,
      403,
    );
    assert.deepEqual(await api(B, "bea", "GET", "/api/v1/clique/reports"), []);
  });

  test("the moderator may send the comment along; still nobody is named", async () => {
    const words = `second look please ${token("comment")}`;
    known.secondReport = (
      await api(A, "amy", "POST", "/api/v1/reports", {
        account_id: known.beaOnA,
        comment: words,
        category: "violation",
      })
    ).id;
    await api(A, "alice", "POST", `/api/v1/clique/reports/${known.secondReport}/forward`, {
      include_comment: true,
    });
    const second = await eventually("a second Flag at B", async () =>
      flagsAtB().find((f) => f.json.content === words),
    );
    assert.deepEqual([second.json.object].flat(), [`${B.origin}/users/bea`]);
    assert.equal(second.json.actor, `${A.origin}/users/instance.actor`);
    for (const secret of ["amy", `${A.origin}/users/amy`, A.ids.amy!, known.secondReport])
      assert.ok(!second.request.body.includes(secret), `B was not sent ${secret}`);
    const onB = await eventually("the second report in B's queue", async () =>
      (await api<AdminReport[]>(B, "bob", "GET", "/api/v1/admin/reports")).find(
        (r) => r.comment === words,
      ),
    );
    assert.equal(onB.statuses.length, 0);
  });

  test("resolved with the action taken, then reopened; the reporter sees the state, and the audit log keeps it all", async () => {
    // Mastodon's apps resolve with nothing said: the second report.
    const bare = (await client(A, "alice")
      .v1.admin.reports.$select(known.secondReport)
      .resolve()) as unknown as CliqueAdminReport;
    assert.deepEqual(
      [bare.actionTaken, bare.state, bare.actionTakenComment],
      [true, "resolved", null],
    );
    // Clique's clients say what was done.
    const action = "Forwarded to B and muted bea for everyone";
    const form = new URLSearchParams({ action_taken_comment: action });
    const resolved = await api<AdminReport>(
      A,
      "alice",
      "POST",
      `/api/v1/admin/reports/${known.report}/resolve`,
      form,
    );
    assert.equal(resolved.action_taken, true);
    assert.equal(resolved.state, "resolved");
    assert.equal(resolved.action_taken_comment, action);
    assert.equal(resolved.action_taken_by_account?.id, A.ids.alice);
    assert.equal(
      (await request(A, "alice", "POST", `/api/v1/admin/reports/${known.report}/resolve`)).status,
      422,
    );

    const seenByAmy = await api<Json & Record<string, unknown>>(
      A,
      "amy",
      "GET",
      `/api/v1/clique/reports/${known.report}`,
    );
    assert.equal(seenByAmy.state, "resolved");
    assert.equal(seenByAmy.action_taken, true);
    assert.equal(seenByAmy.forwarded, true);
    for (const key of [
      "assigned_account",
      "action_taken_comment",
      "action_taken_by_account",
      "account",
    ])
      assert.ok(!(key in seenByAmy), `the reporter is not shown ${key}`);
    assert.ok(!JSON.stringify(seenByAmy).includes(action));
    // Nobody else's report is hers to read.
    assert.equal(
      (await request(A, "alice", "GET", `/api/v1/clique/reports/${known.report}`)).status,
      404,
    );

    const closed = await api<AdminReport[]>(
      A,
      "alice",
      "GET",
      "/api/v1/admin/reports?resolved=true",
    );
    assert.deepEqual(
      closed.map((r) => r.id),
      [known.secondReport, known.report],
    );
    const reopened = await api<AdminReport>(
      A,
      "alice",
      "POST",
      `/api/v1/admin/reports/${known.report}/reopen`,
    );
    assert.deepEqual(
      [reopened.state, reopened.action_taken, reopened.action_taken_comment],
      ["open", false, null],
    );
    const unassigned = await api<AdminReport>(
      A,
      "alice",
      "POST",
      `/api/v1/admin/reports/${known.report}/unassign`,
    );
    assert.equal(unassigned.assigned_account, null);
    const dismissed = await api<AdminReport>(
      A,
      "alice",
      "POST",
      `/api/v1/clique/reports/${known.report}/dismiss`,
      {
        reason: "bea left B",
      },
    );
    assert.deepEqual(
      [dismissed.state, dismissed.action_taken_comment],
      ["dismissed", "bea left B"],
    );

    const log = await auditOf(A, known.report);
    assert.deepEqual(
      log.map((e) => [e.action, e.actorId, e.reason]),
      [
        ["report.dismiss", A.ids.alice, "bea left B"],
        ["report.unassign", A.ids.alice, ""],
        ["report.reopen", A.ids.alice, ""],
        ["report.resolve", A.ids.alice, action],
        ["report.forward", A.ids.alice, ""],
        ["report.assign", A.ids.alice, ""],
      ],
    );
    assert.deepEqual(log.find((e) => e.action === "report.forward")?.details, {
      target_account_id: known.beaOnA,
      to: B.host,
      posts: 1,
      with_comment: false,
    });
  });

  test("B's operator works its queue with the CLI", async () => {
    const listed = await runCliOk(["report", "list", "--state", "open"], { env: B.env });
    const lines = listed.trim().split("\n");
    assert.equal(lines.length, 2, listed);
    assert.ok(
      lines.every((l) => l.includes("about @bea") && l.includes(`by server ${A.host}`)),
      listed,
    );
    const [first, second] = lines.map((l) => l.split(/\s+/)[0]!);
    const resolved = await runCliOk(["report", "resolve", first!, "--action", "Warned bea"], {
      env: B.env,
    });
    assert.match(resolved, /resolved: Warned bea/);
    const again = await runCli(["report", "resolve", first!, "--action", "twice"], { env: B.env });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /closed/);
    await runCliOk(["report", "dismiss", second!, "--reason", "Same as the other"], { env: B.env });
    assert.equal(
      (await runCliOk(["report", "list", "--state", "open"], { env: B.env })).trim(),
      "No open reports.",
    );
    const all = await runCliOk(["report", "list"], { env: B.env });
    assert.match(all, /resolved .*action: Warned bea/);
    assert.match(all, /dismissed .*action: Same as the other/);
    // A member may act with --by only if the permission table lets them.
    const asBea = await runCli(["report", "list", "--by", "bea"], { env: B.env });
    assert.notEqual(asBea.code, 0);
    assert.match(asBea.stderr, /not allowed/);
    const log = await auditOf(B, first!);
    assert.deepEqual(
      log.map((e) => [e.action, e.actorId, e.reason, e.details.via]),
      [["report.resolve", null, "Warned bea", "cli"]],
    );
  });
});

describe("Flags from a Mastodon-shaped server", () => {
  async function flag(object: unknown, content: string, id = `${mastodon.origin}/${randomUUID()}`) {
    const activity = {
      "@context": AS,
      id,
      type: "Flag",
      actor: `${mastodon.origin}/actor`,
      content,
      object,
    };
    const sent = await deliver(`${A.server.url}/inbox`, activity, { as: mastodonActor });
    assert.equal(sent.status, 202, sent.text);
    return activity;
  }

  test("a Flag about a member keeps only her posts its server may see; twice is once", async () => {
    const words = `mastodon says ${token("flag")}`;
    const amy = `${A.origin}/users/amy`;
    const activity = await flag(
      [
        amy,
        `${amy}/statuses/${known.amyPublic}`,
        // Clique-only: the flagging server never saw it.
        `${amy}/statuses/${known.amyClique}`,
        // Someone else's post.
        `${A.origin}/users/alice/statuses/${known.alicePrivate}`,
        `${mastodon.origin}/users/moderator`,
      ],
      words,
    );
    // The same Flag again, to amy's own inbox too.
    const again = await deliver(`${A.server.url}/users/amy/inbox`, activity, { as: mastodonActor });
    assert.equal(again.status, 202);
    const report = await eventually("the Flag in A's queue", async () =>
      (await api<AdminReport[]>(A, "alice", "GET", "/api/v1/admin/reports")).find(
        (r) => r.comment === words,
      ),
    );
    assert.equal(report.target_account.username, "amy");
    assert.equal(report.reporter_domain, mastodon.host);
    assert.equal(report.account?.account?.url !== undefined, true);
    assert.deepEqual(
      report.reported_posts.map((p) => p.id),
      [known.amyPublic],
    );
    // A public post: alice sees it, so Mastodon's apps get it in `statuses` too.
    assert.deepEqual(
      report.statuses.map((s) => s.id),
      [known.amyPublic],
    );
    // A later Flag is filed only once it arrives; by then the repeat has long been handled.
    await flag([amy], `marker ${token("m")}`);
    const all = await eventually("the marker Flag", async () => {
      const list = await api<AdminReport[]>(A, "alice", "GET", "/api/v1/admin/reports");
      return list.some((r) => r.comment.startsWith("marker ")) ? list : null;
    });
    assert.equal(all.filter((r) => r.comment === words).length, 1, "one report for one Flag");
  });

  test("a Flag naming none of our members files nothing", async () => {
    const before = (await api<AdminReport[]>(A, "alice", "GET", "/api/v1/admin/reports")).length;
    const sent = await flag(
      [`${mastodon.origin}/users/moderator`, `${A.origin}/users/nobody`],
      "about no one here",
    );
    await eventually("the server to say it filed nothing", async () =>
      A.server
        .output()
        .includes(`Flag '${sent.id}' from '${mastodon.origin}/actor' names none of our members`),
    );
    const after = await api<AdminReport[]>(A, "alice", "GET", "/api/v1/admin/reports");
    assert.equal(after.length, before);
    assert.ok(!after.some((r) => r.comment === "about no one here"));
  });

  test("an unsigned Flag is refused", async () => {
    const sent = await deliver(
      `${A.server.url}/inbox`,
      {
        "@context": AS,
        id: `${mastodon.origin}/${randomUUID()}`,
        type: "Flag",
        actor: `${mastodon.origin}/actor`,
        object: `${A.origin}/users/amy`,
      },
      { as: null },
    );
    assert.equal(sent.status, 401);
  });

  test("a blocked server's Flag files nothing", async () => {
    await runCliOk(["domain", "block", mastodon.host, "--reason", "Reports in bad faith"], {
      env: A.env,
    });
    // The block reaches the running server through PostgreSQL's NOTIFY: wait until its door
    // refuses the server (a Flag about no one here files nothing either way).
    await eventually("the server to refuse the blocked server", async () => {
      const probe = await deliver(
        `${A.server.url}/inbox`,
        {
          "@context": AS,
          id: `${mastodon.origin}/${randomUUID()}`,
          type: "Flag",
          actor: `${mastodon.origin}/actor`,
          object: [`${mastodon.origin}/users/moderator`],
        },
        { as: mastodonActor },
      );
      return probe.status === 403;
    });
    const before = (await api<AdminReport[]>(A, "alice", "GET", "/api/v1/admin/reports")).length;
    const activity = {
      "@context": AS,
      id: `${mastodon.origin}/${randomUUID()}`,
      type: "Flag",
      actor: `${mastodon.origin}/actor`,
      content: "from a blocked server",
      object: [`${A.origin}/users/amy`],
    };
    const sent = await deliver(`${A.server.url}/inbox`, activity, { as: mastodonActor });
    assert.equal(sent.status, 403, sent.text);
    const after = await api<AdminReport[]>(A, "alice", "GET", "/api/v1/admin/reports");
    assert.equal(after.length, before);
    assert.ok(!after.some((r) => r.comment === "from a blocked server"));
  });
});
