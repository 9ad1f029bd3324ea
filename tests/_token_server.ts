/**
 * A Docker token-auth server (https://distribution.github.io/distribution/spec/auth/token/) for
 * integration tests, served over TLS (HTTP/1.1, see `_http1.ts`) on 127.0.0.1. It issues ES256 JWTs with an
 * `x5c` header that the real `docker-registry` v2.8 verifies against the test PKI's signing
 * certificate (see `_certs.ts`).
 *
 * @module
 */

import { getTestCerts, type TestCerts } from "./_certs.ts";
import { serveTls1 } from "./_http1.ts";

/** One requested or granted resource scope, as in the JWT `access` claim. */
export interface AccessEntry {
  /** Resource type, e.g. `repository` or `registry`. */
  type: string;
  /** Resource name, e.g. `test/oci` or `catalog`. */
  name: string;
  /** Actions, e.g. `["pull", "push"]`. */
  actions: string[];
}

/**
 * Decides which of the `requested` actions `user` (null = anonymous) gets on a resource.
 * Whatever it returns is intersected with `requested`.
 */
export type TokenPolicy = (
  user: string | null,
  resource: { type: string; name: string },
  requested: string[],
) => string[];

/** Options of {@linkcode startTokenServer}. */
export interface TokenServerOptions {
  /** Users and their passwords. @default {} */
  users?: Record<string, string>;
  /** Identity (refresh) tokens → user, for `grant_type=refresh_token`. @default {} */
  identityTokens?: Record<string, string>;
  /** `expires_in` of issued tokens, seconds. @default 300 */
  expiresIn?: number;
  /** The `service` (JWT `aud`). @default "regkit-test-registry" */
  service?: string | undefined;
  /** The `issuer` (JWT `iss`). @default "regkit-test-token-issuer" */
  issuer?: string;
  /** Who gets what. @default {@linkcode defaultTokenPolicy} */
  policy?: TokenPolicy;
  /** The test PKI to use. @default await getTestCerts() */
  certs?: TestCerts | undefined;
}

/** One request the token server received. */
export interface TokenRequestRecord {
  /** `GET` or `POST`. */
  method: string;
  /** Every requested scope string, in order. */
  scopes: string[];
  /** The authenticated user, or null for anonymous (or failed) requests. */
  user: string | null;
  /** `grant_type` of POST requests. */
  grantType?: string;
  /** The `service` parameter, if any. */
  service?: string | undefined;
  /** The HTTP status the server answered with. */
  status: number;
}

/** Counters and records for assertions. */
export interface TokenServerStats {
  /** Number of requests to `/token` (GET and POST). */
  tokenRequests: number;
  /** Every request to `/token`. */
  requests: TokenRequestRecord[];
  /** Every token string issued (access and refresh), for leak scanning. */
  issuedTokens: string[];
  /** Clears all of the above. */
  reset(): void;
}

/** A running token server. */
export interface TokenServer {
  /** The realm, `https://127.0.0.1:PORT/token`. */
  url: string;
  /** The TCP port. */
  port: number;
  /** The service name (JWT `aud`). */
  service: string;
  /** The issuer (JWT `iss`). */
  issuer: string;
  /** Identity tokens → user (mutable; `access_type=offline` adds to it). */
  identityTokens: Record<string, string>;
  /** Counters and records. */
  stats: TokenServerStats;
  /**
   * Signs a token granting exactly `scopes` (no policy applied), without HTTP and without
   * counting a request. `user` is the `sub` claim (default `"admin"`; null = anonymous);
   * `options.expiresIn` may be negative to mint an expired token. The token is recorded in
   * `stats.issuedTokens`.
   */
  mintToken(
    scopes: string[],
    user?: string | null,
    options?: { expiresIn?: number },
  ): Promise<string>;
  /** Stops the server. */
  close(): Promise<void>;
  /** Same as {@linkcode TokenServer.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The default policy: `admin` gets every requested action on everything; other authenticated
 * users get `pull` and `push` on every repository except names starting `denied/`; anonymous
 * users get `pull` on repositories whose names start `public/`.
 */
export function defaultTokenPolicy(
  user: string | null,
  resource: { type: string; name: string },
  requested: string[],
): string[] {
  if (user === "admin") return requested;
  if (resource.type !== "repository") return [];
  if (user !== null) return resource.name.startsWith("denied/") ? [] : ["pull", "push"];
  return resource.name.startsWith("public/") ? ["pull"] : [];
}

/**
 * Parses scope strings (`type:name:actions`; several may be space-separated in one string).
 * The name may contain `:`; the type is before the first, the actions after the last.
 */
export function parseScopes(scopes: string[]): AccessEntry[] {
  const entries: AccessEntry[] = [];
  for (const scope of scopes.flatMap((s) => s.split(" ")).filter(Boolean)) {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first < 0 || last === first) continue;
    const type = scope.slice(0, first).replace(/\(.*\)$/, "");
    const name = scope.slice(first + 1, last);
    const actions = scope.slice(last + 1).split(",").filter(Boolean);
    const existing = entries.find((e) => e.type === type && e.name === name);
    if (existing) {
      for (const a of actions) if (!existing.actions.includes(a)) existing.actions.push(a);
    } else {
      entries.push({ type, name, actions });
    }
  }
  return entries;
}

