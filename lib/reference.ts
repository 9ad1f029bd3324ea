/**
 * Image references, parsed with the distribution reference grammar:
 * `[domain[:port]/]path[:tag][@algorithm:hex]`, normalized as docker and podman
 * normalize them.
 *
 * @module
 */

import { quote, RegistryError } from "./errors.ts";
import { hostOf, isLoopbackHost } from "./host.ts";

/** The registry name docker uses for Docker Hub. */
export const DOCKER_HUB_REGISTRY = "docker.io";
/** The host that serves Docker Hub's registry API. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
/** The tag used when a reference names neither a tag nor a digest. */
export const DEFAULT_TAG = "latest";

const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
]);

/**
 * Maximum length of a repository path, counted as distribution counts it: on
 * the normalised path (`library/` included for Docker Hub short names), the
 * registry host not included (distribution's `RepositoryNameTotalLengthMax`).
 */
export const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
// distribution's `ipv6address`: hex digits and colons only, so no zone
// identifier (`%eth0`, which `URL` cannot carry) and no embedded IPv4.
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]*$/;
const DIGEST_ALGORITHM = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
// distribution's `anchoredIdentifierRegexp`: what `docker images` prints as an image ID.
const IMAGE_ID = /^[a-f0-9]{64}$/;

/** Digest algorithms regkit verifies, with the length of their hex encoding. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

function invalid(input: string, detail: string): RegistryError {
  return new RegistryError(
    "INVALID_REFERENCE",
    `Cannot parse image reference ${quote(input)}: ${detail}`,
  );
}

/**
 * Validates a digest string `algorithm:hex`.
 *
 * @example
 * ```ts
 * import { parseDigest } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(parseDigest("sha256:" + "a".repeat(64)).algorithm, "sha256");
 * ```
 * @param digest The digest, e.g. `sha256:<64 hex>`.
 * @returns The algorithm and hex parts.
 * @throws {RegistryError} `INVALID_REFERENCE` for an unknown algorithm or a wrong hex length.
 */
export function parseDigest(digest: string): { algorithm: string; hex: string } {
  const colon = digest.indexOf(":");
  if (colon <= 0) throw invalid(digest, "digest must be <algorithm>:<hex>");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm)) {
    throw invalid(digest, `digest algorithm ${quote(algorithm)} is malformed`);
  }
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    throw invalid(digest, `digest algorithm ${quote(algorithm)} is not supported`);
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw invalid(digest, `${algorithm} digest must be ${length} lowercase hex characters`);
  }
  return { algorithm, hex };
}

/**
 * A repository in a registry, without tag or digest.
 *
 * @example
 * ```ts
 * import { parseRepository } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const repo = parseRepository("quay.io/org/app");
 * assert.equal(repo.scope("pull"), "repository:org/app:pull");
 * ```
 */
export class Repository {
  /** The registry as named in auth files, e.g. `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** The repository path, e.g. `library/ubuntu`. */
  readonly repository: string;

  /**
   * Creates a repository from already-validated parts; use
   * {@linkcode parseRepository} for untrusted input.
   *
   * @param registry The normalized registry.
   * @param repository The repository path.
   */
  constructor(registry: string, repository: string) {
    this.registry = registry;
    this.repository = repository;
  }

  /** The host (and port) that serves the registry API, e.g. `registry-1.docker.io`. */
  get apiHost(): string {
    return this.registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : this.registry;
  }

  /** Whether the registry is on a loopback address. */
  get isLoopback(): boolean {
    return isLoopbackHost(hostOf(this.registry));
  }

  /** `registry/repository`, the canonical name. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /**
   * The short form docker prints: `ubuntu` for `docker.io/library/ubuntu`.
   * Unlike docker's, it always parses back to the same repository: a Docker
   * Hub path whose first component looks like a host (`docker.io/a.b/c`)
   * keeps its `docker.io/` prefix.
   */
  get familiarName(): string {
    if (this.registry !== DOCKER_HUB_REGISTRY) return this.name;
    const components = this.repository.split("/");
    if (components[0] === "library" && components.length === 2) return components[1];
    const first = components[0];
    const looksLikeHost = first.includes(".") || first.includes(":") || first === "localhost";
    return looksLikeHost ? this.name : this.repository;
  }

