/**
 * `ContainerRegistryClient`: the facade over the operations in `ops/`. It
 * holds the options (validated here, at once), wires logger, HTTP, transport
 * and credentials together, and gives each operation one documented method.
 *
 * @module
 */

import { quote } from "./errors.ts";
import type { LogLevel } from "./log.ts";
import {
  type CredentialExplanation,
  type CredentialOptions,
  explainCredentials,
} from "./credentials.ts";
import type { Http } from "./http.ts";
import { checkClientOptions, type ContainerRegistryClientOptions } from "./client_options.ts";
import { wireClient } from "./client_wiring.ts";
import type { AuthTokenWrapper } from "./token.ts";
import type { Transport } from "./transport.ts";
import { parseReference } from "./reference.ts";
import type {
  ArtifactsManyOptions,
  ArtifactsOptions,
  ArtifactsResult,
  ClientStats,
  ExistsManyOptions,
  ExistsResult,
  ImageConfigResult,
  ImageInspection,
  InspectOptions,
  ManifestResult,
  OperationOptions,
  PlatformOptions,
  ReferrersOptions,
  ReferrersResult,
  SignedManyOptions,
  SignedOptions,
  SignedResult,
  TagsOptions,
  VerifyManyOptions,
  VerifyOptions,
  VerifyResult,
} from "./types.ts";
import type { OperationContext, ReferrersCapability } from "./ops/_context.ts";
import * as existsOps from "./ops/exists.ts";
import * as manifestOps from "./ops/manifest.ts";
import { imageConfig, inspect } from "./ops/inspect.ts";
import { checkMaxTags, repositoryTags, tags } from "./ops/tags.ts";
import * as seed from "./ops/seed.ts";
import * as artifactOps from "./ops/artifacts.ts";
import * as verifyOps from "./ops/verify.ts";
import { verifyCredentials } from "./ops/login.ts";
import { REDACTED } from "./_redact.ts";

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
  readonly #signal?: AbortSignal;

  /**
   * Creates a client. Nothing is sent until an operation is called; every
   * option is checked here, each bad one naming the option and its value.
   *
   * @example A bad option fails at once
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * assert.throws(() => new ContainerRegistryClient({ helperTimeoutMs: -1 }), RangeError);
   * ```
   * @param options Credentials, retries, TLS and logging.
   * @throws {TypeError} For an option of the wrong type, or only one of `username` and `password`.
   * @throws {RangeError} For a value out of range: a negative `retries`, a `timeoutMs` or
   *   `helperTimeoutMs` that is not positive or longer than a timer can wait, an unknown
   *   `logLevel`, a malformed `insecureRegistries` entry, a `userAgent` with control characters.
   * @throws {RegistryError} `INVALID_CONFIG` when a CA certificate cannot be used.
   */
  constructor(options: ContainerRegistryClientOptions = {}) {
    checkClientOptions(options);
    const wiring = wireClient(options);
    this.logLevel = wiring.logLevel;
    this.retries = wiring.retries;
    if (options.username !== undefined) this.username = options.username;
    if (options.password !== undefined) this.#password = options.password;
    if (options.authFile !== undefined) this.authFile = options.authFile;
    if (options.signal !== undefined) this.#signal = options.signal;
    this.#credentialOptions = wiring.credentialOptions;
    this.#http = wiring.http;
    this.#transport = wiring.transport;
    if (wiring.httpClient !== undefined) this.#httpClient = wiring.httpClient;
  }

  /** Per repository, whether it has the referrers API (learnt from its first answer). */
  readonly #referrers = new Map<string, Promise<ReferrersCapability>>();

  /** Counts of what this client has sent so far. */
  get stats(): ClientStats {
    return { ...this.#http.stats, tokenRequests: this.#transport.tokenRequests };
  }

  /** The wiring an operation gets, with the client's and the call's signals combined. */
  #context(options: OperationOptions = {}): OperationContext {
    const signals = [options.signal, this.#signal].filter((s): s is AbortSignal => s !== undefined);
    return {
      transport: this.#transport,
      credentials: this.#credentialOptions,
      signal: signals.length <= 1 ? signals[0] : AbortSignal.any(signals),
      referrers: this.#referrers,
    };
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
    return await seed.resolveAuthentication(this.#context(), imageReference);
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
    return await verifyCredentials(this.#context(options), registry);
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
    return await seed.authenticateToRegistry(this.#context(), { imageReference, authHeader });
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
    return await seed.checkContainerImageExists(this.#context(), { imageReference, authToken });
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
    return await existsOps.exists(this.#context(options), imageReference);
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
    return existsOps.existsMany(this.#context(options), imageReferences, options);
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
    return await manifestOps.manifest(this.#context(options), imageReference, options);
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
    return await manifestOps.digest(this.#context(options), imageReference, options);
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
   * @param options Platform, `tags` (also list the repository's tags as `RepoTags`) and signal.
   * @returns The inspection.
   * @throws {RegistryError} As {@linkcode ContainerRegistryClient.prototype.manifest},
   *   plus `BLOB_UNKNOWN` and `INVALID_RESPONSE` for a bad config blob; with `tags`,
   *   as {@linkcode ContainerRegistryClient.prototype.tags}.
   */
  async inspect(imageReference: string, options: InspectOptions = {}): Promise<ImageInspection> {
    return await inspect(this.#context(options), imageReference, options);
  }

  /**
   * The config blob of an image as served (`skopeo inspect --config`), with
   * `platform` (or this host's platform) chosen in an index.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function entrypoint(ref: string) {
   *   await using client = new ContainerRegistryClient();
   *   const { json } = await client.config(ref, { platform: "linux/amd64" });
   *   return (json.config as { Entrypoint?: string[] } | undefined)?.Entrypoint;
   * }
   * ```
   * @param imageReference The image reference.
   * @param options Platform and signal.
   * @returns The config blob's bytes, digest and parsed JSON.
   * @throws {RegistryError} As {@linkcode ContainerRegistryClient.prototype.inspect}.
   */
  async config(imageReference: string, options: PlatformOptions = {}): Promise<ImageConfigResult> {
    return await imageConfig(this.#context(options), imageReference, options);
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
   * @param options `maxTags` and a signal.
   * @returns The tags, in the registry's order.
   * @throws {RegistryError} `INVALID_REFERENCE`, `NAME_UNKNOWN`, `UNAUTHORIZED`, `DENIED`,
   *   `RESPONSE_TOO_LARGE` past `maxTags`, ...
   * @throws {RangeError} For a `maxTags` that is not a positive integer.
   */
  async tags(repository: string, options: TagsOptions = {}): Promise<string[]> {
    checkMaxTags(options.maxTags);
    return await tags(this.#context(options), repository, options);
  }

  /**
   * Lists the tags of a repository one page at a time, as the registry sends
   * them (up to 1,000 per page), so a caller can print or stop early
   * without holding the whole list.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function hasReleaseTag(repo: string): Promise<boolean> {
   *   await using client = new ContainerRegistryClient();
   *   for await (const page of client.tagPages(repo)) {
   *     if (page.some((tag) => tag.startsWith("release-"))) return true;
   *   }
   *   return false;
   * }
   * ```
   * @param repository The repository, e.g. `quay.io/org/app` (no tag).
   * @param options `maxTags` (counted over all pages) and a signal.
   * @returns The pages' tags, in the registry's order.
   * @throws {RegistryError} As {@linkcode ContainerRegistryClient.prototype.tags}, from the
   *   iteration.
   * @throws {RangeError} For a `maxTags` that is not a positive integer (at once).
   */
  tagPages(repository: string, options: TagsOptions = {}): AsyncIterable<string[]> {
    checkMaxTags(options.maxTags);
    return repositoryTags(this.#context(options), repository, options);
  }

  /**
   * Whether an image is signed: a signature artifact (legacy cosign `.sig`
   * tag, cosign v3 bundle, notation, …) is attached to its digest, found
   * through the referrers API, its fallback tag or cosign's tags. Nothing is
   * verified here.
   *
   * @example Is it signed? (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function check(ref: string) {
   *   await using client = new ContainerRegistryClient();
   *   const r = await client.signed(ref, { platforms: "all" });
   *   if (r.status === "unknown") throw r.error; // never "unsigned" when unsure
   *   return r.status === "signed";
   * }
   * ```
   * @param imageReference The image reference.
   * @param options `platforms` (`"all"`: every child of an index too), `signatureRepository`.
   * @returns `signed`/`unsigned` with what was found, `absent`, or `unknown` with a code.
   * @throws {RegistryError} `INVALID_REFERENCE`.
   */
  async signed(imageReference: string, options: SignedOptions = {}): Promise<SignedResult> {
    return await artifactOps.signed(this.#context(options), imageReference, options);
  }

  /**
   * {@linkcode ContainerRegistryClient.prototype.signed} for many images: one
   * result per input, in input order, with the requests shared per repository
   * (one tag listing, or a `HEAD` per candidate tag, whichever is fewer).
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function unsigned(refs: string[]) {
   *   await using client = new ContainerRegistryClient();
   *   const out: string[] = [];
   *   for await (const r of client.signedMany(refs, { concurrency: 32 })) {
   *     if (r.status === "unsigned") out.push(r.reference);
   *   }
   *   return out;
   * }
   * ```
   * @param imageReferences References, as an iterable or async iterable.
   * @param options As `signed`, and `concurrency`.
   * @returns The results, in input order.
   * @throws {RangeError} At once, for a bad `concurrency`.
   */
  signedMany(
    imageReferences: Iterable<string> | AsyncIterable<string>,
    options: SignedManyOptions = {},
  ): AsyncIterableIterator<SignedResult> {
    return artifactOps.signedMany(this.#context(options), imageReferences, options);
  }

  /**
   * Verifies, offline with `crypto.subtle`, that an image is signed by one of
   * `keys` for its digest (and `identity`, `annotations`): legacy cosign
   * signatures and cosign v3 bundles. No transparency log or certificate is
   * checked; a keyless bundle is `unverified` with reason `keyless`.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function ours(ref: string, pem: string) {
   *   await using client = new ContainerRegistryClient();
   *   const r = await client.verify(ref, { keys: [pem], identity: "quay.io/org/app" });
   *   if (r.status === "unknown") throw r.error;
   *   return r.status === "verified";
   * }
   * ```
   * @param imageReference The image reference.
   * @param options Keys, identity, annotations, platforms, signature repository.
   * @returns `verified`, `unverified`, `unsigned`, `absent` or `unknown`.
   * @throws {RegistryError} `INVALID_CONFIG` for an unsupported key.
   */
  async verify(imageReference: string, options: VerifyOptions): Promise<VerifyResult> {
    return await verifyOps.verify(this.#context(options), imageReference, options);
  }

  /**
   * {@linkcode ContainerRegistryClient.prototype.verify} for many images, in input order.
   *
   * @param imageReferences References, as an iterable or async iterable.
   * @param options As `verify`, and `concurrency`.
   * @returns The results, in input order.
   */
  verifyMany(
    imageReferences: Iterable<string> | AsyncIterable<string>,
    options: VerifyManyOptions,
  ): AsyncIterableIterator<VerifyResult> {
    return verifyOps.verifyMany(this.#context(options), imageReferences, options);
  }

  /**
   * Everything attached to an image, classified: kind (signature,
   * attestation, SBOM), format, where it was found, digest, tag, predicate
   * type and creation time. With `platforms: "all"`, each child of an index too.
   *
   * @example (defined, not run: it needs a registry)
   * ```ts
   * import { ContainerRegistryClient } from "@regkit/regkit";
   *
   * async function list(ref: string) {
   *   await using client = new ContainerRegistryClient();
   *   const r = await client.artifacts(ref, { kinds: ["signature", "sbom"] });
   *   return r.status === "present" ? r.artifacts.map((a) => `${a.kind} ${a.format}`) : [];
   * }
   * ```
   * @param imageReference The image reference.
   * @param options `platforms`, `kinds`, `signatureRepository`.
   * @returns `present` with the artifacts, `absent`, or `unknown` with a code.
   * @throws {RegistryError} `INVALID_REFERENCE`. @throws {TypeError} For bad options.
   */
  async artifacts(
    imageReference: string,
    options: ArtifactsOptions = {},
  ): Promise<ArtifactsResult> {
    return await artifactOps.artifacts(this.#context(options), imageReference, options);
  }

  /**
   * {@linkcode ContainerRegistryClient.prototype.artifacts} for many images,
   * in input order.
   *
   * @param imageReferences References, as an iterable or async iterable.
   * @param options As `artifacts`, and `concurrency`.
   * @returns The results, in input order.
   * @throws {RangeError} At once, for a bad `concurrency`.
   */
  artifactsMany(
    imageReferences: Iterable<string> | AsyncIterable<string>,
    options: ArtifactsManyOptions = {},
  ): AsyncIterableIterator<ArtifactsResult> {
    return artifactOps.artifactsMany(this.#context(options), imageReferences, options);
  }

  /**
   * The OCI 1.1 referrers of an image: the referrers API where the registry
   * has it (every page, filter honoured), else the fallback tag schema,
   * validated; which one was used, and why, is in the answer.
   *
   * @param imageReference The image reference (a tag costs one `HEAD`).
   * @param options `artifactType`.
   * @returns The subject digest, the descriptors, `source` and `reason`.
   * @throws {RegistryError} `MANIFEST_UNKNOWN`, and any failure to read the registry.
   */
  async referrers(
    imageReference: string,
    options: ReferrersOptions = {},
  ): Promise<ReferrersResult> {
    return await artifactOps.referrers(this.#context(options), imageReference, options);
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
    }, password: ${this.#password === undefined ? "undefined" : REDACTED}, authFile: ${
      this.authFile === undefined ? "undefined" : quote(this.authFile)
    }, retries: ${this.retries}, logLevel: ${quote(this.logLevel)} }`;
  }

  /** Serialises without secrets. */
  toJSON(): Record<string, unknown> {
    return {
      username: this.username,
      password: this.#password === undefined ? undefined : REDACTED,
      authFile: this.authFile,
      retries: this.retries,
      logLevel: this.logLevel,
    };
  }
}