/** Encodes bytes as standard base64. */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Encodes bytes or a string (UTF-8) as unpadded base64url. */
function base64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomId(bytes = 16): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function unauthorized(message: string): Response {
  return json({ errors: [{ code: "UNAUTHORIZED", message, detail: null }] }, 401, {
    "www-authenticate": 'Basic realm="regkit-test-token-server"',
  });
}

/** Decodes a Basic `Authorization` header (UTF-8, split at the first `:`). */
function parseBasic(header: string | null): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const match = header.match(/^\s*basic\s+(\S+)\s*$/i);
  if (!match) return undefined;
  let decoded: string;
  try {
    const binary = atob(match[1]);
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Starts a token server over TLS on 127.0.0.1 at a free port.
 *
 * @example
 * ```ts ignore
 * await using tokens = await startTokenServer({ users: { alice: "pw" } });
 * const token = await tokens.mintToken(["repository:test/oci:pull"], "alice");
 * ```
 */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const {
    users = {},
    identityTokens = {},
    expiresIn = 300,
    service = "regkit-test-registry",
    issuer = "regkit-test-token-issuer",
    policy = defaultTokenPolicy,
  } = options;
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new RangeError(`Cannot start token server: expiresIn must be positive, got ${expiresIn}`);
  }
  const certs = options.certs ?? await getTestCerts();
  const signingKey = await crypto.subtle.importKey(
    "pkcs8",
    certs.signingKeyPkcs8,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const header = base64url(JSON.stringify({
    alg: "ES256",
    typ: "JWT",
    x5c: [base64(certs.signingCertDer)],
  }));
  const identities: Record<string, string> = { ...identityTokens };

  const stats: TokenServerStats = {
    tokenRequests: 0,
    requests: [],
    issuedTokens: [],
    reset() {
      this.tokenRequests = 0;
      this.requests.length = 0;
      this.issuedTokens.length = 0;
    },
  };

  async function sign(
    access: AccessEntry[],
    user: string | null,
    lifetime: number,
  ): Promise<{ token: string; issuedAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      sub: user ?? "",
      aud: service,
      exp: now + lifetime,
      nbf: now - 10,
      iat: now,
      jti: randomId(),
      access,
    };
    const input = `${header}.${base64url(JSON.stringify(claims))}`;
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      signingKey,
      new TextEncoder().encode(input),
    );
    const token = `${input}.${base64url(new Uint8Array(signature))}`;
    stats.issuedTokens.push(token);
    return { token, issuedAt: new Date(now * 1000) };
  }

  function grant(user: string | null, scopes: string[]): AccessEntry[] {
    const granted: AccessEntry[] = [];
    for (const entry of parseScopes(scopes)) {
      const allowed = policy(user, { type: entry.type, name: entry.name }, [...entry.actions]);
      const actions = entry.actions.filter((a) => allowed.includes(a) || allowed.includes("*"));
      if (actions.length > 0) granted.push({ ...entry, actions });
    }
    return granted;
  }

  function checkPassword(user: string, password: string): boolean {
    return Object.hasOwn(users, user) && users[user] === password;
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/token") {
      await request.body?.cancel();
      return json({ errors: [{ code: "NOT_FOUND", message: "not found" }] }, 404);
    }
    stats.tokenRequests++;
    const record: TokenRequestRecord = {
      method: request.method,
      scopes: [],
      user: null,
      status: 0,
    };
    stats.requests.push(record);
    const answer = (response: Response) => {
      record.status = response.status;
      return response;
    };

    if (request.method === "GET") {
      const params = url.searchParams;
      record.scopes = params.getAll("scope");
      record.service = params.get("service") ?? undefined;
      if (record.service !== undefined && record.service !== service) {
        return answer(json({ errors: [{ code: "UNSUPPORTED", message: "unknown service" }] }, 400));
      }
      const authorization = request.headers.get("authorization");
      let user: string | null = null;
      if (authorization !== null) {
        const basic = parseBasic(authorization);
        if (!basic || !checkPassword(basic.user, basic.password)) {
          return answer(unauthorized("invalid username or password"));
        }
        user = basic.user;
      }
      record.user = user;
      const { token, issuedAt } = await sign(grant(user, record.scopes), user, expiresIn);
      return answer(json({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: issuedAt.toISOString(),
      }));
    }

    if (request.method === "POST") {
      let form: URLSearchParams;
      try {
        form = new URLSearchParams(await request.text());
      } catch {
        return answer(json({ error: "invalid_request" }, 400));
      }
      const grantType = form.get("grant_type") ?? "";
      record.grantType = grantType;
      record.scopes = form.getAll("scope");
      record.service = form.get("service") ?? undefined;
      if (record.service !== undefined && record.service !== service) {
        return answer(
          json({ error: "invalid_request", error_description: "unknown service" }, 400),
        );
      }
      let user: string;
      let refreshToken: string | undefined;
      if (grantType === "refresh_token") {
        const presented = form.get("refresh_token") ?? "";
        if (!Object.hasOwn(identities, presented)) {
          return answer(unauthorized("invalid refresh token"));
        }
        user = identities[presented];
        refreshToken = presented;
      } else if (grantType === "password") {
        const username = form.get("username") ?? "";
        if (!checkPassword(username, form.get("password") ?? "")) {
          return answer(unauthorized("invalid username or password"));
        }
        user = username;
        if (form.get("access_type") === "offline") {
          refreshToken = `idt-${randomId()}`;
          identities[refreshToken] = user;
          stats.issuedTokens.push(refreshToken);
        }
      } else {
        return answer(json({ error: "unsupported_grant_type" }, 400));
      }
      record.user = user;
      const access = grant(user, record.scopes);
      const { token, issuedAt } = await sign(access, user, expiresIn);
      const body: Record<string, unknown> = {
        access_token: token,
        expires_in: expiresIn,
        issued_at: issuedAt.toISOString(),
        scope: access.map((a) => `${a.type}:${a.name}:${a.actions.join(",")}`).join(" "),
      };
      if (form.get("access_type") === "offline" && refreshToken) {
        body.refresh_token = refreshToken;
      }
      return answer(json(body));
    }

    await request.body?.cancel();
    return answer(json({ errors: [{ code: "UNSUPPORTED", message: "method not allowed" }] }, 405));
  }

  // Not Deno.serve: it leaves Nagle on, so each multi-segment answer waits ~40 ms for a delayed
  // ACK, which real token servers do not (see _http1.ts).
  const server = serveTls1(
    { hostname: "127.0.0.1", port: 0, cert: certs.serverCert, key: certs.serverKey },
    async (request) => {
      try {
        return await handle(request);
      } catch (error) {
        return json({ errors: [{ code: "UNKNOWN", message: String(error) }] }, 500);
      }
    },
  );
  const port = server.port;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= server.shutdown();
    return closed;
  };

  return {
    url: `https://127.0.0.1:${port}/token`,
    port,
    service,
    issuer,
    identityTokens: identities,
    stats,
    async mintToken(scopes, user = "admin", mintOptions = {}) {
      const access = parseScopes(scopes);
      const { token } = await sign(access, user, mintOptions.expiresIn ?? expiresIn);
      return token;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
