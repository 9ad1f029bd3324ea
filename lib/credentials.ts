/**
 * Credential resolution: explicit credentials, then each auth file in
 * {@linkcode AUTH_FILES} order (credential helpers included); nothing found
 * means anonymous access.
 *
 * Environment variables and files are only used when their permission is
 * already granted; anything else is skipped with a DEBUG log record, never a
 * permission prompt.
 *
 * @module
 */

import { quote, RegistryError } from "./errors.ts";
import { Logger } from "./log.ts";
import { parseReference, parseRegistry, type Reference, Repository } from "./reference.ts";
import {
  type AuthFileContent,
  type CredentialKind,
  Credentials,
  parseAuthFile,
} from "./auth_file.ts";
import { helperServerUrl, lookupAuthEntry, lookupCredentialHelper } from "./auth_keys.ts";
import { authFileUnusable, readPermitted, readRegularTextFile } from "./auth_read.ts";
import { AUTH_FILES, candidateAuthFiles, type EnvReader, permittedEnv } from "./auth_paths.ts";
import { type HelperAnswer, runCredentialHelper } from "./credential_helper.ts";

export { AUTH_FILES, type CredentialKind, Credentials, type EnvReader, permittedEnv };
export type { HelperAnswer, Reference, Repository };

/** Where resolved credentials came from. */
export interface CredentialSource {
  /** `explicit` options, an auth `file`, a credential `helper`, or `anonymous`. */
  type: "explicit" | "file" | "helper" | "anonymous";
  /** The auth file (for `file`, and for `helper` the file that named it). */
  path?: string;
  /** The auth-file key that matched, e.g. `quay.io/org` (`credsStore` has none). */
  key?: string;
  /** The helper name without `docker-credential-` (for `helper`). */
  helper?: string;
}

/** A candidate that was not used, and why. */
export interface SkippedCandidate {
  /** The pattern, path or helper command that was skipped. */
  candidate: string;
  /** Why, without values or secrets, e.g. `$XDG_RUNTIME_DIR is not permitted (--allow-env)`. */
  reason: string;
}

/** What {@linkcode explainCredentials} reports. Contains no secret. */
export interface CredentialExplanation {
  /** The reference, canonical form. */
  reference: string;
  /** The registry, e.g. `docker.io`. */
  registry: string;
  /** Where the credentials came from (`anonymous` when none). */
  source: CredentialSource;
  /** The kind of credentials, when found. */
  kind?: CredentialKind;
  /** The username, when found and known. */
  username?: string;
  /** The expanded paths of the auth files that were read, in order. */
  searched: string[];
  /** The candidates (files, helpers) that were skipped, and why. */
  skipped: SkippedCandidate[];
}

/** Credentials and where they came from. */
export interface ResolvedCredentials {
  /** The credentials. */
  credentials: Credentials;
  /** Where they came from. */
  source: CredentialSource;
}

/** Options for {@linkcode resolveCredentials} and {@linkcode explainCredentials}. */
export interface CredentialOptions {
  /**
   * An explicit username; requires `password`, and then no file is read.
   *
   * @default {undefined}
   */
  username?: string;
  /**
   * An explicit password; requires `username`.
   *
   * @default {undefined}
   */
  password?: string;
  /**
   * The one registry (`host[:port]`, e.g. `quay.io`) that `username` and
   * `password` are for. Other registries resolve credentials as if none were
   * given (auth files, helpers, else anonymous), so a batch over several
   * registries never sends them elsewhere. Requires `username`.
   *
   * @default {undefined} (the explicit credentials are for every registry)
   */
  credentialsFor?: string;
  /**
   * An explicit auth file (`--authfile`). When given it is the only file read
   * (as `$REGISTRY_AUTH_FILE` is); the path is used literally. Unlike the
   * implicit candidates, it must exist and be readable: otherwise
   * `AUTH_FILE_INVALID`.
   *
   * @default {undefined}
   */
  authFile?: string;
  /**
   * Reads environment variables. A function may return `undefined` or throw
   * for variables it must not read.
   *
   * @default {permittedEnv} (only variables whose `env` permission is granted)
   */
  env?: EnvReader;
  /**
   * The operating system whose auth-file search order applies (see
   * {@linkcode AUTH_FILES}).
   *
   * @default {Deno.build.os}
   */
  os?: typeof Deno.build.os;
  /**
   * Reads an auth file; throw `Deno.errors.NotFound` for a missing file. When
   * given, no read permission is queried.
   *
   * @default A regular file of at most 4 MiB read as strict UTF-8, after
   *   checking that the `read` permission is granted.
   */
  readTextFile?: (path: string) => Promise<string>;
  /**
   * Runs a credential helper. When given, no run permission is queried.
   *
   * @default {runCredentialHelper} (after checking that the `run` permission is granted)
   */
  runHelper?: (
    helper: string,
    serverUrl: string,
    options: { timeoutMs: number },
  ) => Promise<HelperAnswer | undefined>;
  /**
   * Milliseconds before a credential helper is killed.
   *
   * @default {10000}
   */
  helperTimeoutMs?: number;
  /**
   * Receives a DEBUG record for every skipped candidate (no values, no secrets).
   *
   * @default {new Logger()} (discards everything)
   */
  logger?: Logger;
}

