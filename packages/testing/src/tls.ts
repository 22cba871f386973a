/**
 * HTTPS for whole-system tests. Fedify resolves `acct:` handles over https
 * only, so servers that federate with each other need a real TLS origin: a
 * throwaway certificate authority (made with the `openssl` CLI; Node cannot
 * issue certificates), a TLS-terminating reverse proxy in front of a server
 * process that speaks plain http, as production deployments have, and a
 * `fetch` for the test process that trusts the throwaway CA.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** A throwaway CA and one server certificate it signed, as PEM files in a temp directory. */
export interface TestCertificates {
  /** The temp directory holding the files. */
  dir: string;
  /** Path of the CA certificate (for `NODE_EXTRA_CA_CERTS`). */
  caPath: string;
  /** The CA certificate, PEM. */
  ca: string;
  /** The server certificate, PEM. */
  cert: string;
  /** The server certificate's private key, PEM. */
  key: string;
  /** Deletes the directory. Idempotent. */
  remove(): Promise<void>;
}

/**
 * Makes a CA valid for a day and a server certificate for `hosts` (DNS names
 * or IP addresses; default `localhost`, `127.0.0.1` and `::1`).
 */
export async function createTestCertificates(
  hosts: readonly string[] = ["localhost", "127.0.0.1", "::1"],
): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "clique-test-tls-"));
  const file = (name: string) => join(dir, name);
  const openssl = async (...args: string[]) => {
    try {
      await exec("openssl", args, { cwd: dir });
    } catch (error) {
      const e = error as { code?: string; stderr?: string };
      throw new Error(
        e.code === "ENOENT"
          ? "The openssl command is needed to make test certificates (apt-get install openssl)"
          : `openssl ${args[0]} failed: ${e.stderr ?? String(error)}`,
        { cause: error },
      );
    }
  };
  try {
    // P-256 keys: generated in milliseconds, accepted everywhere.
    const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(
      "req",
      "-x509",
      ...newKey,
      ...["-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "1"],
      ...["-subj", "/CN=Clique test CA"],
      ...["-addext", "basicConstraints=critical,CA:TRUE"],
      ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    );
    await openssl(
      "req",
      ...newKey,
      ...["-keyout", file("server.key"), "-out", file("server.csr")],
      ...["-subj", `/CN=${hosts[0] ?? "localhost"}`],
    );
    const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
    await writeFile(
      file("server.ext"),
      [
        `subjectAltName=${san}`,
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "",
      ].join("\n"),
    );
    await openssl(
      "x509",
      "-req",
      ...["-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key")],
      ...["-CAcreateserial", "-out", file("server.pem"), "-days", "1"],
      ...["-extfile", file("server.ext")],
    );
    const [ca, cert, key] = await Promise.all(
      ["ca.pem", "server.pem", "server.key"].map((name) => readFile(file(name), "utf8")),
    );
    let removing: Promise<void> | undefined;
    return {
      dir,
      caPath: file("ca.pem"),
      ca: ca!,
      cert: cert!,
      key: key!,
      remove() {
        removing ??= rm(dir, { recursive: true, force: true });
        return removing;
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------- the proxy

/** A request that went through a recording proxy, as it arrived. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** Lower-cased header names. */
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A TLS-terminating reverse proxy on loopback. */
export interface TlsProxy {
  port: number;
  /** `https://localhost:PORT`: what the server behind it should take as its public origin. */
  origin: string;
  /**
   * Where requests go, e.g. `http://127.0.0.1:3000`. Settable after the start:
   * the server behind needs the proxy's origin before it starts. Until then
   * the proxy answers 502.
   */
  upstream: string | null;
  /**
   * What came through, oldest first, when started with `record: true` (what a
   * server was sent, exactly as sent: the test reads another server's
   * deliveries here); otherwise always empty.
   */
  requests: ProxiedRequest[];
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an https server on 127.0.0.1 (and `::1` where there is one, since
 * `localhost` may resolve to either) that forwards every request as it came
 * (method, path, headers including `Host`, body) to `upstream` over http and
 * streams the answer back, adding `X-Forwarded-Proto`/`-For` as proxies do.
 */
export async function startTlsProxy(options: {
  cert: string;
  key: string;
  upstream?: string;
  /** Keep every request (with its body) in `requests`. */
  record?: boolean;
}): Promise<TlsProxy> {
  const sockets = new Set<import("node:stream").Duplex>();
  const proxy: TlsProxy = {
    port: 0,
    origin: "",
    upstream: options.upstream ?? null,
    requests: [],
    close: async () => {},
  };

  const handler: http.RequestListener = (req, res) => {
    if (!proxy.upstream) {
      res.writeHead(502, { "content-type": "text/plain" }).end("no upstream yet\n");
      return;
    }
    const target = new URL(req.url ?? "/", proxy.upstream);
    const headers = { ...req.headers };
    headers["x-forwarded-proto"] = "https";
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`upstream failed: ${error.message}\n`);
    });
    if (options.record) {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        proxy.requests.push({
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      });
    }
    req.pipe(upstream);
  };

  const servers: https.Server[] = [];
  const listen = (host: string, port: number) =>
    new Promise<https.Server>((resolve, reject) => {
      const server = https.createServer({ cert: options.cert, key: options.key }, handler);
      server.on("connection", (socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
      });
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve(server);
      });
    });

  const v4 = await listen("127.0.0.1", 0);
  servers.push(v4);
  const address = v4.address();
  proxy.port = typeof address === "object" && address ? address.port : 0;
  proxy.origin = `https://localhost:${proxy.port}`;
  // Same port on ::1 if the host has IPv6 loopback; without it 127.0.0.1 is enough.
  await listen("::1", proxy.port).then(
    (server) => servers.push(server),
    () => {},
  );

  let closing: Promise<void> | undefined;
  proxy.close = () => {
    closing ??= (async () => {
      const closed = servers.map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    })();
    return closing;
  };
  return proxy;
}

// ---------------------------------------------------------------- the client

/** The parts of `fetch`'s options that `trustingFetch` honours. */
export interface TrustingFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * A `fetch` for the test process that trusts `ca` (as well as the usual roots)
 * for https URLs. `NODE_EXTRA_CA_CERTS` is read only at process start, and the
 * global `fetch` takes no CA option, so this goes through `node:https`. Plain
 * http URLs are fetched as usual. Answers are buffered.
 */
export function trustingFetch(ca: string) {
  // No keep-alive: idle sockets would hold the test process open.
  const agent = new https.Agent({ ca });
  return async (url: string | URL, init: TrustingFetchInit = {}): Promise<Response> => {
    const target = new URL(url);
    if (target.protocol !== "https:") return fetch(target, init);
    const { status, statusText, headers, body } = await new Promise<{
      status: number;
      statusText: string;
      headers: Headers;
      body: Buffer;
    }>((resolve, reject) => {
      const request = https.request(
        target,
        {
          agent,
          method: init.method ?? "GET",
          headers: init.headers ?? {},
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const h = new Headers();
            for (let i = 0; i + 1 < response.rawHeaders.length; i += 2)
              h.append(response.rawHeaders[i]!, response.rawHeaders[i + 1]!);
            resolve({
              status: response.statusCode ?? 0,
              statusText: response.statusMessage ?? "",
              headers: h,
              body: Buffer.concat(chunks),
            });
          });
        },
      );
      request.on("error", reject);
      request.end(init.body);
    });
    const empty = status === 204 || status === 205 || status === 304;
    return new Response(empty ? null : new Uint8Array(body), { status, statusText, headers });
  };
}
