/**
 * `ContainerRegistryClient`: the operations (exists, digest, manifest,
 * inspect, tags, bulk existence) and the seed's original methods.
 *
 * @module
 */

import {
  isRegistryError,
  quote,
  type RegistryDiagnostic,
  RegistryError,
  type RegistryErrorCode,
} from "./errors.ts";
import { Logger, type LogHandler, type LogLevel, parseLogLevel } from "./log.ts";
import { parseReference, parseRepository, type Reference, Repository } from "./reference.ts";
import {
  type CredentialExplanation,
  type CredentialOptions,
  explainCredentials,
  resolveCredentials,
} from "./credentials.ts";
import { selectChallenge } from "./challenge.ts";
import { type FetchFunction, Http, type HttpResponse } from "./http.ts";
import { type RetryOptions, retryPolicy } from "./retry.ts";
import { AuthTokenWrapper, basicAuthorization } from "./token.ts";
import { Transport } from "./transport.ts";
import { nextLink } from "./link.ts";
import { snippet } from "./_redact.ts";
import { checkPemCertificates } from "./ca_certs.ts";
import { VERSION } from "./version.ts";

/** OCI image index media type. */
export const MEDIA_TYPE_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** OCI image manifest media type. */
export const MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** Docker manifest list media type. */
export const MEDIA_TYPE_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** Docker image manifest (schema 2) media type. */
export const MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/** The `Accept` header sent for manifests: every current manifest and index type. */
export const MANIFEST_ACCEPT: string = [
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_DOCKER_LIST,
  MEDIA_TYPE_DOCKER_MANIFEST,
].join(", ");

/** Largest manifest accepted (the distribution spec's recommended limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_TAG_PAGES = 10_000;
/** How many inputs `existsMany` looks ahead to batch token requests. */
const READ_AHEAD = 1024;

/**
 * Options for {@linkcode ContainerRegistryClient}. Every field is optional.
 * Credential options (`username`, `password`, `authFile`, `env`,
 * `readTextFile`, `runHelper`, `helperTimeoutMs`) are those of
 * {@linkcode resolveCredentials}; the client supplies the logger.
 */
export interface ContainerRegistryClientOptions extends Omit<CredentialOptions, "logger"> {
  /**
   * Retries after a temporary failure (408, 429, 5xx, network, timeout).
   * @default {5}
   */
  retries?: number;
  /**
   * Least severe log level passed to `onLog`.
   * @default {"INFO"}
   */
  logLevel?: LogLevel | string;
  /**
   * Receives log records; the library never prints by itself.
   * @default {undefined}
   */
  onLog?: LogHandler;
  /**
   * Time limit for one HTTP attempt, body included, in milliseconds.
   * @default {30000}
   */
  timeoutMs?: number;
  /**
   * Extra trusted CA certificates (PEM) for private registries.
   * @default {[]}
   */
  caCerts?: string[];
  /**
   * Registries (`host` or `host:port`) that may be reached over plain HTTP
   * (loopback hosts always may).
   * @default {[]}
   */
  insecureRegistries?: string[];
  /**
   * Backoff tuning: `baseDelayMs` (100), `maxDelayMs` (5000), `maxRetryAfterMs` (30000), `random`.
   * @default {{}}
   */
  backoff?: Omit<RetryOptions, "retries">;
  /**
   * Aborts every operation of this client.
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * The `fetch` to use.
   * @default {globalThis.fetch}
   */
  fetch?: FetchFunction;
  /**
   * The `User-Agent` header.
   * @default {"regkit/0.1.0"}
   */
  userAgent?: string;
}

/** An image platform, e.g. `linux/arm64/v8`. */
export interface Platform {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** CPU architecture, e.g. `amd64`. */
  architecture: string;
  /** CPU variant, e.g. `v8`. */
  variant?: string;
}

/** The answer of an existence check. */
export type ExistsResult =
  | {
    /** The image exists. */
    status: "present";
    /** The input, as given. */
    reference: string;
    /** The manifest digest the registry reported. */
    digest: string;
    /** The manifest media type, when the registry said. */
    mediaType?: string;
  }
  | {
    /** The registry says the manifest or repository does not exist. */
    status: "absent";
    /** The input, as given. */
    reference: string;
  }
  | {
    /** The answer could not be determined. */
    status: "unknown";
    /** The input, as given. */
    reference: string;
    /** Why, as a stable code. */
    code: RegistryErrorCode;
    /** What went wrong; never a secret. */
    message: string;
    /** The error. */
    error: RegistryError;
  };