interface Trace {
  searched: string[];
  skipped: SkippedCandidate[];
  logger: Logger;
}

function skip(trace: Trace, candidate: string, reason: string): void {
  trace.skipped.push({ candidate, reason });
  trace.logger.debug(`Skipping credential source ${quote(candidate)}: ${reason}`);
}

function toRepository(reference: Reference | Repository | string): Repository {
  if (reference instanceof Repository) return reference;
  if (typeof reference === "string") return parseReference(reference);
  throw new TypeError("Cannot resolve credentials: expected a reference or a string");
}

function runPermitted(command: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Reads one auth file: its text, or `undefined` when it is skipped. Only
 * implicit candidates are skipped (missing, or outside `--allow-read`); a
 * file named by `authFile` or `$REGISTRY_AUTH_FILE` must be readable.
 */
async function readAuthFile(
  path: string,
  options: CredentialOptions,
  trace: Trace,
  namedBy?: string,
): Promise<string | undefined> {
  const skipOrThrow = (reason: string): undefined => {
    if (namedBy !== undefined) throw authFileUnusable(path, reason, { namedBy });
    skip(trace, path, reason);
    return undefined;
  };
  const injected = options.readTextFile;
  if (injected === undefined && !readPermitted(path)) {
    return skipOrThrow("the read permission is not granted (--allow-read)");
  }
  try {
    return await (injected ?? readRegularTextFile)(path);
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    if (error instanceof Deno.errors.NotFound) return skipOrThrow("the file does not exist");
    if (error instanceof Deno.errors.NotCapable) {
      return skipOrThrow("the read permission is not granted (--allow-read)");
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw authFileUnusable(path, "it is a directory", { namedBy });
    }
    throw authFileUnusable(path, "cannot be read", { namedBy, cause: error });
  }
}

function fromAnswer(answer: HelperAnswer): Credentials | undefined {
  if (answer.secret === "") return undefined;
  if (answer.username === "<token>") return Credentials.identityToken(answer.secret);
  if (answer.username === "") return undefined;
  return Credentials.basic(answer.username, answer.secret);
}

async function askHelper(
  helper: string,
  registry: string,
  options: CredentialOptions,
  trace: Trace,
): Promise<Credentials | undefined> {
  const command = `docker-credential-${helper}`;
  const timeoutMs = options.helperTimeoutMs ?? 10_000;
  let answer: HelperAnswer | undefined;
  if (options.runHelper !== undefined) {
    answer = await options.runHelper(helper, helperServerUrl(registry), { timeoutMs });
  } else {
    if (!runPermitted(command)) {
      skip(trace, command, "the run permission is not granted (--allow-run)");
      return undefined;
    }
    answer = await runCredentialHelper(helper, helperServerUrl(registry), {
      timeoutMs,
      logger: trace.logger,
    });
  }
  const credentials = answer === undefined ? undefined : fromAnswer(answer);
  if (credentials === undefined) skip(trace, command, "credentials not found");
  return credentials;
}

async function fromFile(
  content: AuthFileContent,
  repository: Repository,
  options: CredentialOptions,
  trace: Trace,
): Promise<ResolvedCredentials | undefined> {
  const path = content.path;
  const helperMatch = lookupCredentialHelper(content, repository);
  if (helperMatch !== undefined) {
    const credentials = await askHelper(helperMatch.helper, repository.registry, options, trace);
    if (credentials !== undefined) {
      return {
        credentials,
        source: { type: "helper", path, key: helperMatch.key!, helper: helperMatch.helper },
      };
    }
  }
  if (content.credsStore !== undefined) {
    const helper = content.credsStore;
    const credentials = await askHelper(helper, repository.registry, options, trace);
    if (credentials !== undefined) {
      return { credentials, source: { type: "helper", path, helper } };
    }
  }
  const entry = lookupAuthEntry(content, repository);
  if (entry?.credentials !== undefined) {
    return { credentials: entry.credentials, source: { type: "file", path, key: entry.key } };
  }
  if (entry !== undefined) {
    // As in podman, the best-matching key decides: no credentials there
    // means none from this file, whatever a less specific key holds.
    const what = entry.placeholder ? "`{}`" : "an entry without credentials";
    skip(
      trace,
      path,
      `${what} at ${quote(entry.key)}: this file gives no credentials for ${
        quote(repository.name)
      }`,
    );
    return undefined;
  }
  trace.logger.debug(`No credentials for ${quote(repository.registry)} in ${quote(path)}`);
  return undefined;
}

function explicitCredentials(options: CredentialOptions): Credentials | undefined {
  const { username, password } = options;
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) {
    throw new TypeError(
      `Cannot use options "username" and "password": both are required, got only ${
        username === undefined ? '"password"' : '"username"'
      }`,
    );
  }
  if (typeof username !== "string" || username === "") {
    throw new TypeError(`Cannot use option "username": expected a non-empty string`);
  }
  if (typeof password !== "string") {
    throw new TypeError(`Cannot use option "password": expected a string`);
  }
  return Credentials.basic(username, password);
}

