/**
 * Host classifiers for the address rules that realms and redirect targets
 * obey: loopback, link-local and internal addresses, with every IPv6 form of
 * an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, translated
 * `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) classified as
 * the IPv4 address it embeds. IPv4 literals are normalised as WHATWG URLs
 * normalise them (`2130706433`, `0x7f.1` and `127.0.0.1.` are `127.0.0.1`).
 * Host names other than `localhost` are not resolved: they are public.
 *
 * @module
 */

/** A host after normalisation. */
type ParsedHost =
  | { kind: "ipv4"; octets: readonly number[] }
  | { kind: "ipv6"; groups: readonly number[] }
  | { kind: "name"; name: string };

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): number[] | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (m === null) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** Parses the canonical (WHATWG-serialised) form of an IPv6 address into 8 groups. */
function parseIpv6(canonical: string): number[] | undefined {
  const halves = canonical.split("::");
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** The IPv4 address an IPv6 address embeds, if it is one of the forms that reach it. */
function embeddedIpv4(g: readonly number[]): number[] | undefined {
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped)
  if (zero(0, 5) && g[5] === 0xffff) return v4(g[6], g[7]);
  // ::ffff:0:a.b.c.d (SIIT translated)
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6], g[7]);
  // ::a.b.c.d (compatible; :: and ::1 are IPv6's own)
  if (zero(0, 6) && !(g[6] === 0 && g[7] <= 1)) return v4(g[6], g[7]);
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4(g[6], g[7]);
  // 2002:AABB:CCDD::/48 (6to4)
  if (g[0] === 0x2002) return v4(g[1], g[2]);
  return undefined;
}

function parseHost(host: string): ParsedHost {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const zone = h.indexOf("%");
  if (zone !== -1 && h.includes(":")) h = h.slice(0, zone);
  if (h.includes(":")) {
    let canonical: string;
    try {
      canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    } catch {
      return { kind: "name", name: h };
    }
    const groups = parseIpv6(canonical);
    if (groups === undefined) return { kind: "name", name: h };
    const octets = embeddedIpv4(groups);
    return octets === undefined ? { kind: "ipv6", groups } : { kind: "ipv4", octets };
  }
  let normalised = h;
  try {
    normalised = new URL(`http://${h}/`).hostname;
  } catch {
    // not a URL host: classified by name
  }
  const octets = parseIpv4(normalised);
  if (octets !== undefined) return { kind: "ipv4", octets };
  return { kind: "name", name: normalised.replace(/\.$/, "") };
}

function ipv4In(octets: readonly number[], cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const value = (o: readonly number[]) => ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((value(octets) & mask) >>> 0) === ((value(parseIpv4(base)!) & mask) >>> 0);
}

/** IPv4 ranges that are not public unicast hosts. */
const INTERNAL_V4 = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8",
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8",
  "169.254.0.0/16", // link-local (cloud metadata)
  "172.16.0.0/12",
  "192.0.0.0/24", // IETF protocol assignments
  "192.168.0.0/16",
  "198.18.0.0/15", // benchmarking
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, broadcast
];

function isLoopback(p: ParsedHost): boolean {
  if (p.kind === "name") return p.name === "localhost" || p.name.endsWith(".localhost");
  if (p.kind === "ipv4") return p.octets[0] === 127;
  return p.groups.slice(0, 7).every((g) => g === 0) && p.groups[7] === 1;
}

function isLinkLocal(p: ParsedHost): boolean {
  if (p.kind === "ipv4") return p.octets[0] === 169 && p.octets[1] === 254;
  return p.kind === "ipv6" && (p.groups[0] & 0xffc0) === 0xfe80;
}

function isInternal(p: ParsedHost): boolean {
  if (isLoopback(p)) return true;
  if (p.kind === "name") return false;
  if (p.kind === "ipv4") return INTERNAL_V4.some((cidr) => ipv4In(p.octets, cidr));
  const [g0, g1, g2] = p.groups;
  return p.groups.every((g) => g === 0) || // unspecified
    (g0 & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (g0 & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (g0 & 0xffc0) === 0xfec0 || // site-local fec0::/10 (deprecated, still routed inside sites)
    (g0 & 0xff00) === 0xff00 || // multicast
    (g0 === 0x64 && g1 === 0xff9b && g2 === 1); // local-use NAT64 64:ff9b:1::/48
}

function canonical(p: ParsedHost): string {
  if (p.kind === "name") return p.name;
  if (p.kind === "ipv4") return p.octets.join(".");
  return p.groups.map((g) => g.toString(16)).join(":");
}

/**
 * Whether `host` (without port; brackets allowed) is a loopback name or
 * address, in any form (`localhost`, `127.0.0.0/8`, `::1`, `::ffff:127.0.0.1`).
 *
 * @param host The host.
 * @returns `true` for loopback.
 */
export function isLoopbackHost(host: string): boolean {
  return isLoopback(parseHost(host));
}

/**
 * Whether `host` is a link-local address (169.254/16, fe80::/10, or an IPv6
 * form of 169.254/16): cloud metadata services live there.
 *
 * @param host The host (no port; brackets allowed).
 * @returns `true` for link-local.
 */
export function isLinkLocalHost(host: string): boolean {
  return isLinkLocal(parseHost(host));
}

/**
 * Whether `host` is an internal address literal: loopback, private (10/8,
 * 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10), link-local,
 * unspecified, multicast or reserved, including every IPv6 form of such an
 * IPv4 address. Host names other than `localhost` are not resolved, so they
 * are not internal.
 *
 * @param host The host (no port; brackets allowed).
 * @returns `true` for internal addresses.
 */
export function isInternalHost(host: string): boolean {
  return isInternal(parseHost(host));
}

/**
 * Whether two hosts are the same: equal after normalisation (an IPv6 form of
 * an IPv4 address is that address), or both loopback.
 *
 * @param a A host (no port).
 * @param b Another host (no port).
 * @returns `true` when they name the same host.
 */
export function isSameHost(a: string, b: string): boolean {
  const pa = parseHost(a);
  const pb = parseHost(b);
  return canonical(pa) === canonical(pb) || (isLoopback(pa) && isLoopback(pb));
}

/**
 * Whether a request that a server on `fromHost` points elsewhere (a token
 * realm, a redirect) may go to `toHost`. Public hosts may always be reached;
 * an internal address only when it is `fromHost` itself (any two loopback
 * addresses count as one host), or when `fromHost` is itself on a private LAN
 * (not loopback) and `toHost` is not link-local.
 *
 * @param fromHost The host (no port) of the server that sent us on.
 * @param toHost The host (no port) we are sent to.
 * @returns `true` when the target may be contacted.
 */
export function mayReachHost(fromHost: string, toHost: string): boolean {
  const from = parseHost(fromHost);
  const to = parseHost(toHost);
  if (!isInternal(to)) return true;
  if (canonical(from) === canonical(to) || (isLoopback(from) && isLoopback(to))) return true;
  if (isLinkLocal(to)) return false;
  return isInternal(from) && !isLoopback(from);
}

/**
 * Splits `host[:port]` (with bracketed IPv6) into its host part.
 *
 * @param registry `host[:port]`.
 * @returns The host, brackets kept.
 */
export function hostOf(registry: string): string {
  if (registry.startsWith("[")) {
    const end = registry.indexOf("]");
    return end === -1 ? registry : registry.slice(0, end + 1);
  }
  const colon = registry.lastIndexOf(":");
  return colon === -1 ? registry : registry.slice(0, colon);
}
