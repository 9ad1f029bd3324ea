/**
 * The one error type regkit throws for registry and configuration failures,
 * the one mapping from a registry's (or token realm's) non-2xx answer to it,
 * and the one definition of which failures are temporary.
 *
 * API misuse (a negative retry count, a username without a password) stays a
 * `TypeError` or `RangeError`, as in the standard library.
 *
 * @module
 */

import { parseRetryAfter } from "./retry_after.ts";
import { snippet } from "./_redact.ts";

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

/**
 * HTTP statuses worth trying again: 408, 429 and the temporary 5xx answers.
 * The retry loop and {@linkcode RegistryError.prototype.temporary} both read it.
 */
export const TEMPORARY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

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

/** The parts of an HTTP answer the status mapper reads. */
export interface StatusAnswer {
  /** The HTTP status. */
  status: number;
  /** The response headers (`Retry-After` is read). */
  headers: Headers;
  /** The (bounded) body; an OCI error body is parsed into diagnostics. */
  body: Uint8Array;
  /**
   * Which credentials the request tried (see `describeCredentials`): a 401 or
   * 403 message ends with it, so "none found" and "refused" read differently.
   */
  tried?: string;
}

/**
 * What was asked for, which decides the code of a 404 and whether the body's
 * distribution-spec code counts: `manifest`, `blob`, `tags`, `api` (the `/v2/`
 * endpoint itself) or `token` (a token realm).
 */
export type StatusContext = "manifest" | "blob" | "tags" | "api" | "token";

/** Where a non-2xx answer came from, for {@linkcode statusError}. */
export interface StatusErrorContext {
  /** What could not be done, as in `Cannot <action> "<what>"`, e.g. `check`. */
  action: string;
  /** What the request was for, e.g. the reference as given. Never a secret. */
  what: string;
  /**
   * What was asked for.
   * @default {"manifest"}
   */
  context?: StatusContext;
  /**
   * Who answered, for the message.
   * @default {"registry"}
   */
  from?: string;
}

/** Codes an OCI error body may name that keep their meaning whatever the status. */
const BODY_CODES: ReadonlySet<string> = new Set([
  "NAME_INVALID",
  "TAG_INVALID",
  "MANIFEST_INVALID",
  "UNSUPPORTED",
]);
const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  "MANIFEST_UNKNOWN",
  "NAME_UNKNOWN",
  "BLOB_UNKNOWN",
]);
const NOT_FOUND: Record<StatusContext, RegistryErrorCode> = {
  manifest: "MANIFEST_UNKNOWN",
  blob: "BLOB_UNKNOWN",
  tags: "NAME_UNKNOWN",
  api: "UNEXPECTED_STATUS",
  token: "TOKEN_EXCHANGE_FAILED",
};

/**
 * Parses an OCI error body (`{"errors":[{"code","message","detail"}]}`); anything
 * else gives no diagnostics. Messages are shortened to one line.
 *
 * @param body The body bytes.
 * @returns Up to 20 entries that have a string `code`.
 */
export function parseDiagnostics(body: Uint8Array): RegistryDiagnostic[] {
  const parsed = parseJson(body);
  if (!Array.isArray(parsed?.errors)) return [];
  return (parsed.errors as unknown[])
    .filter((e): e is { code: string; message?: unknown; detail?: unknown } =>
      typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
    )
    .slice(0, 20)
    .map((e) => {
      const d: RegistryDiagnostic = { code: e.code };
      if (typeof e.message === "string") d.message = snippet(e.message, 300);
      if (e.detail !== undefined) d.detail = e.detail;
      return d;
    });
}

function parseJson(body: Uint8Array): Record<string, unknown> | undefined {
  if (body.byteLength === 0) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body));
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The text of an OAuth2-style or ad-hoc JSON error body (token realms send these). */
function textDetail(body: Uint8Array): string | undefined {
  const parsed = parseJson(body);
  const first = Array.isArray(parsed?.errors) ? parsed.errors[0] : parsed;
  const text = first?.message ?? first?.error_description ?? first?.details ?? first?.error;
  return typeof text === "string" && text !== "" ? snippet(text, 120) : undefined;
}

/**
 * Maps a non-2xx answer to a typed error: the one place that decides codes
 * from statuses, for manifest, blob and tag requests, the `/v2/` endpoint and
 * token realms alike. 401 is `UNAUTHORIZED`, 403 `DENIED`, 429
 * `TOOMANYREQUESTS`; a 404 is the body's `*_UNKNOWN` code or the context's
 * (`MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `NAME_UNKNOWN`); a registry's
 * `NAME_INVALID`, `TAG_INVALID`, `MANIFEST_INVALID` or `UNSUPPORTED` body code
 * is kept; everything else is `UNEXPECTED_STATUS` (`TOKEN_EXCHANGE_FAILED`
 * from a token realm). `Retry-After` (seconds or a date) becomes
 * `retryAfterSeconds`.
 *
 * @param answer The answer's status, headers and body.
 * @param context What was asked and who answered, for the code and the message.
 * @returns The error (not thrown).
 */
export function statusError(answer: StatusAnswer, context: StatusErrorContext): RegistryError {
  const { status } = answer;
  const { action, what, context: asked = "manifest", from = "registry" } = context;
  const diagnostics = parseDiagnostics(answer.body);
  const first = diagnostics[0];
  const registry = asked !== "token";
  const code: RegistryErrorCode = status === 401
    ? "UNAUTHORIZED"
    : status === 403
    ? "DENIED"
    : status === 429
    ? "TOOMANYREQUESTS"
    : status === 404
    ? (registry && first !== undefined && NOT_FOUND_CODES.has(first.code)
      ? first.code as RegistryErrorCode
      : NOT_FOUND[asked])
    : registry && first !== undefined && BODY_CODES.has(first.code)
    ? first.code as RegistryErrorCode
    : registry
    ? "UNEXPECTED_STATUS"
    : "TOKEN_EXCHANGE_FAILED";
  const text = first === undefined ? textDetail(answer.body) : undefined;
  const detail = first !== undefined
    ? ` ${first.code}${first.message ? `: ${first.message}` : ""}`
    : text !== undefined
    ? `: ${text}`
    : "";
  const retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"));
  const retryAfterSeconds = retryAfterMs === undefined ? 0 : Math.ceil(retryAfterMs / 1000);
  return new RegistryError(
    code,
    `Cannot ${action} ${quote(what)}: ${from} answered ${status}${detail}${
      (status === 401 || status === 403) && answer.tried !== undefined
        ? `; tried ${answer.tried}`
        : ""
    }`,
    {
      status,
      diagnostics,
      ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    },
  );
}