/**
 * The registry `credentialsFor` names, normalized as `Repository.registry` is.
 *
 * @param options The options.
 * @returns The registry, or `undefined` when the option is not given.
 * @throws {TypeError} When it is not a string or is given without `username`.
 * @throws {RangeError} When it is not `host[:port]`.
 */
export function credentialsRegistry(options: CredentialOptions): string | undefined {
  const { credentialsFor } = options;
  if (credentialsFor === undefined) return undefined;
  if (typeof credentialsFor !== "string") {
    throw new TypeError(`Cannot use option "credentialsFor": expected a registry host`);
  }
  if (options.username === undefined) {
    throw new TypeError(`Cannot use option "credentialsFor": it needs "username" and "password"`);
  }
  let name;
  try {
    name = parseRegistry(credentialsFor);
  } catch { /* reported below */ }
  if (name === undefined || name.namespace !== "" || /^[a-z]+:\/\//i.test(credentialsFor)) {
    throw new RangeError(
      `Cannot use option "credentialsFor": ${
        quote(credentialsFor)
      } is not a registry host (host or host:port)`,
    );
  }
  return name.registry;
}

function checkOptions(options: CredentialOptions): void {
  const { helperTimeoutMs } = options;
  if (
    helperTimeoutMs !== undefined &&
    (typeof helperTimeoutMs !== "number" || !Number.isFinite(helperTimeoutMs) ||
      helperTimeoutMs <= 0)
  ) {
    throw new RangeError(
      `Cannot use option "helperTimeoutMs": expected a positive number, got ${
        String(helperTimeoutMs)
      }`,
    );
  }
}

async function resolve(
  repository: Repository,
  options: CredentialOptions,
  trace: Trace,
): Promise<ResolvedCredentials | undefined> {
  checkOptions(options);
  const explicit = explicitCredentials(options);
  const only = credentialsRegistry(options);
  if (explicit !== undefined && (only === undefined || only === repository.registry)) {
    return { credentials: explicit, source: { type: "explicit" } };
  }
  const { authFile, env, os } = options;
  for (const candidate of candidateAuthFiles({ authFile, env, os })) {
    if (candidate.path === undefined) {
      skip(trace, candidate.pattern, candidate.skipped ?? "skipped");
      continue;
    }
    const namedBy = candidate.explicit === "authFile"
      ? `--authfile (option "authFile")`
      : candidate.explicit === "REGISTRY_AUTH_FILE"
      ? "$REGISTRY_AUTH_FILE"
      : undefined;
    const text = await readAuthFile(candidate.path, options, trace, namedBy);
    if (text === undefined) continue;
    trace.searched.push(candidate.path);
    const content = parseAuthFile(candidate.path, text, { legacy: candidate.legacy ?? false });
    const found = await fromFile(content, repository, options, trace);
    if (found !== undefined) return found;
  }
  trace.logger.debug(`No credentials for ${quote(repository.registry)}: anonymous access`);
  return undefined;
}

