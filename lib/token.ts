/**
 * The Docker token flow: realm checks, token requests (Basic, anonymous, or an
 * OAuth2 refresh token), and a cache that shares one request among concurrent
 * callers and renews tokens shortly before they expire.
 *
 * @module
 */

import { encodeBase64 } from "@std/encoding/base64";
import { encodeHex } from "@std/encoding/hex";
import { quote, RegistryError, statusError } from "./errors.ts";
import type { Credentials } from "./credentials.ts";
import type { Http } from "./http.ts";
import { hostOf, isLoopbackHost, isSameHost, mayReachHost } from "./host.ts";
import { redactBody, REDACTED, secretsOf } from "./_redact.ts";

/** Largest token response accepted. */
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** Shortest lifetime assumed for a token, in seconds (the token spec's default). */
const MIN_TOKEN_LIFETIME_SECONDS = 60;
/** Most scopes asked for in one token request. */
const MAX_SCOPES_PER_TOKEN_REQUEST = 25;

/**
 * Carrier of a registry token, refreshed in place by
 * `checkContainerImageExists` after a 401 (the seed's contract).
 *
 * @example
 * ```ts
 * import { AuthTokenWrapper } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const holder = new AuthTokenWrapper();
 * assert.equal(holder.token, "");
 * assert.equal(JSON.stringify(new AuthTokenWrapper("secret")), '{"token":"[REDACTED]"}');
 * ```
 */
export class AuthTokenWrapper {
  /** The bearer token, or `""` before the first exchange. */
  token: string;

  /**
   * Creates a holder.
   *
   * @param token An initial token.
   */
  constructor(token = "") {
    this.token = token;
  }

  /** Serialises without the token. */
  toJSON(): { token: string } {
    return { token: this.token === "" ? "" : REDACTED };
  }

  /** Shows the holder without the token. */
  toString(): string {
    return `AuthTokenWrapper(${this.token === "" ? "empty" : REDACTED})`;
  }

  /** Deno's inspect hook: never shows the token. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's inspect hook: never shows the token. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** A granted token. */
export interface TokenGrant {
  /** The bearer token. */
  token: string;
  /** When the server says it was issued (ms since epoch; our clock when it did not say). */
  issuedAt: number;
  /** When it expires, by our clock (ms since epoch). */
  expiresAt: number;
  /** When to fetch a new one: shortly before `expiresAt`. */
  renewAt: number;
}

/** What {@linkcode checkRealm} checks a realm against. */
export interface RealmCheckOptions {
  /** The registry API host (`host[:port]`). */
  registryHost: string;
  /** What the token is for, for messages. */
  what: string;
  /** Whether plain HTTP is allowed for a host (insecure registries). @default {() => false} */
  allowHttpHost?: (host: string) => boolean;
}

/**
 * Checks that a realm may receive a token request for `registry`: a URL, https
 * (http only on loopback or for a plain-HTTP registry on the same host), and
 * not a private address other than the registry's own (a registry on a private,
 * non-loopback address may use another private realm; a link-local realm is
 * never accepted).
 *
 * @param realm The challenge's realm.
 * @param options The registry, the subject of messages, and plain-HTTP hosts.
 * @returns The realm URL.
 * @throws {RegistryError} `REALM_REJECTED`.
 */
export function checkRealm(realm: string, options: RealmCheckOptions): URL {
  const { registryHost, what, allowHttpHost = () => false } = options;
  const reject = (why: string) =>
    new RegistryError(
      "REALM_REJECTED",
      `Cannot authenticate for ${quote(what)}: token realm ${why}`,
    );
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw reject("is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw reject(`scheme ${quote(url.protocol)} is not http(s)`);
  }
  if (url.username !== "" || url.password !== "") throw reject("carries user info");
  const realmHost = url.hostname;
  const registryName = hostOf(registryHost);
  const sameHost = isSameHost(realmHost, registryName);
  if (
    url.protocol === "http:" && !isLoopbackHost(realmHost) &&
    !(sameHost && allowHttpHost(registryHost))
  ) {
    throw reject(`${quote(url.origin)} is plain http on a non-loopback host`);
  }
  if (!mayReachHost(registryName, realmHost)) {
    throw reject(`${quote(url.origin)} is a private address unlike the registry`);
  }
  return url;
}

const fingerprints = new WeakMap<Credentials, Promise<string>>();

/**
 * The token cache's owner key: the registry origin a token is requested for,
 * and who mints it (the credential kind, the username and a fingerprint of the
 * secret, SHA-256's first 16 hex digits, never the secret itself). A token
 * never serves another origin or user; where the credentials came from does
 * not matter (one `credsStore` answers differently per registry).
 *
 * @param origin The registry origin, e.g. `https://quay.io`.
 * @param credentials The credentials, or `undefined` for anonymous tokens.
 * @returns The key.
 */
export async function tokenOwner(
  origin: string,
  credentials: Credentials | undefined,
): Promise<string> {
  if (credentials === undefined) return `${origin}\u0000anonymous`;
  let fingerprint = fingerprints.get(credentials);
  if (fingerprint === undefined) {
    fingerprint = crypto.subtle.digest("SHA-256", new TextEncoder().encode(credentials.secret))
      .then((hash) => encodeHex(new Uint8Array(hash).subarray(0, 8)));
    fingerprints.set(credentials, fingerprint);
  }
  const identity = [credentials.kind, credentials.username ?? "", await fingerprint];
  return [origin, ...identity].join("\u0000");
}

/** What a token request needs. */
export interface TokenRequest {
  /** The checked realm URL. */
  realm: URL;
  /** The challenge's service, if any. */
  service?: string;
  /** The scopes to ask for (one request; the `scope` parameter repeats). */
  scopes: readonly string[];
  /** Credentials, or `undefined` for an anonymous token. */
  credentials?: Credentials;
  /** Which credentials these are, for a refusal's message (see `describeCredentials`). */
  tried?: string;
  /** What the token is for, for messages. */
  what: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

function basicHeader(username: string, password: string): string {
  return `Basic ${encodeBase64(new TextEncoder().encode(`${username}:${password}`))}`;
}

/**
 * The `Authorization` value for Basic credentials (UTF-8, as registries expect).
 *
 * @param credentials Basic credentials.
 * @returns `Basic <base64>`.
 */
export function basicAuthorization(credentials: Credentials): string {
  return basicHeader(credentials.username ?? "", credentials.secret);
}

/**
 * Asks a realm for a token: GET with Basic credentials or anonymously, or a
 * POST `grant_type=refresh_token` form for identity tokens.
 *
 * @param http The sender.
 * @param request What to ask for.
 * @returns The grant.
 * @throws {RegistryError} `UNAUTHORIZED`, `DENIED`, `TOOMANYREQUESTS`,
 *   `TOKEN_EXCHANGE_FAILED`, `NETWORK`, `TIMEOUT`, `RESPONSE_TOO_LARGE`.
 */
export async function requestToken(http: Http, request: TokenRequest): Promise<TokenGrant> {
  const { realm, service, scopes, credentials } = request;
  const url = new URL(realm);
  const headers: Record<string, string> = { accept: "application/json" };
  let method = "GET";
  let body: URLSearchParams | undefined;
  if (credentials?.kind === "identityToken") {
    method = "POST";
    body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credentials.secret });
    if (service !== undefined) body.set("service", service);
    if (scopes.length > 0) body.set("scope", scopes.join(" "));
    body.set("client_id", "regkit");
    headers["content-type"] = "application/x-www-form-urlencoded";
  } else {
    if (service !== undefined) url.searchParams.set("service", service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    if (credentials?.kind === "basic") {
      headers.authorization = basicAuthorization(credentials);
    }
  }
  const requestInit = {
    method,
    url,
    headers,
    maxBytes: MAX_TOKEN_RESPONSE_BYTES,
    what: request.what,
    ...(body === undefined ? {} : { body }),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  };
  const received = Date.now();
  const response = await http.send(requestInit);
  if (response.status !== 200) {
    const { credentials } = request;
    const secrets = secretsOf({
      secrets: [credentials?.secret],
      ...(credentials?.username === undefined ? {} : { username: credentials.username }),
      ...(credentials?.kind === "basic" ? { authorization: basicAuthorization(credentials) } : {}),
    });
    const tried = request.tried === undefined ? {} : { tried: request.tried };
    throw statusError({ ...response, body: redactBody(response.body, secrets), ...tried }, {
      action: "get a token for",
      what: request.what,
      context: "token",
      from: `the token realm ${realm.origin}`,
    });
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    throw new RegistryError(
      "TOKEN_EXCHANGE_FAILED",
      `Cannot get a token for ${quote(request.what)} from ${realm.origin}: the answer is not JSON`,
      { status: 200 },
    );
  }
  const token = typeof parsed?.token === "string" && parsed.token !== ""
    ? parsed.token
    : typeof parsed?.access_token === "string" && parsed.access_token !== ""
    ? parsed.access_token
    : undefined;
  if (token === undefined) {
    throw new RegistryError(
      "TOKEN_EXCHANGE_FAILED",
      `Cannot get a token for ${quote(request.what)} from ${realm.origin}: the answer has no token`,
      { status: 200 },
    );
  }
  // It goes into `Authorization: Bearer <token>`: CR/LF, spaces or non-ASCII would make an invalid
  // header (fetch refuses it before sending), which is the realm's fault, not the network's.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new RegistryError(
      "TOKEN_EXCHANGE_FAILED",
      `Cannot get a token for ${
        quote(request.what)
      } from ${realm.origin}: the token is not a valid header value (control, space or non-ASCII characters)`,
      { status: 200 },
    );
  }
  const expiresIn = typeof parsed.expires_in === "number" && Number.isFinite(parsed.expires_in)
    ? Math.max(MIN_TOKEN_LIFETIME_SECONDS, parsed.expires_in)
    : MIN_TOKEN_LIFETIME_SECONDS;
  const issued = typeof parsed.issued_at === "string" ? Date.parse(parsed.issued_at) : NaN;
  const lifetimeMs = expiresIn * 1000;
  return {
    token,
    issuedAt: Number.isNaN(issued) ? received : issued,
    expiresAt: received + lifetimeMs,
    renewAt: received + lifetimeMs - Math.min(30_000, lifetimeMs * 0.1),
  };
}

