import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  normalizeAddress,
  parseAddressSet,
  resolveClientAddress,
  throttleKey,
} from "./client-address.ts";

describe("parseAddressSet", () => {
  test("takes addresses and CIDR ranges of both families, comma- or space-separated", () => {
    const set = parseAddressSet(" 10.0.0.0/8, 192.0.2.7  fd00::/8,::1 ");
    assert.deepEqual(set.entries, ["10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"]);
    for (const inside of ["10.1.2.3", "192.0.2.7", "fd12::3", "::1", "::ffff:10.9.9.9"])
      assert.ok(set.has(inside), inside);
    for (const outside of ["11.0.0.1", "192.0.2.8", "fe80::1", "::2", "not an address", ""])
      assert.ok(!set.has(outside), outside);
  });

  test("is empty for an empty list, and then trusts nobody", () => {
    const set = parseAddressSet("");
    assert.deepEqual(set.entries, []);
    assert.ok(!set.has("127.0.0.1"));
  });

  test("names the bad entry", () => {
    for (const [text, message] of [
      ["10.0.0.1, proxy.example", /"proxy\.example" is not an IP address/],
      ["10.0.0.0/33", /"10\.0\.0\.0\/33" has a bad prefix length \(0 to 32\)/],
      ["fd00::/129", /bad prefix length \(0 to 128\)/],
      ["10.0.0.0/8/8", /not an IP address or CIDR range/],
      ["10.0.0.0/x", /bad prefix length/],
    ] as const)
      assert.throws(() => parseAddressSet(text), message);
  });
});

test("normalizeAddress folds IPv4-mapped IPv6 into IPv4 and refuses non-addresses", () => {
  assert.equal(normalizeAddress("::ffff:127.0.0.2"), "127.0.0.2");
  assert.equal(normalizeAddress("::FFFF:192.0.2.1"), "192.0.2.1");
  assert.equal(normalizeAddress("2001:DB8::1"), "2001:db8::1");
  assert.equal(normalizeAddress("fe80::1%eth0"), "fe80::1");
  assert.equal(normalizeAddress("localhost"), null);
  assert.equal(normalizeAddress("1.2.3.4.5"), null);
});

describe("resolveClientAddress", () => {
  const none = parseAddressSet("");
  const proxies = parseAddressSet("10.0.0.0/8, 127.0.0.4");

  test("without trusted proxies, X-Forwarded-For is ignored", () => {
    assert.equal(resolveClientAddress("192.0.2.1", "198.51.100.9", none), "192.0.2.1");
    assert.equal(resolveClientAddress("::ffff:127.0.0.2", "198.51.100.9", none), "127.0.0.2");
  });

  test("from an untrusted peer, X-Forwarded-For is ignored even when proxies are configured", () => {
    assert.equal(resolveClientAddress("192.0.2.1", "10.0.0.1", proxies), "192.0.2.1");
  });

  test("from a trusted proxy, the nearest untrusted hop is the client", () => {
    assert.equal(resolveClientAddress("127.0.0.4", "198.51.100.9", proxies), "198.51.100.9");
    // The client's own claim (leftmost) is not believed past an untrusted hop.
    assert.equal(
      resolveClientAddress("10.0.0.2", "1.1.1.1, 198.51.100.9, 10.0.0.3", proxies),
      "198.51.100.9",
    );
    // Proxies that write ports.
    assert.equal(resolveClientAddress("10.0.0.2", "198.51.100.9:4711", proxies), "198.51.100.9");
    assert.equal(resolveClientAddress("10.0.0.2", "[2001:db8::5]:443", proxies), "2001:db8::5");
  });

  test("a malformed hop stops the walk at the last good address", () => {
    assert.equal(resolveClientAddress("10.0.0.2", "nonsense", proxies), "10.0.0.2");
    assert.equal(
      resolveClientAddress("10.0.0.2", "198.51.100.9, bogus, 10.0.0.3", proxies),
      "10.0.0.3",
    );
  });

  test("with no peer address there is one shared key", () => {
    assert.equal(resolveClientAddress(undefined, "198.51.100.9", proxies), "unknown");
  });
});

test("throttleKey keeps IPv4 and groups IPv6 by /64", () => {
  assert.equal(throttleKey("192.0.2.1"), "192.0.2.1");
  assert.equal(throttleKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(throttleKey("2001:db8:1:2::9"), "2001:db8:1:2::/64");
  assert.equal(throttleKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(throttleKey("::1"), "0:0:0:0::/64");
  assert.equal(throttleKey("2001:0db8:0001:0002::"), "2001:db8:1:2::/64");
  assert.equal(throttleKey("64:ff9b::192.0.2.1"), "64:ff9b:0:0::/64");
  assert.equal(throttleKey("unknown"), "unknown");
});