/**
 * Finds the credentials for a reference, in order: explicit `username` and
 * `password`; the explicit `authFile`, else `$REGISTRY_AUTH_FILE`, as the
 * only file; else each file in {@linkcode AUTH_FILES}. Within a file,
 * `credHelpers` (most specific key first), then `credsStore`, then `auths`
 * (most specific key first, then URL forms and Docker Hub aliases). The first
 * file that yields credentials wins.
 *
 * @example Explicit credentials
 * ```ts
 * import { resolveCredentials } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const resolved = await resolveCredentials("quay.io/org/app:1", {
 *   username: "me",
 *   password: "s3cret",
 * });
 * assert.equal(resolved?.source.type, "explicit");
 * assert.equal(resolved?.credentials.username, "me");
 * ```
 * @example From an auth file
 * ```ts
 * import { resolveCredentials } from "@regkit/regkit";
 * import { encodeBase64 } from "@std/encoding/base64";
 * import assert from "node:assert/strict";
 * const auth = { auths: { "quay.io/org": { auth: encodeBase64("me:s3cret") } } };
 * const resolved = await resolveCredentials("quay.io/org/app:1", {
 *   authFile: "/run/auth.json",
 *   readTextFile: () => Promise.resolve(JSON.stringify(auth)),
 * });
 * assert.deepEqual(resolved?.source, { type: "file", path: "/run/auth.json", key: "quay.io/org" });
 * assert.equal(resolved?.credentials.secret, "s3cret");
 * ```
 * @param reference The image reference or repository.
 * @param options Explicit credentials, auth file, and injected side effects.
 * @returns The credentials and their source, or `undefined` for anonymous access.
 * @throws {TypeError} When only one of `username` and `password` is given.
 * @throws {RangeError} When `helperTimeoutMs` is not a positive number.
 * @throws {RegistryError} `INVALID_REFERENCE` for a bad reference string;
 *   `AUTH_FILE_INVALID` naming the file and key for a malformed auth file,
 *   naming the file for one that is not a regular file or larger than 4 MiB,
 *   and for an `authFile` or `$REGISTRY_AUTH_FILE` that is missing or not
 *   readable;
 *   `CREDENTIAL_HELPER_FAILED` naming the helper when it is missing, fails,
 *   answers badly or hangs.
 */
export async function resolveCredentials(
  reference: Reference | Repository | string,
  options: CredentialOptions = {},
): Promise<ResolvedCredentials | undefined> {
  const trace: Trace = { searched: [], skipped: [], logger: options.logger ?? new Logger() };
  return await resolve(toRepository(reference), options, trace);
}

/**
 * Resolves credentials as {@linkcode resolveCredentials} does and reports
 * where they came from, which files were read and what was skipped, without
 * any secret.
 *
 * @example
 * ```ts
 * import { explainCredentials } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const explanation = await explainCredentials("alpine", {
 *   env: (name) => name === "HOME" ? "/home/me" : undefined,
 *   readTextFile: () => Promise.reject(new Deno.errors.NotFound()),
 * });
 * assert.equal(explanation.source.type, "anonymous");
 * assert.equal(explanation.registry, "docker.io");
 * assert.ok(explanation.skipped.some((s) => s.candidate === "${XDG_RUNTIME_DIR}/containers/auth.json"));
 * ```
 * @param reference The image reference or repository.
 * @param options As for {@linkcode resolveCredentials}.
 * @returns The explanation.
 * @throws {TypeError} When only one of `username` and `password` is given.
 * @throws {RangeError} When `helperTimeoutMs` is not a positive number.
 * @throws {RegistryError} As {@linkcode resolveCredentials} does.
 */
export async function explainCredentials(
  reference: Reference | Repository | string,
  options: CredentialOptions = {},
): Promise<CredentialExplanation> {
  const repository = toRepository(reference);
  const trace: Trace = { searched: [], skipped: [], logger: options.logger ?? new Logger() };
  const resolved = await resolve(repository, options, trace);
  const explanation: CredentialExplanation = {
    reference: repository.toString(),
    registry: repository.registry,
    source: resolved?.source ?? { type: "anonymous" },
    searched: trace.searched,
    skipped: trace.skipped,
  };
  if (resolved !== undefined) {
    explanation.kind = resolved.credentials.kind;
    if (resolved.credentials.username !== undefined) {
      explanation.username = resolved.credentials.username;
    }
  }
  return explanation;
}

/**
 * Which credentials a request tried, for the message of a refusal (401, 403):
 * `anonymously (...)`, or the kind and user and where they came from. Never a
 * secret.
 *
 * @example Usage
 * ```ts
 * import { describeCredentials } from "./credentials.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   describeCredentials(undefined),
 *   "anonymously (no credentials were found; see `regkit auth explain`)",
 * );
 * ```
 *
 * @param resolved The credentials resolved for the request, if any.
 * @returns A phrase that follows "tried".
 */
export function describeCredentials(resolved: ResolvedCredentials | undefined): string {
  if (resolved === undefined) {
    return "anonymously (no credentials were found; see `regkit auth explain`)";
  }
  const { credentials, source } = resolved;
  const who = credentials.kind === "basic"
    ? `user ${quote(credentials.username ?? "")}`
    : credentials.kind === "identityToken"
    ? `an identity token${credentials.username ? ` of ${quote(credentials.username)}` : ""}`
    : "a registry token";
  switch (source.type) {
    case "helper":
      return `${who} from the credential helper docker-credential-${source.helper} (${
        source.key === undefined ? "credsStore" : `credHelpers ${quote(source.key)}`
      } in ${source.path})`;
    case "file":
      return `${who} from ${source.path} (key ${quote(source.key ?? "")})`;
    case "explicit":
      return `${who} given explicitly (--username, or the username option)`;
    default:
      return who;
  }
}