  /**
   * A token scope for this repository.
   *
   * @param actions The actions, e.g. `pull` or `pull,push`.
   * @returns `repository:<path>:<actions>`.
   */
  scope(actions = "pull"): string {
    return `repository:${this.repository}:${actions}`;
  }

  /** The canonical name. */
  toString(): string {
    return this.name;
  }
}

/**
 * A parsed image reference. `reference` is what is fetched: the digest when
 * there is one, else the tag.
 *
 * @example
 * ```ts
 * import { parseReference } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const ref = parseReference("ubuntu");
 * assert.equal(String(ref), "docker.io/library/ubuntu:latest");
 * assert.equal(ref.familiar, "ubuntu:latest");
 * assert.equal(ref.apiHost, "registry-1.docker.io");
 * ```
 */
export class Reference extends Repository {
  /** The tag, if any (`latest` when the input had neither tag nor digest). */
  readonly tag?: string;
  /** The digest, if any. It wins over the tag when fetching. */
  readonly digest?: string;

  /**
   * Creates a reference from already-validated parts; use
   * {@linkcode parseReference} for untrusted input.
   *
   * @param registry The normalized registry.
   * @param repository The repository path.
   * @param tag The tag, if any.
   * @param digest The digest, if any.
   */
  constructor(registry: string, repository: string, tag?: string, digest?: string) {
    super(registry, repository);
    if (tag !== undefined) this.tag = tag;
    if (digest !== undefined) this.digest = digest;
  }

  /** What the manifest endpoint is asked for: the digest if present, else the tag. */
  get reference(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  /** The suffix after the name: `:tag`, `@digest` or `:tag@digest`. */
  get #suffix(): string {
    return (this.tag === undefined ? "" : `:${this.tag}`) +
      (this.digest === undefined ? "" : `@${this.digest}`);
  }

  /** The short form docker prints, e.g. `ubuntu:latest`. */
  get familiar(): string {
    return this.familiarName + this.#suffix;
  }

  /** The repository alone. */
  get repo(): Repository {
    return new Repository(this.registry, this.repository);
  }

  /** The canonical form, e.g. `docker.io/library/ubuntu:latest`. */
  override toString(): string {
    return this.name + this.#suffix;
  }
}

function parseDomain(input: string, domain: string): string {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith("[")) {
    const end = domain.indexOf("]");
    host = domain.slice(0, end + 1);
    const rest = domain.slice(end + 1);
    if (end !== -1 && host.includes("%")) {
      throw invalid(
        input,
        `registry ${quote(domain)} has an IPv6 zone identifier, which a reference cannot carry`,
      );
    }
    if (end === -1 || !IPV6_HOST.test(host)) {
      throw invalid(input, `registry ${quote(domain)} is not a valid host`);
    }
    if (rest !== "") {
      if (!rest.startsWith(":")) throw invalid(input, `registry ${quote(domain)} is malformed`);
      port = rest.slice(1);
    }
  } else {
    const colon = domain.indexOf(":");
    if (colon !== -1) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    const parts = host.split(".");
    if (host === "" || !parts.every((p) => DOMAIN_COMPONENT.test(p))) {
      throw invalid(input, `registry ${quote(domain)} is not a valid host`);
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535 || Number(port) === 0)) {
    throw invalid(input, `registry port ${quote(port)} is not a port number`);
  }
  const lowered = host.toLowerCase();
  if (DOCKER_HUB_ALIASES.has(lowered) && port === undefined) return DOCKER_HUB_REGISTRY;
  return port === undefined ? lowered : `${lowered}:${port}`;
}

function splitName(input: string, name: string): [registry: string, path: string] {
  const slash = name.indexOf("/");
  if (slash !== -1) {
    const first = name.slice(0, slash);
    if (
      first.includes(".") || first.includes(":") || first === "localhost" ||
      first.startsWith("[") || first !== first.toLowerCase()
    ) {
      return [parseDomain(input, first), name.slice(slash + 1)];
    }
  }
  return [DOCKER_HUB_REGISTRY, name];
}