interface Slot {
  promise: Promise<TokenGrant>;
  grant?: TokenGrant;
  /** Whether this grant replaced a token the registry refused. */
  renewal: boolean;
}

/**
 * Tokens by (owner, realm, service, scope), where the owner is the registry
 * origin the token was requested for and the identity that minted it (user
 * and a fingerprint of the secret): two registries naming the same realm and
 * service never share a token. A grant for several scopes is filed under
 * each; concurrent callers share the pending request.
 */
/** Where tokens come from: whose they are, the realm and service, and how to ask. */
export interface TokenSource {
  /** The registry origin and identity (see {@linkcode tokenOwner}). */
  owner: string;
  /** The realm URL. */
  realm: string;
  /** The challenge's service, if any. */
  service: string | undefined;
  /** Asks the realm for a grant covering `scopes`. */
  fetchGrant: (scopes: readonly string[]) => Promise<TokenGrant>;
}

export class TokenCache {
  readonly #slots = new Map<string, Slot>();

  #key(source: TokenSource, scope: string): string {
    return `${source.owner}\u0000${source.realm}\u0000${source.service ?? ""}\u0000${scope}`;
  }

  #usable(slot: Slot | undefined, now: number): slot is Slot {
    return slot !== undefined && (slot.grant === undefined || slot.grant.renewAt > now);
  }

  /**
   * Returns a token covering `scope`, fetching one (for `scope` alone) when
   * none is cached or pending.
   */
  async get(
    source: TokenSource,
    scope: string,
    options: { force?: boolean } = {},
  ): Promise<string> {
    const slot = this.#slots.get(this.#key(source, scope));
    if (!options.force && this.#usable(slot, Date.now())) return (await slot.promise).token;
    return (await this.#start(source, [scope])).token;
  }

  /**
   * Replaces `refused`, a token for `scope` that the registry just refused,
   * with at most one renewal per key in flight: callers share a pending
   * renewal, and get the current token when another caller already renewed.
   * When the refused token is itself a renewal (a fresh token refused too),
   * nothing is fetched and the answer is `undefined`: the refusal stands.
   */
  async renew(
    source: TokenSource,
    { scope, refused }: { scope: string; refused: string },
  ): Promise<string | undefined> {
    const slot = this.#slots.get(this.#key(source, scope));
    if (slot !== undefined) {
      if (slot.grant === undefined) return (await slot.promise).token;
      if (slot.grant.token !== refused && this.#usable(slot, Date.now())) return slot.grant.token;
      if (slot.grant.token === refused && slot.renewal) return undefined;
    }
    return (await this.#start(source, [scope], true)).token;
  }

  /**
   * Starts token requests for every scope not already covered, in batches of
   * `MAX_SCOPES_PER_TOKEN_REQUEST`. Failures are left for `get` to
   * report.
   */
  prefetch(source: TokenSource, scopes: readonly string[]): void {
    const now = Date.now();
    const missing = [...new Set(scopes)].filter((scope) =>
      !this.#usable(this.#slots.get(this.#key(source, scope)), now)
    );
    for (let i = 0; i < missing.length; i += MAX_SCOPES_PER_TOKEN_REQUEST) {
      this.#start(source, missing.slice(i, i + MAX_SCOPES_PER_TOKEN_REQUEST)).catch(() => {});
    }
  }

  #start(source: TokenSource, scopes: readonly string[], renewal = false): Promise<TokenGrant> {
    const slot: Slot = { promise: source.fetchGrant(scopes), renewal };
    const keys = scopes.map((scope) => this.#key(source, scope));
    for (const key of keys) this.#slots.set(key, slot);
    slot.promise.then(
      (grant) => {
        slot.grant = grant;
      },
      () => {
        for (const key of keys) if (this.#slots.get(key) === slot) this.#slots.delete(key);
      },
    );
    return slot.promise;
  }
}
