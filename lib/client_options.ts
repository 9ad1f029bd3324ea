/**
 * The options of `ContainerRegistryClient`, and their eager validation: each
 * bad value is a `TypeError` (wrong type) or `RangeError` (wrong value) naming
 * the option and the value, thrown by the constructor before anything runs.
 *
 * @module
 */

import type { CredentialOptions } from "./credentials.ts";
import type { FetchFunction } from "./http.ts";
import type { LogHandler, LogLevel } from "./log.ts";
import { MAX_TIMER_MS, type RetryOptions } from "./retry.ts";

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
   * Least severe log level passed to `onLog`. Given without `onLog`, records
   * at or above it are written to stderr as `regkit: LEVEL: message` (as
   * Python's logging does without a handler; the seed's users turn logging
   * on this way).
   * @default {"INFO"}
   */
  logLevel?: LogLevel | string;
  /**
   * Receives log records. Without it (and without `logLevel`) nothing is printed.
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

/** A value for a message: strings quoted, never a secret (callers skip those). */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

function fail(kind: "type" | "range", name: string, value: unknown, expected: string): never {
  const message = `Cannot use option "${name}": ${show(value)} is not ${expected}`;
  throw kind === "type" ? new TypeError(message) : new RangeError(message);
}

/** `host`, `host:port` or `[ipv6]:port`: what `insecureRegistries` may name. */
const REGISTRY_HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** Printable Latin-1 and tab: what fetch accepts in a header value. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkMilliseconds(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number") fail("type", name, value, "a number of milliseconds");
  if (!(value > 0) || value > MAX_TIMER_MS) {
    fail("range", name, value, `a number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  }
}

/**
 * Checks every option's type and value, so that a bad one fails here, not in
 * every later request.
 *
 * @param options The options as given.
 * @throws {TypeError} For a value of the wrong type, or `username` without `password`.
 * @throws {RangeError} For a value out of range: a timeout that is not positive or
 *   longer than a timer can wait, a malformed insecure registry, a `userAgent` that
 *   is not a header value.
 */
export function checkClientOptions(options: ContainerRegistryClientOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create the client: options must be an object, got ${show(options)}`,
    );
  }
  const { username, password } = options;
  for (const [name, value] of [["username", username], ["password", password]] as const) {
    if (value !== undefined && typeof value !== "string") {
      // Never the value: it may be a secret.
      throw new TypeError(`Cannot use option "${name}": expected a string, got ${typeof value}`);
    }
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new TypeError(
      `Cannot create the client: "username" and "password" go together (got only ${
        username === undefined ? "password" : "username"
      })`,
    );
  }
  if (options.authFile !== undefined && typeof options.authFile !== "string") {
    fail("type", "authFile", options.authFile, "a path");
  }
  for (const name of ["env", "readTextFile", "runHelper", "onLog", "fetch"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function") fail("type", name, value, "a function");
  }
  checkMilliseconds("timeoutMs", options.timeoutMs);
  checkMilliseconds("helperTimeoutMs", options.helperTimeoutMs);
  for (const name of ["caCerts", "insecureRegistries"] as const) {
    const list = options[name];
    if (list === undefined) continue;
    if (!Array.isArray(list)) fail("type", name, list, "an array of strings");
    list.forEach((item: unknown, i: number) => {
      if (typeof item !== "string") fail("type", `${name}[${i}]`, item, "a string");
    });
  }
  for (const [i, host] of (options.insecureRegistries ?? []).entries()) {
    if (!REGISTRY_HOST.test(host)) {
      fail("range", `insecureRegistries[${i}]`, host, "a registry host (host or host:port)");
    }
  }
  const { backoff } = options;
  if (backoff !== undefined && (typeof backoff !== "object" || backoff === null)) {
    fail("type", "backoff", backoff, "an object");
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    fail("type", "signal", options.signal, "an AbortSignal");
  }
  const { userAgent } = options;
  if (userAgent !== undefined) {
    if (typeof userAgent !== "string") fail("type", "userAgent", userAgent, "a string");
    if (!HEADER_VALUE.test(userAgent)) {
      fail("range", "userAgent", userAgent, "a header value (no control characters)");
    }
  }
}
