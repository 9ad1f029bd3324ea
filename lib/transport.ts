/**
 * Registry requests with authentication: one `GET /v2/` ping per registry
 * learns its scheme and challenge, after which every request carries its
 * token up front (no 401 round trip); a 401 still triggers one token renewal
 * and one retry.
 *
 * @module
 */

import { isRegistryError, quote, RegistryError, statusError } from "./errors.ts";
import { selectChallenge } from "./challenge.ts";
import { describeCredentials, type ResolvedCredentials } from "./credentials.ts";
import type { Http, HttpResponse } from "./http.ts";
import type { Logger } from "./log.ts";
import { hostOf } from "./host.ts";
import type { Repository } from "./reference.ts";
import { redactBody, secretsOf } from "./_redact.ts";
import {
  basicAuthorization,
  checkRealm,
  requestToken,
  TokenCache,
  type TokenGrant,
  tokenOwner,
  type TokenSource,
} from "./token.ts";
import { pingRegistry, type RegistryEndpoint } from "./ping.ts";

export type { RegistryEndpoint };

/**
 * How long a failed ping is remembered, in milliseconds: the checks of a batch
 * (and its preparation) share one failed ping instead of each spending the
 * retry budget again. An aborted ping is not remembered.
 */
export const FAILED_PING_MEMORY_MS = 30_000;

/** Largest delay `setTimeout` takes (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Settings for a {@linkcode Transport}. */
export interface TransportSettings {
  http: Http;
  logger: Logger;
  /** Resolves credentials for a repository (`undefined` = anonymous). */
  credentialsFor: (repository: Repository) => Promise<ResolvedCredentials | undefined>;
  /** Hosts (`host` or `host:port`) that may be reached over plain HTTP. */
  insecureRegistries: ReadonlySet<string>;
}

/** A registry's answer through the transport. */
export interface RegistryResponse extends HttpResponse {
  /** For a non-2xx answer: which credentials were tried (ends 401 and 403 messages). */
  tried?: string;
}

/** A request to a registry API path. */
export interface RegistryRequest {
  method: "GET" | "HEAD";
  /** Path and query, e.g. `/v2/org/app/manifests/1.0`, or an absolute URL on the registry. */
  path: string;
  /** The `Accept` header. */
  accept?: string;
  /** Largest successful body accepted. */
  maxBytes: number;
  /** Token actions (default `pull`). */
  actions?: string;
  /** What the request is for, for messages. */
  what: string;
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * Seed mode: send exactly this `Authorization` first (`null`: none) instead
   * of the cached token; a 401 is then answered as any other.
   */
  firstAuthorization?: string | null;
  /** Hears the `Authorization` a 401 was answered with. */
  onAuthorization?: (authorization: string) => void;
}

/** Sends authenticated registry requests. Internal plumbing for the client. */
export class Transport {
  readonly #settings: TransportSettings;
  readonly #endpoints = new Map<string, { ping: Promise<RegistryEndpoint>; failedAt?: number }>();
  readonly #credentials = new Map<string, Promise<ResolvedCredentials | undefined>>();
  readonly #tokens = new TokenCache();
  #tokenRequests = 0;

  constructor(settings: TransportSettings) {
    this.#settings = settings;
  }

  /** Token requests made so far. */
  get tokenRequests(): number {
    return this.#tokenRequests;
  }

