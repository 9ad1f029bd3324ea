/**
 * The one error type regkit throws for registry and configuration failures.
 *
 * API misuse (a negative retry count, a username without a password) stays a
 * `TypeError` or `RangeError`, as in the standard library.
 *
 * @module
 */

/**
 * Every code a {@linkcode RegistryError} can carry. The union only changes with
 * a semver-major release.
 *
 * Registry answers keep the distribution-spec codes; client-side failures have
 * their own.
 */
export type RegistryErrorCode =
  // distribution-spec error codes, as the registry sends them
  | "BLOB_UNKNOWN"
  | "MANIFEST_UNKNOWN"
  | "MANIFEST_INVALID"
  | "NAME_UNKNOWN"
  | "NAME_INVALID"
  | "TAG_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  // client-side failures
  | "INVALID_REFERENCE"
  | "INVALID_PLATFORM"
  | "AUTH_NOT_FOUND"
  | "AUTH_FILE_INVALID"
  | "CREDENTIAL_HELPER_FAILED"
  | "TOKEN_EXCHANGE_FAILED"
  | "REALM_REJECTED"
  | "INSECURE_REGISTRY"
  // the registry's TLS certificate is not trusted (unknown CA, wrong name, expired): not
  // retried; pass the registry's CA with the `caCerts` option (CLI: `--ca-cert FILE`)
  | "TLS_UNTRUSTED"
  | "DIGEST_MISMATCH"
  | "PLATFORM_NOT_FOUND"
  | "INVALID_RESPONSE"
  | "RESPONSE_TOO_LARGE"
  | "INVALID_CONFIG"
  | "NETWORK"
  | "TIMEOUT"
  | "ABORTED"
  | "UNEXPECTED_STATUS";

/** All codes, for iteration and validation. */
export const REGISTRY_ERROR_CODES: readonly RegistryErrorCode[] = [
  "BLOB_UNKNOWN",
  "MANIFEST_UNKNOWN",
  "MANIFEST_INVALID",
  "NAME_UNKNOWN",
  "NAME_INVALID",
  "TAG_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
  "INVALID_REFERENCE",
  "INVALID_PLATFORM",
  "AUTH_NOT_FOUND",
  "AUTH_FILE_INVALID",
  "CREDENTIAL_HELPER_FAILED",
  "TOKEN_EXCHANGE_FAILED",
  "REALM_REJECTED",
  "INSECURE_REGISTRY",
  "TLS_UNTRUSTED",
  "DIGEST_MISMATCH",
  "PLATFORM_NOT_FOUND",
  "INVALID_RESPONSE",
  "RESPONSE_TOO_LARGE",
  "INVALID_CONFIG",
  "NETWORK",
  "TIMEOUT",
  "ABORTED",
  "UNEXPECTED_STATUS",
];

/** One entry of an OCI error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryDiagnostic {
  /** The registry's error code, e.g. `MANIFEST_UNKNOWN`. */
  code: string;
  /** The registry's human-readable message. */
  message?: string;
  /** Registry-specific detail, as sent. */
  detail?: unknown;
}

/** Options for {@linkcode RegistryError}. */
export interface RegistryErrorOptions {
  /** The HTTP status of the answer that caused the error, if any. */
  status?: number;
  /** Parsed OCI error body entries, if the registry sent any. */
  diagnostics?: RegistryDiagnostic[];
  /** The underlying error. */
  cause?: unknown;
  /** Seconds the server asked to wait (`Retry-After`), if it said. */
  retryAfterSeconds?: number;
}

const TEMPORARY_CODES: ReadonlySet<RegistryErrorCode> = new Set([
  "TOOMANYREQUESTS",
  "NETWORK",
  "TIMEOUT",
]);

const TEMPORARY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The error regkit throws for everything that is not API misuse.
 *
 * @example Telling failures apart by code
 * ```ts
 * import { RegistryError } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * const error = new RegistryError("DENIED", 'Cannot read "quay.io/org/app:1"', { status: 403 });
 * assert.equal(error.code, "DENIED");
 * assert.equal(error.status, 403);
 * assert.equal(error.temporary, false);
 * ```
 */
export class RegistryError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: RegistryErrorCode;
  /** The HTTP status of the answer that caused the error, if any. */
  readonly status?: number;
  /** Parsed OCI error body entries (empty when the registry sent none). */
  readonly diagnostics: readonly RegistryDiagnostic[];
  /** Seconds the server asked to wait before retrying, if it said. */
  readonly retryAfterSeconds?: number;

  /**
   * Creates an error.
   *
   * @param code The stable code.
   * @param message What could not be done, then details after a colon. Never a secret.
   * @param options Status, diagnostics and cause.
   */
  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RegistryError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    this.diagnostics = options.diagnostics ?? [];
    if (options.retryAfterSeconds !== undefined) {
      this.retryAfterSeconds = options.retryAfterSeconds;
    }
  }

  /**
   * Whether trying again later may succeed: rate limits, network failures,
   * time-outs and 408/429/5xx answers.
   *
   * @example
   * ```ts
   * import { RegistryError } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * assert.equal(new RegistryError("NETWORK", "Cannot connect").temporary, true);
   * ```
   */
  get temporary(): boolean {
    if (TEMPORARY_CODES.has(this.code)) return true;
    return this.status !== undefined && TEMPORARY_STATUSES.has(this.status);
  }
}

/**
 * Whether `value` is a {@linkcode RegistryError}, optionally with one of `codes`.
 *
 * @example
 * ```ts
 * import { isRegistryError, RegistryError } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const error: unknown = new RegistryError("DENIED", "Cannot read");
 * assert.ok(isRegistryError(error, "DENIED", "UNAUTHORIZED"));
 * assert.ok(!isRegistryError(new Error("x")));
 * ```
 * @param value Anything caught.
 * @param codes Codes to accept; none means any code.
 * @returns `true` when `value` is a matching `RegistryError`.
 */
export function isRegistryError(
  value: unknown,
  ...codes: RegistryErrorCode[]
): value is RegistryError {
  return value instanceof RegistryError && (codes.length === 0 || codes.includes(value.code));
}

/**
 * Quotes a value for an error message, as the standard library does.
 *
 * @param value The value to quote.
 * @returns The value JSON-quoted.
 */
export function quote(value: string): string {
  return JSON.stringify(value);
}
