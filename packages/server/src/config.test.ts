import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultDataDir, describeData, findProjectRoot, loadConfig } from "./config.ts";

describe("the default data directory", () => {
  let root = "";

  before(async () => {
    // root/package.json declares workspaces; root/packages/server has its own package.json.
    root = await mkdtemp(join(tmpdir(), "clique-root-"));
    await writeFile(join(root, "package.json"), JSON.stringify({ workspaces: ["packages/*"] }));
    await mkdir(join(root, "packages", "server", "src"), { recursive: true });
    await writeFile(join(root, "packages", "server", "package.json"), JSON.stringify({}));
    await mkdir(join(root, "docs", "deep"), { recursive: true });
  });

  after(() => rm(root, { recursive: true, force: true }));

  test("is .clique in the project root, whatever the working directory", () => {
    const server = join(root, "packages", "server");
    assert.equal(findProjectRoot(server), root);
    assert.equal(findProjectRoot(join(server, "src")), root);
    for (const cwd of [root, join(root, "docs", "deep"), tmpdir()])
      assert.equal(defaultDataDir(server, cwd), join(root, ".clique"), `from ${cwd}`);
  });

  test("falls back to the working directory outside any project", async () => {
    const lone = await mkdtemp(join(tmpdir(), "clique-lone-"));
    try {
      // A package.json without workspaces is not a project root.
      await writeFile(join(lone, "package.json"), JSON.stringify({ name: "x" }));
      assert.equal(findProjectRoot(lone), null);
      assert.equal(defaultDataDir(lone, "/somewhere/else"), join("/somewhere/else", ".clique"));
    } finally {
      await rm(lone, { recursive: true, force: true });
    }
  });

  test("of this repository is its root's .clique, also from a subdirectory", () => {
    const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
    const expected = join(repoRoot, ".clique");
    assert.equal(loadConfig({}).dataDir, expected);
    const cwd = process.cwd();
    process.chdir(join(repoRoot, "packages", "core"));
    try {
      assert.equal(loadConfig({}).dataDir, expected);
      // An explicit relative directory is relative to where the command runs.
      assert.equal(loadConfig({ CLIQUE_DATA_DIR: "data" }).dataDir, resolve("data"));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("loadConfig", () => {
  test("binds to loopback unless told otherwise", () => {
    assert.equal(loadConfig({}).host, "127.0.0.1");
    assert.equal(loadConfig({ HOST: "0.0.0.0" }).host, "0.0.0.0");
  });

  test("trusts no proxy by default; parses CLIQUE_TRUSTED_PROXIES once", () => {
    assert.deepEqual(loadConfig({}).trustedProxies.entries, []);
    const config = loadConfig({ CLIQUE_TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8" });
    assert.deepEqual(config.trustedProxies.entries, ["127.0.0.1", "10.0.0.0/8"]);
    assert.ok(config.trustedProxies.has("10.2.3.4"));
    assert.throws(
      () => loadConfig({ CLIQUE_TRUSTED_PROXIES: "10.0.0.0/8, my-proxy" }),
      /CLIQUE_TRUSTED_PROXIES: "my-proxy" is not an IP address/,
    );
  });

  test("keeps media on disk unless a bucket is named; half an S3 setup is an error", () => {
    assert.equal(loadConfig({}).media.s3, null);
    const minio = loadConfig({
      CLIQUE_S3_ENDPOINT: "http://127.0.0.1:9000",
      CLIQUE_S3_BUCKET: "clique-media",
      CLIQUE_S3_ACCESS_KEY_ID: "id",
      CLIQUE_S3_SECRET_ACCESS_KEY: "secret",
    }).media.s3;
    assert.deepEqual(minio, {
      endpoint: "http://127.0.0.1:9000",
      bucket: "clique-media",
      region: "us-east-1",
      credentials: { accessKeyId: "id", secretAccessKey: "secret" },
      pathStyle: true,
    });
    const aws = loadConfig({ CLIQUE_S3_BUCKET: "clique-media", CLIQUE_S3_REGION: "eu-west-3" });
    assert.deepEqual(aws.media.s3, {
      endpoint: null,
      bucket: "clique-media",
      region: "eu-west-3",
      credentials: null,
      pathStyle: false,
    });
    assert.throws(
      () => loadConfig({ CLIQUE_S3_ENDPOINT: "http://127.0.0.1:9000" }),
      /CLIQUE_S3_BUCKET: needed/,
    );
    assert.throws(
      () => loadConfig({ CLIQUE_S3_BUCKET: "b-1", CLIQUE_S3_SECRET_ACCESS_KEY: "hush-hush" }),
      (error: Error) => /go together/.test(error.message) && !error.message.includes("hush-hush"),
    );
    assert.throws(() => loadConfig({ CLIQUE_S3_BUCKET: "Not A Bucket" }), /S3 bucket name/);
  });

  test("single sign-on needs issuer, client id and secret together, and https", () => {
    assert.equal(loadConfig({}).oidc, null);
    const oidc = {
      CLIQUE_OIDC_ISSUER: "https://idp.example/realms/clique",
      CLIQUE_OIDC_CLIENT_ID: "clique",
      CLIQUE_OIDC_CLIENT_SECRET: "hush-hush",
    };
    assert.deepEqual(loadConfig(oidc).oidc, {
      issuer: "https://idp.example/realms/clique",
      clientId: "clique",
      clientSecret: "hush-hush",
      name: "single sign-on",
    });
    assert.equal(loadConfig({ ...oidc, CLIQUE_OIDC_NAME: "Keycloak" }).oidc?.name, "Keycloak");
    assert.throws(
      () => loadConfig({ ...oidc, CLIQUE_OIDC_CLIENT_ID: "" }),
      (error: Error) => /go together/.test(error.message) && !error.message.includes("hush-hush"),
    );
    assert.throws(() => loadConfig({ CLIQUE_OIDC_NAME: "Keycloak" }), /CLIQUE_OIDC_NAME: needs/);
    const plain = { ...oidc, CLIQUE_OIDC_ISSUER: "http://127.0.0.1:8080" };
    assert.throws(() => loadConfig(plain), /must be an https:\/\/ URL/);
    assert.equal(
      loadConfig({ ...plain, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" }).oidc?.issuer,
      "http://127.0.0.1:8080",
    );
  });

  test("describes the data without a password", () => {
    const withUrl = loadConfig({
      CLIQUE_DATA_DIR: "/srv/clique",
      DATABASE_URL: "postgres://clique:s3cret@db.internal:5432/clique",
    });
    const text = describeData(withUrl);
    assert.equal(
      text,
      "data directory /srv/clique; database db.internal:5432/clique from DATABASE_URL",
    );
    assert.doesNotMatch(text, /s3cret|clique:/);
    assert.equal(
      describeData(loadConfig({ CLIQUE_DATA_DIR: "/srv/clique" })),
      "data directory /srv/clique, with its embedded PostgreSQL",
    );
  });
});