/** Options for a single operation. */
export interface OperationOptions {
  /**
   * Aborts the operation.
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.existsMany}. */
export interface ExistsManyOptions extends OperationOptions {
  /**
   * Checks running at once.
   * @default {8}
   */
  concurrency?: number;
}

/** Options for operations that can resolve a platform in an index. */
export interface PlatformOptions extends OperationOptions {
  /**
   * Resolve an index or manifest list to this platform (`os/arch[/variant]`).
   * @default {undefined}
   */
  platform?: string | Platform;
}

/** A manifest as served. */
export interface ManifestResult {
  /** The digest of `bytes` (verified against the registry's header and the reference). */
  digest: string;
  /** The media type (`Content-Type` or the manifest's `mediaType`). */
  mediaType: string;
  /** The raw bytes as served. */
  bytes: Uint8Array;
  /** The parsed JSON. */
  json: Record<string, unknown>;
  /** When an index was resolved through `platform`, the index's digest. */
  indexDigest?: string;
}

/** What {@linkcode ContainerRegistryClient.prototype.inspect} returns, shaped like `skopeo inspect`. */
export interface ImageInspection {
  /** The repository, canonical (`docker.io/library/alpine`). */
  Name: string;
  /** The digest the reference resolves to (the index digest for an index). */
  Digest: string;
  /** The tag, if the reference had one. */
  Tag?: string;
  /** The image's creation time, if recorded. */
  Created?: string;
  /** CPU architecture. */
  Architecture: string;
  /** Operating system. */
  Os: string;
  /** CPU variant, if any. */
  Variant?: string;
  /** Image labels. */
  Labels: Record<string, string>;
  /** Layer digests, in order. */
  Layers: string[];
  /** The media type of the platform manifest. */
  MediaType: string;
}

/** Counts of what a client has sent. */
export interface ClientStats {
  /** HTTP exchanges on the wire (retries and redirect hops included). */
  requests: number;
  /** Retries after temporary failures. */
  retries: number;
  /** Token requests. */
  tokenRequests: number;
}

/**
 * Parses `os/arch[/variant]`.
 *
 * @example
 * ```ts
 * import { parsePlatform } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64", variant: "v8" });
 * ```
 * @param value The platform.
 * @returns The parts.
 * @throws {RegistryError} `INVALID_PLATFORM` for anything else.
 */
export function parsePlatform(value: string): Platform {
  const parts = String(value).split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    throw new RegistryError(
      "INVALID_PLATFORM",
      `Cannot use platform ${quote(String(value))}: expected os/arch[/variant], e.g. linux/amd64`,
    );
  }
  const [os, architecture, variant] = parts;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

function hostPlatform(): Platform {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  return { os: "linux", architecture: arch };
}

function platformMatches(want: Platform, have: Record<string, unknown> | undefined): boolean {
  if (have === undefined || have.os !== want.os || have.architecture !== want.architecture) {
    return false;
  }
  if (want.variant === undefined) return true;
  const variant = typeof have.variant === "string"
    ? have.variant
    : want.architecture === "arm64"
    ? "v8"
    : undefined;
  return variant === want.variant;
}

function formatPlatform(p: Record<string, unknown> | undefined): string {
  if (p === undefined) return "unknown";
  return [p.os, p.architecture, p.variant].filter((x) => typeof x === "string").join("/");
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function digestOf(bytes: Uint8Array, algorithm: string): Promise<string | undefined> {
  if (algorithm === "sha256") return await sha256(bytes);
  if (algorithm === "sha512") {
    const hash = new Uint8Array(
      await crypto.subtle.digest("SHA-512", bytes as Uint8Array<ArrayBuffer>),
    );
    return `sha512:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  return undefined;
}

function parseDiagnostics(body: Uint8Array): RegistryDiagnostic[] {
  if (body.byteLength === 0) return [];
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body));
    if (!Array.isArray(parsed?.errors)) return [];
    return parsed.errors
      .filter((e: unknown) =>
        typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
      )
      .slice(0, 20)
      .map((e: { code: string; message?: unknown; detail?: unknown }) => {
        const d: RegistryDiagnostic = { code: e.code };
        if (typeof e.message === "string") d.message = snippet(e.message, 300);
        if (e.detail !== undefined) d.detail = e.detail;
        return d;
      });
  } catch {
    return [];
  }
}

/** Maps a non-2xx answer to a typed error. */
function statusError(action: string, subject: string, response: HttpResponse): RegistryError {
  const { status } = response;
  const diagnostics = parseDiagnostics(response.body);
  const first = diagnostics[0];
  const code: RegistryErrorCode = status === 401
    ? "UNAUTHORIZED"
    : status === 403
    ? "DENIED"
    : status === 429
    ? "TOOMANYREQUESTS"
    : status === 404
    ? (first?.code === "NAME_UNKNOWN" || first?.code === "BLOB_UNKNOWN"
      ? first.code
      : "MANIFEST_UNKNOWN")
    : (first !== undefined &&
        ["NAME_INVALID", "TAG_INVALID", "MANIFEST_INVALID", "UNSUPPORTED"].includes(first.code))
    ? first.code as RegistryErrorCode
    : "UNEXPECTED_STATUS";
  const what = first === undefined
    ? `${status}`
    : `${status} ${first.code}${first.message ? `: ${first.message}` : ""}`;
  const retryAfter = Number(response.headers.get("retry-after"));
  return new RegistryError(code, `Cannot ${action} ${quote(subject)}: registry answered ${what}`, {
    status,
    diagnostics,
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  });
}

function manifestPath(ref: Reference): string {
  return `/v2/${ref.repository}/manifests/${ref.reference}`;
}

class Semaphore {
  #free: number;
  #waiting: Array<() => void> = [];
  constructor(count: number) {
    this.#free = count;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}

/**
 * A container-registry client: existence checks (single and bulk), digests,
 * manifests, inspection and tags, with podman/docker credential resolution
 * and the Docker token flow.
 *
 * @example Checking images (defined, not run: it needs a registry)
 * ```ts
 * import { ContainerRegistryClient } from "@regkit/regkit";
 *
 * async function check() {
 *   await using client = new ContainerRegistryClient({ retries: 3 });
 *   const result = await client.exists("quay.io/org/app:1.2");
 *   if (result.status === "present") console.log(result.digest);
 *   for await (const r of client.existsMany(["alpine:3.20", "alpine:nope"], { concurrency: 16 })) {
 *     console.log(r.status, r.reference);
 *   }
 * }
 * ```
 */
export class ContainerRegistryClient {
  /** Explicit username, if given. */
  readonly username?: string;
  /** Explicit auth file, if given. */
  readonly authFile?: string;
  /** Retries after temporary failures. */
  readonly retries: number;
  /** The log level. */
  readonly logLevel: LogLevel;
  readonly #password?: string;
  readonly #credentialOptions: CredentialOptions;
  readonly #http: Http;
  readonly #transport: Transport;
  readonly #httpClient?: Deno.HttpClient;
  readonly #logger: Logger;
  readonly #signal?: AbortSignal;

  /**
   * Creates a client. Nothing is sent until an operation is called.
   *
   * @param options Credentials, retries, TLS and logging.
   * @throws {TypeError} When only one of `username` and `password` is given.
   * @throws {RangeError} For a negative `retries` or `timeoutMs`, or an unknown `logLevel`.
   * @throws {RegistryError} `INVALID_CONFIG` when a CA certificate cannot be used.
   */
  constructor(options: ContainerRegistryClientOptions = {}) {
    const {
      username,
      password,
      authFile,
      retries = 5,
      logLevel = "INFO",
      onLog,
      timeoutMs = 30_000,
      caCerts = [],
      insecureRegistries = [],
      backoff = {},
      signal,
      fetch = globalThis.fetch,
      userAgent = `regkit/${VERSION}`,
    } = options;
    if ((username === undefined) !== (password === undefined)) {
      throw new TypeError(
        `Cannot create the client: "username" and "password" go together (got only ${
          username === undefined ? "password" : "username"
        })`,
      );
    }
    if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`Cannot use option "timeoutMs": ${timeoutMs} is not a number > 0`);
    }
    this.logLevel = parseLogLevel(logLevel);
    this.retries = retryPolicy({ retries }).retries;
    if (username !== undefined) this.username = username;
    if (password !== undefined) this.#password = password;
    if (authFile !== undefined) this.authFile = authFile;
    if (signal !== undefined) this.#signal = signal;
    this.#logger = new Logger(this.logLevel, onLog);
    this.#credentialOptions = {
      logger: this.#logger,
      ...(username === undefined ? {} : { username, password: password! }),
      ...(authFile === undefined ? {} : { authFile }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.readTextFile === undefined ? {} : { readTextFile: options.readTextFile }),
      ...(options.runHelper === undefined ? {} : { runHelper: options.runHelper }),
      ...(options.helperTimeoutMs === undefined
        ? {}
        : { helperTimeoutMs: options.helperTimeoutMs }),
    };
    if (caCerts.length > 0) {
      caCerts.forEach(checkPemCertificates);
      try {
        this.#httpClient = Deno.createHttpClient({ caCerts });
      } catch (error) {
        throw new RegistryError("INVALID_CONFIG", "Cannot use the CA certificates: not valid PEM", {
          cause: error,
        });
      }
    }
    this.#http = new Http({
      fetch,
      ...(this.#httpClient === undefined ? {} : { client: this.#httpClient }),
      retry: retryPolicy({ ...backoff, retries }),
      timeoutMs,
      userAgent,
      logger: this.#logger,
    });
    this.#transport = new Transport({
      http: this.#http,
      logger: this.#logger,
      credentialsFor: (repository) => resolveCredentials(repository, this.#credentialOptions),
      insecureRegistries: new Set(insecureRegistries.map((h) => h.toLowerCase())),
    });
  }

  /** Counts of what this client has sent so far. */
  get stats(): ClientStats {
    return { ...this.#http.stats, tokenRequests: this.#transport.tokenRequests };
  }

  #signalFor(options: OperationOptions): AbortSignal | undefined {
    const signals = [options.signal, this.#signal].filter((s): s is AbortSignal => s !== undefined);
    return signals.length === 0
      ? undefined
      : signals.length === 1
      ? signals[0]
      : AbortSignal.any(signals);
  }

  /**
   * The seed's credential lookup: explicit credentials win, else the first auth
   * file with an entry for the reference's registry.
   *
   * @example
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * const client = new ContainerRegistryClient({ username: "u", password: "p:w" });
   * assert.deepEqual(await client.resolveAuthentication("quay.io/org/app:1"), ["u", "p:w"]);
   * ```
   * @param imageReference The image reference.
   * @returns `[username, password]`; token credentials give `["<token>", token]`.
   * @throws {RegistryError} `AUTH_NOT_FOUND` naming the registry and the files searched;
   *   `INVALID_REFERENCE`, `AUTH_FILE_INVALID`, `CREDENTIAL_HELPER_FAILED`.
   */
  async resolveAuthentication(imageReference: string): Promise<[string, string]> {
    const ref = parseReference(imageReference);
    const resolved = await resolveCredentials(ref, this.#credentialOptions);
    if (resolved === undefined) {
      const explanation = await explainCredentials(ref, this.#credentialOptions);
      const searched = explanation.searched.length === 0
        ? "no auth file was readable"
        : `searched ${explanation.searched.map(quote).join(", ")}`;
      throw new RegistryError(
        "AUTH_NOT_FOUND",
        `Cannot find credentials for ${quote(ref.registry)}: ${searched}`,
      );
    }
    const { credentials } = resolved;
    return credentials.kind === "basic"
      ? [credentials.username ?? "", credentials.secret]
      : ["<token>", credentials.secret];
  }

  /**
   * Where credentials for a reference come from, and what was skipped. Never a secret.
   *
   * @example
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * const client = new ContainerRegistryClient({ env: () => undefined });
   * const explanation = await client.explainCredentials("quay.io/org/app:1");
   * assert.equal(explanation.source.type, "anonymous");
   * ```
   * @param imageReference The image reference.
   * @returns The explanation.
   * @throws {RegistryError} `INVALID_REFERENCE`, `AUTH_FILE_INVALID`, `CREDENTIAL_HELPER_FAILED`.
   */
  async explainCredentials(imageReference: string): Promise<CredentialExplanation> {
    return await explainCredentials(parseReference(imageReference), this.#credentialOptions);
  }

  /**
   * Checks that the credentials this client resolves for a registry are
   * accepted, as `docker login` does: one `GET /v2/` learns the challenge;
   * a Basic registry gets `GET /v2/` with the credentials, a Bearer
   * registry's realm is asked for a token with no scope. A registry that
   * challenges nobody accepts anything (`"none"`).
   *
   * @example Verifying before storing (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient, storeCredentials } from "@regkit/regkit";
   *
   * async function login(path: string, username: string, password: string) {
   *   await using client = new ContainerRegistryClient({ username, password });
   *   await storeCredentials(path, { registry: "quay.io", username, password }, {
   *     verify: () => client.verifyCredentials("quay.io"),
   *   });
   * }
   * ```
   * @param registry `host[:port]`, optionally with a namespace (`quay.io/org`)
   *   or an `https://` prefix.
   * @param options A signal.
   * @returns The scheme that was checked: `"none"`, `"basic"` or `"bearer"`.
   * @throws {RegistryError} `INVALID_REFERENCE` (not a registry), `AUTH_NOT_FOUND`
   *   (no credentials resolve), `UNAUTHORIZED` (rejected), `DENIED`, `REALM_REJECTED`,
   *   `TOKEN_EXCHANGE_FAILED`, `INSECURE_REGISTRY`, `NETWORK`, `TIMEOUT`.
   */
  async verifyCredentials(
    registry: string,
    options: OperationOptions = {},
  ): Promise<"none" | "basic" | "bearer"> {
    const input = String(registry).replace(/^https?:\/\//i, "").replace(/\/+$/, "");
    const slash = input.indexOf("/");
    const host = slash === -1 ? input : input.slice(0, slash);
    const namespace = slash === -1 ? "" : input.slice(slash + 1);
    const hostLike = host.includes(".") || host.includes(":") || host === "localhost" ||
      host.startsWith("[");
    let parsed: Repository | undefined;
    try {
      if (hostLike) parsed = parseRepository(`${host}/${namespace || "regkit"}`);
    } catch { /* reported below */ }
    if (parsed === undefined) {
      throw new RegistryError(
        "INVALID_REFERENCE",
        `Cannot log in to ${
          quote(String(registry))
        }: not a registry host (host[:port][/namespace])`,
      );
    }
    const repository = new Repository(parsed.registry, namespace);
    return await this.#transport.verify(repository, this.#signalFor(options));
  }

  /**
   * The seed's token request: answers a `WWW-Authenticate` Bearer challenge
   * with a token (anonymous when no credentials are found).
   *
   * @example Answering a challenge (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function token(header: string): Promise<string> {
   *   const client = new ContainerRegistryClient();
   *   return await client.authenticateToRegistry("quay.io/org/app:1", header);
   * }
   * ```
   * @param imageReference The image the token is for.
   * @param authHeader The registry's `WWW-Authenticate` value.
   * @returns The token.
   * @throws {RegistryError} `TOKEN_EXCHANGE_FAILED` (not a Bearer challenge, bad answer),
   *   `REALM_REJECTED`, `UNAUTHORIZED`, `DENIED`, `NETWORK`, `TIMEOUT`.
   */
  async authenticateToRegistry(imageReference: string, authHeader: string): Promise<string> {
    const ref = parseReference(imageReference);
    return await this.#transport.tokenFor(ref, authHeader, imageReference);
  }

  /**
   * The seed's existence check, with its contract: `[true, ""]` when present,
   * `[false, ""]` when absent, `[false, "Unexpected Error: <status> - <detail>"]`
   * otherwise. `authToken.token` is sent first and refreshed in place after a 401.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { AuthTokenWrapper, ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function check(): Promise<boolean> {
   *   const client = new ContainerRegistryClient();
   *   const holder = new AuthTokenWrapper();
   *   const [present] = await client.checkContainerImageExists("quay.io/org/app:1", holder);
   *   return present;
   * }
   * ```
   * @param imageReference The image reference.
   * @param authToken The token holder, shared across calls.
   * @returns `[exists, errorMessage]`.
   * @throws {RegistryError} `INVALID_REFERENCE` for an unparsable reference.
   */
  async checkContainerImageExists(
    imageReference: string,
    authToken: AuthTokenWrapper,
  ): Promise<[boolean, string]> {
    const ref = parseReference(imageReference);
    const signal = this.#signalFor({});
    const head = (authorization: string | null) =>
      this.#headManifest(ref, imageReference, {
        manualAuthorization: authorization,
        ...(signal === undefined ? {} : { signal }),
      });
    let answer: HeadAnswer;
    try {
      answer = await head(authToken.token === "" ? null : `Bearer ${authToken.token}`);
      if (answer.kind === "status" && answer.response.status === 401) {
        const header = answer.response.headers.get("www-authenticate") ?? "";
        const challenge = selectChallenge(header);
        if (challenge?.scheme === "bearer") {
          authToken.token = await this.authenticateToRegistry(imageReference, header);
          answer = await head(`Bearer ${authToken.token}`);
        } else if (challenge?.scheme === "basic") {
          const resolved = await this.#transport.credentials(ref);
          if (resolved?.credentials.kind === "basic") {
            answer = await head(basicAuthorization(resolved.credentials));
          }
        }
      }
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      return [false, `Unexpected Error: ${error.status ?? error.code} - ${error.message}`];
    }
    if (answer.kind === "present") return [true, ""];
    if (answer.kind === "absent") return [false, ""];
    const { response } = answer;
    const text = response.body.byteLength > 0
      ? snippet(new TextDecoder().decode(response.body), 500)
      : statusError("check", imageReference, response).message;
    return [false, `Unexpected Error: ${response.status} - ${text}`];
  }

  async #headManifest(
    ref: Reference,
    subject: string,
    options: { signal?: AbortSignal; manualAuthorization?: string | null },
  ): Promise<HeadAnswer> {
    const request = {
      path: manifestPath(ref),
      accept: MANIFEST_ACCEPT,
      maxBytes: MAX_MANIFEST_BYTES,
      subject,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.manualAuthorization === undefined
        ? {}
        : { manualAuthorization: options.manualAuthorization }),
    };
    let response = await this.#transport.request(ref, { ...request, method: "HEAD" });
    let digest = response.headers.get("docker-content-digest") ?? undefined;
    if (
      response.status === 405 || response.status === 501 ||
      (response.status === 200 && digest === undefined)
    ) {
      // HEAD not allowed, or no digest header: GET once and hash the body.
      response = await this.#transport.request(ref, { ...request, method: "GET" });
      if (response.status === 200) {
        digest = await this.#verifiedDigest(ref, subject, response);
      }
    }
    if (response.status === 404) return { kind: "absent" };
    if (response.status !== 200) return { kind: "status", response };
    if (digest === undefined || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot check ${quote(subject)}: the registry sent no valid Docker-Content-Digest`,
        { status: 200 },
      );
    }
    if (ref.digest !== undefined && digest !== ref.digest) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Cannot trust ${quote(subject)}: the registry answered with digest ${quote(digest)}`,
        { status: 200 },
      );
    }
    const mediaType = response.headers.get("content-type")?.split(";")[0].trim();
    return mediaType ? { kind: "present", digest, mediaType } : { kind: "present", digest };
  }

  async #verifiedDigest(ref: Reference, subject: string, response: HttpResponse): Promise<string> {
    const header = response.headers.get("docker-content-digest") ?? undefined;
    const algorithm = (ref.digest ?? header ?? "sha256:").split(":")[0];
    const computed = await digestOf(response.body, algorithm) ?? await sha256(response.body);
    if (
      header !== undefined && header.split(":")[0] === computed.split(":")[0] && header !== computed
    ) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Cannot trust ${quote(subject)}: the body does not match Docker-Content-Digest ${
          quote(header)
        }`,
        { status: response.status },
      );
    }
    if (ref.digest !== undefined && computed !== ref.digest) {
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `Cannot trust ${quote(subject)}: the body's digest is ${quote(computed)}`,
        { status: response.status },
      );
    }
    return computed;
  }

  async #exists(
    ref: Reference,
    input: string,
    signal: AbortSignal | undefined,
  ): Promise<ExistsResult> {
    try {
      const answer = await this.#headManifest(ref, input, signal === undefined ? {} : { signal });
      if (answer.kind === "absent") return { status: "absent", reference: input };
      if (answer.kind === "present") {
        return answer.mediaType === undefined
          ? { status: "present", reference: input, digest: answer.digest }
          : {
            status: "present",
            reference: input,
            digest: answer.digest,
            mediaType: answer.mediaType,
          };
      }
      throw statusError("check", input, answer.response);
    } catch (error) {
      const registryError = isRegistryError(error) ? error : new RegistryError(
        "INVALID_RESPONSE",
        `Cannot check ${quote(input)}: ${
          error instanceof Error ? error.name : "unexpected failure"
        }`,
        { cause: error },
      );
      return {
        status: "unknown",
        reference: input,
        code: registryError.code,
        message: registryError.message,
        error: registryError,
      };
    }
  }

  /**
   * Checks whether an image exists with one `HEAD` (after the registry's first
   * contact): `present` with its digest, `absent` (404), or `unknown` with a
   * typed reason. Registry failures are answers, not exceptions.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function digestIfPresent(ref: string): Promise<string | undefined> {
   *   await using client = new ContainerRegistryClient();
   *   const result = await client.exists(ref);
   *   return result.status === "present" ? result.digest : undefined;
   * }
   * ```
   * @param imageReference The image reference.
   * @param options A signal.
   * @returns The three-way answer.
   * @throws {RegistryError} `INVALID_REFERENCE` for an unparsable reference.
   */
  async exists(imageReference: string, options: OperationOptions = {}): Promise<ExistsResult> {
    const ref = parseReference(imageReference);
    return await this.#exists(ref, imageReference, this.#signalFor(options));
  }

  /**
   * Checks many images: yields exactly one result per input, in input order,
   * while up to `concurrency` checks run at once. Input is consumed lazily, so
   * a long stream is never held in memory; token requests are batched (several
   * repositories' scopes per request). Invalid references yield `unknown`
   * with `INVALID_REFERENCE`.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function report(refs: string[]) {
   *   await using client = new ContainerRegistryClient();
   *   for await (const result of client.existsMany(refs, { concurrency: 32 })) {
   *     console.log(result.status, result.reference);
   *   }
   * }
   * ```
   * @param imageReferences References, as an iterable or async iterable.
   * @param options Concurrency and a signal.
   * @returns The results, in input order.
   * @throws {RangeError} When `concurrency` is not an integer from 1 to 1024.
   */
  existsMany(
    imageReferences: Iterable<string> | AsyncIterable<string>,
    options: ExistsManyOptions = {},
  ): AsyncIterableIterator<ExistsResult> {
    const { concurrency = 8 } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
      throw new RangeError(
        `Cannot use option "concurrency": ${concurrency} is not an integer from 1 to 1024`,
      );
    }
    return this.#existsMany(imageReferences, concurrency, this.#signalFor(options));
  }

  async *#existsMany(
    inputs: Iterable<string> | AsyncIterable<string>,
    concurrency: number,
    signal: AbortSignal | undefined,
  ): AsyncIterableIterator<ExistsResult> {
    const iterator = Symbol.asyncIterator in inputs
      ? (inputs as AsyncIterable<string>)[Symbol.asyncIterator]()
      : (inputs as Iterable<string>)[Symbol.iterator]();
    // Two horizons: up to `window` checks are scheduled (results wait in order), while up to
    // READ_AHEAD parsed inputs are looked at to batch token requests (many scopes per request).
    const window = Math.max(concurrency * 4, 64);
    const semaphore = new Semaphore(concurrency);
    const pending: Array<{ input: string; ref?: Reference; error?: RegistryError }> = [];
    const queue: Promise<ExistsResult>[] = [];
    let exhausted = false;
    const readAhead = async () => {
      const fresh: Reference[] = [];
      while (!exhausted && pending.length < READ_AHEAD) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const input = String(next.value);
        try {
          const ref = parseReference(input);
          pending.push({ input, ref });
          fresh.push(ref);
        } catch (error) {
          if (!isRegistryError(error)) throw error;
          pending.push({ input, error });
        }
      }
      if (fresh.length > 0) await this.#transport.prepare(fresh, signal);
    };
    const schedule = (item: { input: string; ref?: Reference; error?: RegistryError }) => {
      const { input, ref, error } = item;
      queue.push(
        ref !== undefined
          ? semaphore.run(() => this.#exists(ref, input, signal))
          : Promise.resolve({
            status: "unknown",
            reference: input,
            code: error!.code,
            message: error!.message,
            error: error!,
          }),
      );
    };
    try {
      for (;;) {
        if (!exhausted && pending.length <= READ_AHEAD / 2) await readAhead();
        while (queue.length < window && pending.length > 0) schedule(pending.shift()!);
        const head = queue.shift();
        if (head === undefined) break;
        yield await head;
      }
    } finally {
      if (!exhausted) await iterator.return?.();
      await Promise.allSettled(queue);
    }
  }

  async #getManifest(
    ref: Reference,
    subject: string,
    signal?: AbortSignal,
  ): Promise<ManifestResult> {
    const response = await this.#transport.request(ref, {
      method: "GET",
      path: manifestPath(ref),
      accept: MANIFEST_ACCEPT,
      maxBytes: MAX_MANIFEST_BYTES,
      subject,
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.status !== 200) throw statusError("get the manifest of", subject, response);
    const digest = await this.#verifiedDigest(ref, subject, response);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(response.body));
      if (typeof json !== "object" || json === null || Array.isArray(json)) throw new TypeError();
    } catch {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot read the manifest of ${quote(subject)}: not a JSON object`,
        { status: 200 },
      );
    }
    const mediaType = (typeof json.mediaType === "string" ? json.mediaType : undefined) ??
      response.headers.get("content-type")?.split(";")[0].trim() ?? "";
    return { digest, mediaType, bytes: response.body, json };
  }

  /**
   * Fetches a manifest as served; with `platform`, an index or manifest list
   * is resolved to that platform's manifest.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function arm(ref: string) {
   *   await using client = new ContainerRegistryClient();
   *   const { digest, mediaType } = await client.manifest(ref, { platform: "linux/arm64/v8" });
   *   return { digest, mediaType };
   * }
   * ```
   * @param imageReference The image reference.
   * @param options Platform and signal.
   * @returns The manifest, its digest and media type.
   * @throws {RegistryError} `MANIFEST_UNKNOWN`/`NAME_UNKNOWN` when absent, `PLATFORM_NOT_FOUND`,
   *   `DIGEST_MISMATCH`, `INVALID_PLATFORM`, `UNAUTHORIZED`, `DENIED`, `NETWORK`, ...
   */
  async manifest(imageReference: string, options: PlatformOptions = {}): Promise<ManifestResult> {
    const { ref, signal, platform, top } = await this.#topManifest(imageReference, options);
    if (platform === undefined || !Array.isArray(top.json.manifests)) return top;
    return {
      ...await this.#resolvePlatform(ref, imageReference, top, platform, signal),
      indexDigest: top.digest,
    };
  }

  /** Parses the reference and platform, then fetches the manifest the reference names. */
  async #topManifest(imageReference: string, options: PlatformOptions) {
    const ref = parseReference(imageReference);
    const signal = this.#signalFor(options);
    const platform = typeof options.platform === "string"
      ? parsePlatform(options.platform)
      : options.platform;
    const top = await this.#getManifest(ref, imageReference, signal);
    return { ref, signal, platform, top };
  }

  async #resolvePlatform(
    ref: Reference,
    subject: string,
    index: ManifestResult,
    platform: Platform,
    signal?: AbortSignal,
  ): Promise<ManifestResult> {
    const manifests = (index.json.manifests as Array<Record<string, unknown>>).filter((m) =>
      typeof m === "object" && m !== null && typeof m.digest === "string"
    );
    const match = manifests.find((m) =>
      platformMatches(platform, m.platform as Record<string, unknown>)
    );
    if (match === undefined) {
      const available = manifests.map((m) => formatPlatform(m.platform as Record<string, unknown>));
      throw new RegistryError(
        "PLATFORM_NOT_FOUND",
        `Cannot find platform ${
          quote(formatPlatform(platform as unknown as Record<string, unknown>))
        } in ${quote(subject)}: available ${available.join(", ") || "none"}`,
      );
    }
    const child = parseReference(`${ref.name}@${match.digest as string}`);
    return await this.#getManifest(child, subject, signal);
  }

  /**
   * The digest a reference resolves to (with `platform`, the platform
   * manifest's digest).
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function pin(ref: string): Promise<string> {
   *   await using client = new ContainerRegistryClient();
   *   return `${ref.split(":")[0]}@${await client.digest(ref)}`;
   * }
   * ```
   * @param imageReference The image reference.
   * @param options Platform and signal.
   * @returns The digest, e.g. `sha256:…`.
   * @throws {RegistryError} `MANIFEST_UNKNOWN` when absent, and as {@linkcode ContainerRegistryClient.prototype.manifest}.
   */
  async digest(imageReference: string, options: PlatformOptions = {}): Promise<string> {
    if (options.platform !== undefined) {
      return (await this.manifest(imageReference, options)).digest;
    }
    const ref = parseReference(imageReference);
    const answer = await this.#headManifest(ref, imageReference, {
      ...(this.#signalFor(options) === undefined ? {} : { signal: this.#signalFor(options)! }),
    });
    if (answer.kind === "present") return answer.digest;
    if (answer.kind === "absent") {
      throw new RegistryError(
        "MANIFEST_UNKNOWN",
        `Cannot get the digest of ${quote(imageReference)}: registry answered 404`,
        { status: 404 },
      );
    }
    throw statusError("get the digest of", imageReference, answer.response);
  }

  /**
   * Image details like `skopeo inspect`: the manifest (resolved to `platform`,
   * or this host's platform for an index) and its config blob.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function labels(ref: string) {
   *   await using client = new ContainerRegistryClient();
   *   return (await client.inspect(ref)).Labels;
   * }
   * ```
   * @param imageReference The image reference.
   * @param options Platform and signal.
   * @returns The inspection.
   * @throws {RegistryError} As {@linkcode ContainerRegistryClient.prototype.manifest},
   *   plus `BLOB_UNKNOWN` and `INVALID_RESPONSE` for a bad config blob.
   */
  async inspect(imageReference: string, options: PlatformOptions = {}): Promise<ImageInspection> {
    const { ref, signal, platform, top } = await this.#topManifest(imageReference, options);
    const manifest = Array.isArray(top.json.manifests)
      ? await this.#resolvePlatform(ref, imageReference, top, platform ?? hostPlatform(), signal)
      : top;
    const config = manifest.json.config as Record<string, unknown> | undefined;
    if (typeof config?.digest !== "string") {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot inspect ${quote(imageReference)}: the manifest has no config descriptor`,
      );
    }
    const configRef = parseReference(`${ref.name}@${config.digest}`);
    const response = await this.#transport.request(ref, {
      method: "GET",
      path: `/v2/${ref.repository}/blobs/${config.digest}`,
      maxBytes: MAX_CONFIG_BYTES,
      subject: imageReference,
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.status !== 200) throw statusError("read the config of", imageReference, response);
    await this.#verifiedDigest(configRef, imageReference, { ...response, headers: new Headers() });
    let image: Record<string, unknown>;
    try {
      image = JSON.parse(new TextDecoder().decode(response.body));
      if (typeof image !== "object" || image === null) throw new TypeError();
    } catch {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot inspect ${quote(imageReference)}: the config blob is not JSON`,
      );
    }
    const labelsRaw = (image.config as Record<string, unknown> | undefined)?.Labels;
    const labels: Record<string, string> = {};
    if (typeof labelsRaw === "object" && labelsRaw !== null) {
      for (const [k, v] of Object.entries(labelsRaw)) if (typeof v === "string") labels[k] = v;
    }
    const layers = Array.isArray(manifest.json.layers)
      ? (manifest.json.layers as Array<Record<string, unknown>>).flatMap((l) =>
        typeof l?.digest === "string" ? [l.digest] : []
      )
      : [];
    const result: ImageInspection = {
      Name: ref.name,
      Digest: top.digest,
      Architecture: typeof image.architecture === "string" ? image.architecture : "",
      Os: typeof image.os === "string" ? image.os : "",
      Labels: labels,
      Layers: layers,
      MediaType: manifest.mediaType,
    };
    if (ref.tag !== undefined) result.Tag = ref.tag;
    if (typeof image.created === "string") result.Created = image.created;
    if (typeof image.variant === "string") result.Variant = image.variant;
    return result;
  }

  /**
   * Lists every tag of a repository, following `Link` pagination.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function count(repo: string): Promise<number> {
   *   await using client = new ContainerRegistryClient();
   *   return (await client.tags(repo)).length;
   * }
   * ```
   * @param repository The repository, e.g. `quay.io/org/app` (no tag).
   * @param options A signal.
   * @returns The tags, in the registry's order.
   * @throws {RegistryError} `INVALID_REFERENCE`, `NAME_UNKNOWN`, `UNAUTHORIZED`, `DENIED`, ...
   */
  async tags(repository: string, options: OperationOptions = {}): Promise<string[]> {
    const repo: Repository = parseRepository(repository);
    const signal = this.#signalFor(options);
    const tags: string[] = [];
    const seen = new Set<string>();
    let path: string | undefined = `/v2/${repo.repository}/tags/list`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= MAX_TAG_PAGES || seen.has(path)) {
        throw new RegistryError(
          "INVALID_RESPONSE",
          `Cannot list tags of ${quote(repository)}: pagination does not end`,
        );
      }
      seen.add(path);
      const response = await this.#transport.request(repo, {
        method: "GET",
        path,
        accept: "application/json",
        maxBytes: MAX_MANIFEST_BYTES,
        subject: repository,
        ...(signal === undefined ? {} : { signal }),
      });
      if (response.status !== 200) throw statusError("list tags of", repository, response);
      let body: { tags?: unknown };
      try {
        body = JSON.parse(new TextDecoder().decode(response.body));
      } catch {
        throw new RegistryError(
          "INVALID_RESPONSE",
          `Cannot list tags of ${quote(repository)}: the answer is not JSON`,
        );
      }
      if (Array.isArray(body?.tags)) {
        for (const tag of body.tags) if (typeof tag === "string") tags.push(tag);
      }
      path = nextLink(response.headers.get("link"));
    }
    return tags;
  }

  /**
   * Releases the HTTP client made for `caCerts`. Safe to call twice.
   *
   * @example
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   * const client = new ContainerRegistryClient();
   * client.close();
   * ```
   */
  close(): void {
    try {
      this.#httpClient?.close();
    } catch { /* already closed */ }
  }

  /** Closes the client (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Shows the client without secrets. */
  [Symbol.for("Deno.customInspect")](): string {
    return `ContainerRegistryClient { username: ${
      this.username === undefined ? "undefined" : quote(this.username)
    }, password: ${this.#password === undefined ? "undefined" : "[redacted]"}, authFile: ${
      this.authFile === undefined ? "undefined" : quote(this.authFile)
    }, retries: ${this.retries}, logLevel: ${quote(this.logLevel)} }`;
  }

  /** Serialises without secrets. */
  toJSON(): Record<string, unknown> {
    return {
      username: this.username,
      password: this.#password === undefined ? undefined : "[redacted]",
      authFile: this.authFile,
      retries: this.retries,
      logLevel: this.logLevel,
    };
  }
}

type HeadAnswer =
  | { kind: "present"; digest: string; mediaType?: string }
  | { kind: "absent" }
  | { kind: "status"; response: HttpResponse };

export { AuthTokenWrapper };