function parsePath(input: string, registry: string, path: string): string {
  if (path === "") throw invalid(input, "repository name is empty");
  const components = path.split("/");
  const normalised = registry === DOCKER_HUB_REGISTRY && components.length === 1
    ? `library/${path}`
    : path;
  if (normalised.length > MAX_NAME_LENGTH) {
    const counted = normalised === path ? "" : ` once "library/" is added`;
    throw invalid(input, `repository name is longer than ${MAX_NAME_LENGTH} characters${counted}`);
  }
  for (const component of components) {
    if (component === "") throw invalid(input, "repository path has an empty component");
    if (!PATH_COMPONENT.test(component)) {
      const detail = component !== component.toLowerCase()
        ? `repository ${quote(path)} must be lowercase`
        : `repository component ${quote(component)} has invalid characters`;
      throw invalid(input, detail);
    }
  }
  return normalised;
}

function stripTransport(input: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(input);
  if (scheme === null) return input;
  if (scheme[1].toLowerCase() !== "docker") {
    throw invalid(input, `scheme ${quote(scheme[1] + "://")} is not supported (only docker://)`);
  }
  return input.slice(scheme[0].length);
}

function parseNameAndTag(input: string, body: string) {
  // The tag is after the last ":" that follows the last "/".
  const lastSlash = body.lastIndexOf("/");
  const colon = body.indexOf(":", lastSlash + 1);
  const name = colon === -1 ? body : body.slice(0, colon);
  const tag = colon === -1 ? undefined : body.slice(colon + 1);
  if (tag !== undefined) {
    if (tag === "") throw invalid(input, "tag is empty");
    if (tag.length > MAX_TAG_LENGTH) {
      throw invalid(input, `tag is longer than ${MAX_TAG_LENGTH} characters`);
    }
    if (!TAG.test(tag)) throw invalid(input, `tag ${quote(tag)} has invalid characters`);
  }
  const [registry, path] = splitName(input, name);
  return { registry, repository: parsePath(input, registry, path), tag };
}

function checkInput(input: unknown): string {
  if (typeof input !== "string") {
    throw new RegistryError("INVALID_REFERENCE", "Cannot parse image reference: not a string");
  }
  if (input === "") throw invalid(input, "reference is empty");
  if (/\s/.test(input)) throw invalid(input, "reference contains whitespace");
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(input)) throw invalid(input, "reference has control characters");
  const body = stripTransport(input);
  if (IMAGE_ID.test(body)) {
    throw invalid(
      input,
      "64 hexadecimal characters look like an image ID, not a repository name (an image ID names an image in a local store, not in a registry)",
    );
  }
  return body;
}

/**
 * Parses an image reference as docker and podman do.
 *
 * @example Docker Hub short names
 * ```ts
 * import { parseReference } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(parseReference("alpine").repository, "library/alpine");
 * assert.equal(parseReference("localhost:5000/app").tag, "latest");
 * assert.equal(parseReference("docker://quay.io/org/app:1").registry, "quay.io");
 * ```
 * @param input The reference, e.g. `quay.io/org/app:1.2`.
 * @returns The parsed reference with defaults applied.
 * @throws {RegistryError} `INVALID_REFERENCE` naming the part that is wrong.
 */
export function parseReference(input: string): Reference {
  const body = checkInput(input);
  const at = body.indexOf("@");
  const nameAndTag = at === -1 ? body : body.slice(0, at);
  let digest: string | undefined;
  if (at !== -1) {
    digest = body.slice(at + 1);
    if (digest === "") throw invalid(input, "digest is empty");
    try {
      parseDigest(digest);
    } catch (error) {
      if (error instanceof RegistryError) {
        throw invalid(input, error.message.slice(error.message.indexOf(": ") + 2));
      }
      throw error;
    }
  }
  const { registry, repository, tag } = parseNameAndTag(input, nameAndTag);
  return new Reference(
    registry,
    repository,
    tag ?? (digest === undefined ? DEFAULT_TAG : undefined),
    digest,
  );
}