  #httpAllowed(apiHost: string, loopback: boolean): boolean {
    const insecure = this.#settings.insecureRegistries;
    return loopback || insecure.has(apiHost) || insecure.has(hostOf(apiHost));
  }

  /** Credentials for `repository`, resolved once per repository. */
  credentials(repository: Repository): Promise<ResolvedCredentials | undefined> {
    const key = repository.name;
    let pending = this.#credentials.get(key);
    if (pending === undefined) {
      pending = this.#settings.credentialsFor(repository);
      this.#credentials.set(key, pending);
      pending.catch(() => this.#credentials.delete(key));
    }
    return pending;
  }

  /**
   * Learns the registry's scheme and challenge with one `GET /v2/`, shared by
   * every caller; a failed ping is shared for {@linkcode FAILED_PING_MEMORY_MS}.
   */
  endpoint(repository: Repository, signal?: AbortSignal): Promise<RegistryEndpoint> {
    const host = repository.apiHost;
    const known = this.#endpoints.get(host);
    if (
      known !== undefined &&
      (known.failedAt === undefined || Date.now() - known.failedAt < FAILED_PING_MEMORY_MS)
    ) {
      return known.ping;
    }
    const entry: { ping: Promise<RegistryEndpoint>; failedAt?: number } = {
      ping: pingRegistry(this.#settings.http, repository, {
        allowHttp: this.#httpAllowed(repository.apiHost, repository.isLoopback),
        logger: this.#settings.logger,
        ...(signal === undefined ? {} : { signal }),
      }),
    };
    this.#endpoints.set(host, entry);
    entry.ping.catch((error) => {
      if (this.#endpoints.get(host) !== entry) return;
      if (isRegistryError(error, "ABORTED")) this.#endpoints.delete(host);
      else entry.failedAt = Date.now();
    });
    return entry.ping;
  }

  #fetchGrant(
    endpoint: RegistryEndpoint,
    realm: URL,
    resolved: ResolvedCredentials | undefined,
    what: string,
    signal?: AbortSignal,
  ): (scopes: readonly string[]) => Promise<TokenGrant> {
    const credentials = resolved?.credentials;
    return (scopes) => {
      this.#tokenRequests++;
      this.#settings.logger.debug(`token request to ${realm.origin} for ${scopes.length} scope(s)`);
      return requestToken(this.#settings.http, {
        realm,
        scopes,
        what,
        ...(endpoint.challenge?.service === undefined
          ? {}
          : { service: endpoint.challenge.service }),
        ...(credentials === undefined ? {} : { credentials }),
        tried: describeCredentials(resolved),
        ...(signal === undefined ? {} : { signal }),
      });
    };
  }

  #realm(endpoint: RegistryEndpoint, repository: Repository, what: string): URL {
    const challenge = endpoint.challenge!;
    if (challenge.realm === undefined) {
      throw new RegistryError(
        "REALM_REJECTED",
        `Cannot authenticate for ${quote(what)}: the Bearer challenge names no realm`,
      );
    }
    return checkRealm(challenge.realm, {
      registryHost: repository.apiHost,
      what,
      allowHttpHost: (host) => this.#httpAllowed(host, false),
    });
  }

  async #authorization(
    endpoint: RegistryEndpoint,
    repository: Repository,
    resolved: ResolvedCredentials | undefined,
    scopes: readonly string[],
    what: string,
    options: { renew?: boolean; refused?: string; signal?: AbortSignal } = {},
  ): Promise<string | undefined> {
    const credentials = resolved?.credentials;
    if (credentials?.kind === "registryToken") return `Bearer ${credentials.secret}`;
    const challenge = endpoint.challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === "basic") {
      return credentials?.kind === "basic" ? basicAuthorization(credentials) : undefined;
    }
    const realm = this.#realm(endpoint, repository, what);
    const fetchGrant = this.#fetchGrant(endpoint, realm, resolved, what, options.signal);
    const source: TokenSource = {
      owner: await tokenOwner(endpoint.base.origin, resolved?.credentials),
      realm: realm.href,
      service: challenge.service,
      fetchGrant,
    };
    if (scopes.length === 1) {
      const token = options.renew && options.refused !== undefined
        ? await this.#tokens.renew(source, { scope: scopes[0], refused: options.refused })
        : await this.#tokens.get(source, scopes[0]);
      return token === undefined ? undefined : `Bearer ${token}`;
    }
    return `Bearer ${(await fetchGrant(scopes)).token}`;
  }

  /**
   * Fetches tokens for many repositories in few requests (the `scope`
   * parameter repeats), so the requests that follow need no token request.
   * Failures are left for the requests themselves to report.
   */
  async prepare(repositories: readonly Repository[], signal?: AbortSignal): Promise<void> {
    const byHost = new Map<string, Repository[]>();
    for (const repository of repositories) {
      const list = byHost.get(repository.apiHost) ?? [];
      list.push(repository);
      byHost.set(repository.apiHost, list);
    }
    await Promise.all([...byHost.values()].map(async (repos) => {
      let endpoint: RegistryEndpoint;
      let realm: URL;
      try {
        endpoint = await this.endpoint(repos[0], signal);
        if (endpoint.challenge?.scheme !== "bearer") return;
        realm = this.#realm(endpoint, repos[0], repos[0].name);
      } catch {
        return;
      }
      const groups = new Map<string, { resolved?: ResolvedCredentials; scopes: string[] }>();
      await Promise.all(repos.map(async (repo) => {
        let resolved: ResolvedCredentials | undefined;
        try {
          resolved = await this.credentials(repo);
        } catch {
          return;
        }
        if (resolved?.credentials.kind === "registryToken") return;
        const owner = await tokenOwner(endpoint.base.origin, resolved?.credentials);
        const group = groups.get(owner) ??
          (resolved === undefined ? { scopes: [] } : { resolved, scopes: [] });
        group.scopes.push(repo.scope("pull"));
        groups.set(owner, group);
      }));
      for (const [owner, group] of groups) {
        const fetchGrant = this.#fetchGrant(
          endpoint,
          realm,
          group.resolved,
          `${repos[0].registry} (batch)`,
          signal,
        );
        const { service } = endpoint.challenge;
        this.#tokens.prefetch({ owner, realm: realm.href, service, fetchGrant }, group.scopes);
      }
    }));
  }

  /**
   * Sends a request to `repository`'s registry with authorization, answering
   * one 401 challenge with a fresh token. Everything it waits for (the ping,
   * credentials, tokens, the exchanges and their retries) ends within
   * `(retries + 2) × timeoutMs`, else `TIMEOUT`: each phase alone keeps its
   * retry budget, several slow phases together cannot add up.
   */
  async request(repository: Repository, request: RegistryRequest): Promise<RegistryResponse> {
    const { http } = this.#settings;
    const limitMs = Math.min((http.retries + 2) * http.timeoutMs, MAX_TIMER_MS);
    const cut = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new RegistryError(
            "TIMEOUT",
            `Cannot finish ${
              quote(request.what)
            }: no answer within ${limitMs} ms ((retries + 2) × timeoutMs, all attempts included)`,
          ),
        );
        cut.abort();
      }, limitMs);
    });
    const sendSignal = request.signal === undefined
      ? cut.signal
      : AbortSignal.any([request.signal, cut.signal]);
    try {
      return await Promise.race([this.#request(repository, request, sendSignal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #request(
    repository: Repository,
    request: RegistryRequest,
    sendSignal: AbortSignal,
  ): Promise<RegistryResponse> {
    const { signal, what } = request;
    // Credentials are resolved while the first contact is under way (both are needed below);
    // in seed mode only once a 401 asks for them.
    const seed = request.firstAuthorization !== undefined;
    const credentials = seed ? undefined : this.credentials(repository);
    credentials?.catch(() => {}); // reported when awaited below
    const endpoint = await this.endpoint(repository, signal);
    const url = new URL(request.path, endpoint.base);
    if (url.origin !== endpoint.base.origin) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot follow a link for ${quote(what)}: it leaves the registry`,
      );
    }
    const send = async (
      authorization: string | undefined,
      resolved: ResolvedCredentials | undefined,
      tried = describeCredentials(resolved),
    ): Promise<RegistryResponse> => {
      const headers: Record<string, string> = {};
      if (request.accept !== undefined) headers.accept = request.accept;
      if (authorization !== undefined) headers.authorization = authorization;
      const response = await this.#settings.http.send({
        method: request.method,
        url,
        headers,
        maxBytes: request.maxBytes,
        what,
        allowHttp: this.#httpAllowed(repository.apiHost, repository.isLoopback),
        signal: sendSignal,
      });
      if (response.status >= 200 && response.status < 300) return response;
      // An error body may repeat what was sent: it is redacted before any message is made of it.
      const credentials = resolved?.credentials;
      const secrets = secretsOf({
        ...(authorization === undefined ? {} : { authorization }),
        secrets: [credentials?.secret],
        ...(credentials?.username === undefined ? {} : { username: credentials.username }),
      });
      return { ...response, body: redactBody(response.body, secrets), tried };
    };
    let resolved = await credentials;
    const scope = repository.scope(request.actions ?? "pull");
    const sent = seed
      ? request.firstAuthorization ?? undefined
      : await this.#authorization(endpoint, repository, resolved, [scope], what, {
        ...(signal === undefined ? {} : { signal }),
      });
    const response = await send(
      sent,
      resolved,
      ...(seed && sent !== undefined ? ["the Authorization it was given"] : []),
    );
    if (response.status !== 401) return response;

    // One more try with what this 401 asks for.
    const challenge = selectChallenge(response.headers.get("www-authenticate"));
    if (challenge === undefined) return response;
    if (seed) resolved = await this.credentials(repository);
    if (
      endpoint.challenge === undefined || endpoint.challenge.scheme !== challenge.scheme ||
      endpoint.challenge.realm !== challenge.realm ||
      endpoint.challenge.service !== challenge.service
    ) {
      endpoint.challenge = challenge;
    }
    let scopes = [scope];
    if (challenge.error === "insufficient_scope" && challenge.scopes.length > 0) {
      scopes = challenge.scopes;
    }
    // At most one renewal per scope in flight, and none when the refused token was itself fresh.
    const refused = sent?.startsWith("Bearer ") ? sent.slice("Bearer ".length) : undefined;
    const retried = await this.#authorization(endpoint, repository, resolved, scopes, what, {
      renew: true,
      ...(refused === undefined ? {} : { refused }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (retried === undefined || (retried === sent && challenge.scheme === "basic")) {
      return response;
    }
    this.#settings.logger.debug(`answering the ${challenge.scheme} challenge for ${what} once`);
    request.onAuthorization?.(retried);
    return await send(retried, resolved);
  }

  /**
   * Checks that the credentials resolved for `repository` are accepted, as
   * `docker login` does: a Basic registry gets `GET /v2/` with them; a Bearer
   * registry's realm is asked for a token with no scope.
   *
   * @returns The scheme checked; `"none"` when the registry challenges nobody.
   */
  async verify(
    repository: Repository,
    signal?: AbortSignal,
  ): Promise<"none" | "basic" | "bearer"> {
    const what = repository.registry;
    const resolved = await this.credentials(repository);
    if (resolved === undefined) {
      throw new RegistryError(
        "AUTH_NOT_FOUND",
        `Cannot verify credentials for ${quote(what)}: none were given or found`,
      );
    }
    const endpoint = await this.endpoint(repository, signal);
    const challenge = endpoint.challenge;
    if (challenge === undefined) {
      // As docker login: only the registry API's own answer counts, never a 403, a 401 without
      // a challenge or somebody's 200 HTML page.
      const answer = endpoint.answer;
      if (answer?.status === 200 && answer.registry) return "none";
      throw new RegistryError(
        "UNEXPECTED_STATUS",
        `Cannot log in to ${quote(what)}: GET /v2/ answered ${answer?.status ?? "nothing"}${
          answer?.status === 401 ? " without a challenge" : ""
        }, not as a registry API does; nothing was stored`,
        ...(answer === undefined ? [] : [{ status: answer.status }]),
      );
    }
    const { credentials } = resolved;
    const rejected = (status: number) =>
      new RegistryError(
        "UNAUTHORIZED",
        `Cannot log in to ${quote(what)}: credentials rejected (${status}); tried ${
          describeCredentials(resolved)
        }`,
        { status },
      );
    if (challenge.scheme === "basic") {
      if (credentials.kind !== "basic") throw rejected(401);
      const response = await this.#settings.http.send({
        method: "GET",
        url: new URL("/v2/", endpoint.base),
        headers: { authorization: basicAuthorization(credentials) },
        maxBytes: 64 * 1024,
        what,
        allowHttp: this.#httpAllowed(repository.apiHost, repository.isLoopback),
        ...(signal === undefined ? {} : { signal }),
      });
      if (response.status === 401) throw rejected(401);
      if (response.status !== 200) {
        throw statusError(response, { action: "log in to", what, context: "api" });
      }
      return "basic";
    }
    if (credentials.kind === "registryToken") return "bearer";
    const realm = this.#realm(endpoint, repository, what);
    await this.#fetchGrant(endpoint, realm, resolved, what, signal)([]);
    return "bearer";
  }

  /**
   * Answers a `WWW-Authenticate` header with a token, as the seed's
   * `authenticate_to_registry` did.
   */
  async tokenFor(
    repository: Repository,
    { header, what }: { header: string; what: string },
  ): Promise<string> {
    const challenge = selectChallenge(header);
    if (challenge === undefined || challenge.scheme !== "bearer") {
      throw new RegistryError(
        "TOKEN_EXCHANGE_FAILED",
        `Cannot get a token for ${
          quote(what)
        }: the challenge is not a Bearer challenge with a realm`,
      );
    }
    const endpoint: RegistryEndpoint = {
      base: new URL(`https://${repository.apiHost}`),
      challenge,
    };
    const realm = this.#realm(endpoint, repository, what);
    const resolved = await this.credentials(repository);
    if (resolved?.credentials.kind === "registryToken") return resolved.credentials.secret;
    const scopes = challenge.scopes.length > 0 ? challenge.scopes : [repository.scope("pull")];
    const grant = await this.#fetchGrant(endpoint, realm, resolved, what)(scopes);
    return grant.token;
  }
}
