import assert from "node:assert/strict";
import {
  hostOf,
  isInternalHost,
  isLinkLocalHost,
  isLoopbackHost,
  isSameHost,
  mayReachHost,
} from "./host.ts";

Deno.test("isLoopbackHost() knows loopback names and addresses in every form", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["localhost", true],
    ["LOCALHOST", true],
    ["localhost.", true],
    ["a.localhost", true],
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["127.0.0.1.", true],
    ["2130706433", true], // 127.0.0.1 as one number, as URL reads it
    ["0x7f.1", true],
    ["[::1]", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["[::ffff:127.0.0.1]", true],
    ["[::ffff:7f00:1]", true],
    ["127.0.0.256", false],
    ["10.0.0.1", false],
    ["quay.io", false],
    ["localhost.example.com", false],
    ["[::2]", false],
  ];
  for (const [host, expected] of cases) {
    await t.step(host, () => assert.equal(isLoopbackHost(host), expected));
  }
});

Deno.test("isLinkLocalHost() sees 169.254/16 through IPv6 forms", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["169.254.169.254", true],
    ["[fe80::1]", true],
    ["[fe80::1%eth0]", true],
    ["[febf::1]", true],
    ["[::ffff:169.254.169.254]", true],
    ["[::ffff:a9fe:a9fe]", true],
    ["[::169.254.169.254]", true],
    ["[::ffff:0:169.254.169.254]", true],
    ["[64:ff9b::a9fe:a9fe]", true],
    ["[2002:a9fe:a9fe::1]", true],
    ["[fec0::1]", false], // site-local: internal, not link-local
    ["169.255.0.1", false],
    ["[2001:db8::a9fe:a9fe]", false],
  ];
  for (const [host, expected] of cases) {
    await t.step(host, () => assert.equal(isLinkLocalHost(host), expected));
  }
});

Deno.test("isInternalHost() normalises embedded IPv4 before classifying", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["10.0.0.1", true],
    ["172.16.0.1", true],
    ["172.31.255.255", true],
    ["172.32.0.1", false],
    ["192.168.1.1", true],
    ["100.64.0.1", true],
    ["100.128.0.1", false],
    ["0.0.0.0", true],
    ["169.254.169.254", true],
    ["224.0.0.1", true],
    ["255.255.255.255", true],
    ["8.8.8.8", false],
    ["[::ffff:10.0.0.1]", true],
    ["[::ffff:a00:1]", true],
    ["[::ffff:127.0.0.1]", true],
    ["[::169.254.169.254]", true],
    ["[::10.0.0.1]", true],
    ["[64:ff9b::a9fe:a9fe]", true],
    ["[64:ff9b::10.0.0.1]", true],
    ["[64:ff9b:1::1]", true], // local-use NAT64
    ["[fec0::1]", true], // site-local
    ["[fd00::1]", true],
    ["[fc00::1]", true],
    ["[fe80::1]", true],
    ["[::]", true],
    ["[ff02::1]", true],
    ["[::ffff:8.8.8.8]", false],
    ["[64:ff9b::808:808]", false], // NAT64 of a public address
    ["[2606:4700::1111]", false],
    ["quay.io", false],
    ["10.0.0.1.nip.io", false], // names are not resolved
  ];
  for (const [host, expected] of cases) {
    await t.step(host, () => assert.equal(isInternalHost(host), expected));
  }
});

Deno.test("mayReachHost() applies one rule to realms and redirects", async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ["quay.io", "cdn.quay.io", true],
    ["quay.io", "10.0.0.1", false],
    ["quay.io", "169.254.169.254", false],
    ["quay.io", "127.0.0.1", false],
    ["quay.io", "[::ffff:a9fe:a9fe]", false],
    ["quay.io", "[::ffff:10.0.0.1]", false],
    ["quay.io", "[::ffff:127.0.0.1]", false],
    ["quay.io", "[::169.254.169.254]", false],
    ["quay.io", "[64:ff9b::a9fe:a9fe]", false],
    ["quay.io", "[fec0::1]", false],
    ["quay.io", "[::ffff:8.8.8.8]", true],
    ["127.0.0.1", "127.0.0.2", true], // loopback to loopback (tests)
    ["127.0.0.1", "[::ffff:127.0.0.1]", true],
    ["127.0.0.1", "10.0.0.1", false], // loopback is no LAN
    ["127.0.0.1", "[::ffff:10.0.0.1]", false],
    ["10.0.0.5", "10.0.0.9", true], // LAN to LAN
    ["10.0.0.5", "[::ffff:10.0.0.9]", true],
    ["10.0.0.5", "169.254.169.254", false], // never link-local
    ["10.0.0.5", "[::ffff:169.254.169.254]", false],
    ["10.0.0.5", "[fe80::1]", false],
    ["192.168.1.2", "192.168.1.2", true],
    ["[::ffff:192.168.1.2]", "192.168.1.2", true], // the same host, two spellings
  ];
  for (const [from, to, expected] of cases) {
    await t.step(`${from} -> ${to}`, () => assert.equal(mayReachHost(from, to), expected));
  }
});

Deno.test("isSameHost() compares normalised hosts", () => {
  assert.ok(isSameHost("[::ffff:10.0.0.5]", "10.0.0.5"));
  assert.ok(isSameHost("REG.lan", "reg.lan"));
  assert.ok(isSameHost("localhost", "127.0.0.1"));
  assert.ok(!isSameHost("10.0.0.5", "10.0.0.6"));
});

Deno.test("hostOf() drops the port, keeps IPv6 brackets", () => {
  assert.equal(hostOf("quay.io"), "quay.io");
  assert.equal(hostOf("localhost:5000"), "localhost");
  assert.equal(hostOf("[::1]:5000"), "[::1]");
  assert.equal(hostOf("[fd00::1]"), "[fd00::1]");
});