/**
 * Parses a repository name (no tag, no digest), e.g. for listing tags.
 *
 * @example
 * ```ts
 * import { parseRepository } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(parseRepository("ubuntu").name, "docker.io/library/ubuntu");
 * ```
 * @param input The repository, e.g. `quay.io/org/app`.
 * @returns The parsed repository.
 * @throws {RegistryError} `INVALID_REFERENCE` when `input` is not a bare repository name.
 */
export function parseRepository(input: string): Repository {
  const body = checkInput(input);
  if (body.includes("@")) throw invalid(input, "a repository takes no digest");
  const hostAndPort = /^(\[[0-9A-Fa-f:.]+\]|localhost|[^/:]*\.[^/:]*):\d+\/*$/i.exec(body);
  if (hostAndPort !== null) {
    throw invalid(
      input,
      `the repository is missing after the registry host, e.g. ${body.replace(/\/+$/, "")}/org/app`,
    );
  }
  const { registry, repository, tag } = parseNameAndTag(input, body);
  if (tag !== undefined) throw invalid(input, "a repository takes no tag");
  return new Repository(registry, repository);
}

/** A registry named on its own, as `login` and `logout` take it. */
export interface RegistryName {
  /** The normalized registry, e.g. `quay.io`, `localhost:5000`, `docker.io`. */
  readonly registry: string;
  /** The namespace after the host, e.g. `org` for `quay.io/org`; `""` when there is none. */
  readonly namespace: string;
  /** The auth-file key `login` writes and `logout` removes: `registry[/namespace]`. */
  readonly key: string;
}

/**
 * Parses a registry name, `host[:port][/namespace]`, as `podman login` takes
 * it: an `http://` or `https://` prefix and trailing slashes are dropped, the
 * host is lowercased and Docker Hub's aliases become `docker.io`. The host
 * must look like one (a `.`, a `:port`, `localhost` or an IPv6 literal), so a
 * bare word is not mistaken for a registry.
 *
 * @example Auth-file keys for login and logout
 * ```ts
 * import { parseRegistry } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRegistry("https://Quay.io/org/").key, "quay.io/org");
 * assert.equal(parseRegistry("index.docker.io").key, "docker.io");
 * assert.deepEqual(
 *   { ...parseRegistry("localhost:5000") },
 *   { registry: "localhost:5000", namespace: "", key: "localhost:5000" },
 * );
 * assert.throws(() => parseRegistry("ubuntu"), { code: "INVALID_REFERENCE" });
 * ```
 * @param input The registry, e.g. `quay.io`, `https://quay.io/org` or `[::1]:5000`.
 * @returns The normalized registry, namespace and auth-file key.
 * @throws {RegistryError} `INVALID_REFERENCE` when `input` is not `host[:port][/namespace]`.
 */
export function parseRegistry(input: string): RegistryName {
  const text = typeof input === "string" ? input : String(input);
  const trimmed = text.replace(/^https?:\/\//i, "").replace(/\/+$/, "");
  const slash = trimmed.indexOf("/");
  const host = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const namespace = slash === -1 ? "" : trimmed.slice(slash + 1);
  const hostLike = host.includes(".") || host.includes(":") || host === "localhost" ||
    host.startsWith("[");
  let registry: string | undefined;
  if (typeof input === "string" && hostLike) {
    try {
      // The namespace must be a valid repository path; a placeholder stands in for none.
      registry = parseRepository(`${host}/${namespace || "regkit"}`).registry;
    } catch { /* reported below */ }
  }
  if (registry === undefined) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `Cannot parse registry ${
        quote(text)
      }: expected host[:port][/namespace], e.g. quay.io or localhost:5000/org`,
    );
  }
  return { registry, namespace, key: namespace === "" ? registry : `${registry}/${namespace}` };
}

/**
 * Whether `tag` is a valid tag name (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, the
 * distribution spec's grammar). A registry's tag list is not trusted to hold
 * only these: check before printing or using one.
 *
 * @example
 * ```ts
 * import { isValidTag } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(isValidTag("v1.2.3"), true);
 * assert.equal(isValidTag("x\u001b[2J"), false);
 * ```
 *
 * @param tag The candidate.
 * @returns `true` for a valid tag.
 */
export function isValidTag(tag: unknown): tag is string {
  return typeof tag === "string" && tag.length <= 128 && TAG.test(tag);
}
