/**
 * What the tests' own HTTP servers learn about who talks to them: a request's
 * body, and which of the Clique's processes holds the other end of a loopback
 * connection (to tell which worker delivered).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

/** A request's whole body, as text. */
export function readRequestBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/**
 * The process (of `pids`) that owns the client end of a loopback connection:
 * its socket's inode from /proc/net/tcp, then the process whose descriptors
 * hold it. `null` when /proc cannot tell (not Linux).
 */
export function connectionOwner(socket: Socket, pids: readonly number[]): number | null {
  const hex = (port: number | undefined) =>
    `:${(port ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  let inode: string | undefined;
  try {
    for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // The client's end: local = its port, remote = ours.
      if (fields[1]?.endsWith(hex(socket.remotePort)) && fields[2]?.endsWith(hex(socket.localPort)))
        inode = fields[9];
    }
  } catch {
    return null;
  }
  if (!inode) return null;
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
        } catch {
          // Closed meanwhile.
        }
      }
    } catch {
      // Gone.
    }
  }
  return null;
}
