/**
 * Who is on the other end of a request: the socket's peer, or, when that peer
 * is a reverse proxy the operator trusts (`CLIQUE_TRUSTED_PROXIES`), the
 * client the proxy names in `X-Forwarded-For`. Anyone can send that header,
 * so from anyone else it is ignored: sign-in throttling is keyed on the result.
 */
import { BlockList, isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** A set of addresses and CIDR ranges (IPv4 and IPv6), such as the trusted proxies. */
export class AddressSet {
  /** The entries as given, normalized (`10.0.0.0/8`, `::1`). */
  readonly entries: readonly string[];
  readonly #list = new BlockList();

  constructor(entries: readonly { address: string; prefix: number | null }[]) {
    this.entries = entries.map((e) => (e.prefix === null ? e.address : `${e.address}/${e.prefix}`));
    for (const { address, prefix } of entries) {
      const family = isIP(address) === 4 ? "ipv4" : "ipv6";
      if (prefix === null) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, prefix, family);
    }
  }

  /** Whether an address (in any notation `normalizeAddress` accepts) is in the set. */
  has(address: string): boolean {
    const normalized = normalizeAddress(address);
    if (normalized === null || this.entries.length === 0) return false;
    return this.#list.check(normalized, isIP(normalized) === 4 ? "ipv4" : "ipv6");
  }
}

/**
 * Parses a comma- or space-separated list of addresses and CIDR ranges
 * (`127.0.0.1, 10.0.0.0/8, fd00::/8`). Throws an `Error` naming the first bad entry.
 */
export function parseAddressSet(text: string): AddressSet {
  const entries: { address: string; prefix: number | null }[] = [];
  for (const item of text.split(/[\s,]+/).filter((s) => s !== "")) {
    const [rawAddress = "", rawPrefix, extra] = item.split("/");
    const address = normalizeAddress(rawAddress);
    if (address === null || extra !== undefined)
      throw new Error(`"${item}" is not an IP address or CIDR range`);
    if (rawPrefix === undefined) {
      entries.push({ address, prefix: null });
      continue;
    }
    const max = isIP(address) === 4 ? 32 : 128;
    const prefix = /^\d{1,3}$/.test(rawPrefix) ? Number(rawPrefix) : Number.NaN;
    if (!(prefix >= 0 && prefix <= max))
      throw new Error(`"${item}" has a bad prefix length (0 to ${max})`);
    entries.push({ address, prefix });
  }
  return new AddressSet(entries);
}

/**
 * An IP address in one canonical spelling: IPv4-mapped IPv6 (`::ffff:1.2.3.4`,
 * what a dual-stack socket reports) becomes IPv4, IPv6 loses its zone and
 * case. `null` for anything that is not an IP address.
 */
export function normalizeAddress(text: string): string | null {
  const address = text.trim().split("%")[0]!.toLowerCase();
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return null;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  if (mapped && isIP(mapped) === 4) return mapped;
  return address;
}

/** One entry of `X-Forwarded-For`, which some proxies write with a port (`1.2.3.4:567`, `[::1]:80`). */
function forwardedHop(text: string): string | null {
  let hop = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) hop = bracketed[1]!;
  else {
    const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
    if (withPort) hop = withPort[1]!;
  }
  return normalizeAddress(hop);
}

/**
 * The client's address. The peer is the socket's remote address; only when
 * it is a trusted proxy is `X-Forwarded-For` read, from the right (each proxy
 * appends the address it saw), skipping further trusted proxies: the first
 * untrusted hop is the client. A malformed hop ends the walk at the last
 * address known good.
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: AddressSet,
): string {
  let client = (peer !== undefined ? normalizeAddress(peer) : null) ?? "unknown";
  if (!forwardedFor || !trusted.has(client)) return client;
  const hops = forwardedFor.split(",").reverse();
  for (const text of hops) {
    const hop = forwardedHop(text);
    if (hop === null) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}

/**
 * What sign-in throttling counts an address under. IPv4: the address. IPv6:
 * its /64, since one subscriber or one server usually holds a whole /64 and
 * could otherwise take a fresh address for every guess.
 */
export function throttleKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = "", tail] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  let groups = headGroups;
  if (tail !== undefined) {
    const tailGroups = tail === "" ? [] : tail.split(":");
    const tailWidth = tailGroups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
    const zeros = Array.from({ length: 8 - headGroups.length - tailWidth }, () => "0");
    groups = [...headGroups, ...zeros, ...tailGroups];
  }
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** The client address of a request to the Node.js server (see `resolveClientAddress`). */
export function clientAddress(c: Context, trusted: AddressSet): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    // Not served by @hono/node-server (an in-process `app.request`): no socket.
    peer = undefined;
  }
  return resolveClientAddress(peer, c.req.header("x-forwarded-for"), trusted);
}
