/**
 * The exit-code table: the one place outcomes and error codes become exit
 * codes. It is typed over every `RegistryErrorCode`, so a new library code
 * does not compile until it is classified here (and in the README's table,
 * which a test compares with this one).
 *
 * @module
 */

import type { RegistryErrorCode } from "../../mod.ts";

/** Codes the CLI adds to the library's `RegistryErrorCode`s. */
export type CliCode = "USAGE" | "INTERNAL";

/** Every code a `regkit: <message> (<CODE>)` line can end with. */
export type ErrorCode = CliCode | RegistryErrorCode;

/** What a command ended with: an outcome, or an error code. */
export type Outcome = "ok" | "absent" | "unknown" | ErrorCode;

/** The documented exit codes (module doc of cli.ts and the README). */
export type ExitCode = 0 | 1 | 2 | 3;

/** Exit status when stdout is closed early, as for a process killed by SIGPIPE (128 + 13). */
export const EXIT_BROKEN_PIPE = 141;

/**
 * The exit code of a command that failed with each code: 1 a missing image,
 * repository or login; 2 a usage or configuration error; 3 undetermined.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, 1 | 2 | 3>> = {
  USAGE: 2,
  INTERNAL: 3,
  // distribution-spec codes
  BLOB_UNKNOWN: 3,
  MANIFEST_UNKNOWN: 1,
  MANIFEST_INVALID: 3,
  NAME_UNKNOWN: 1,
  NAME_INVALID: 3,
  TAG_INVALID: 3,
  UNAUTHORIZED: 3,
  DENIED: 3,
  UNSUPPORTED: 3,
  TOOMANYREQUESTS: 3,
  // client-side codes
  INVALID_REFERENCE: 2,
  INVALID_PLATFORM: 2,
  AUTH_NOT_FOUND: 1,
  AUTH_FILE_INVALID: 2,
  CREDENTIAL_HELPER_FAILED: 3,
  TOKEN_EXCHANGE_FAILED: 3,
  REALM_REJECTED: 3,
  INSECURE_REGISTRY: 2,
  TLS_UNTRUSTED: 2,
  DIGEST_MISMATCH: 3,
  PLATFORM_NOT_FOUND: 1,
  INVALID_RESPONSE: 3,
  RESPONSE_TOO_LARGE: 3,
  INVALID_CONFIG: 2,
  NETWORK: 3,
  TIMEOUT: 3,
  ABORTED: 3,
  UNEXPECTED_STATUS: 3,
};

/**
 * Codes that exit 2 for a single-reference command but describe one input
 * only: as an `exists` answer they are undetermined (3) and the other
 * references still run.
 */
const PER_INPUT_CODES: ReadonlySet<ErrorCode> = new Set(["INVALID_REFERENCE", "INVALID_PLATFORM"]);

/**
 * The exit code of an outcome or error code.
 *
 * @param outcome What the command ended with.
 * @returns 0 ok, 1 absent or missing, 2 usage or configuration, 3 undetermined.
 */
export function exitCodeFor(outcome: Outcome): ExitCode {
  if (outcome === "ok") return 0;
  if (outcome === "absent") return 1;
  if (outcome === "unknown") return 3;
  return EXIT_CODES[outcome];
}

/**
 * What an `exists` answer that is `unknown` with `code` makes of the exit
 * code: 2 when the cause is configuration (it would fail every reference
 * alike), else 3.
 *
 * @param code The answer's code.
 * @returns 2 or 3.
 */
export function unknownAnswerExitCode(code: ErrorCode): 2 | 3 {
  return EXIT_CODES[code] === 2 && !PER_INPUT_CODES.has(code) ? 2 : 3;
}

/**
 * What a command's exit codes mean, for its help. The codes listed for 2 and 3
 * are taken from {@linkcode EXIT_CODES}, so a command's help lists every code
 * it can end with.
 */
export interface ExitHelp {
  /** What 0 means, e.g. `found`. */
  readonly ok: string;
  /** What 1 means, when the command can exit 1. */
  readonly missing?: string;
  /** The codes that end the command with 1 (each exits 1 in the table). */
  readonly missingCodes?: readonly ErrorCode[];
  /** What 2 means beyond a usage or configuration error. */
  readonly configuration?: string;
  /** What 3 means. @default "undetermined" */
  readonly undetermined?: string;
  /**
   * For a command that contacts no registry: the only codes (besides `USAGE`
   * and `INTERNAL`) it can end with. Otherwise every code exiting 2 or 3 can.
   */
  readonly only?: readonly ErrorCode[];
}

/** A failure the CLI reports as `regkit: <message> (<code>)`. */
export class CliError extends Error {
  /** The code at the end of the line, which also gives the exit code. */
  readonly code: ErrorCode;

  /**
   * @param code The code.
   * @param message What could not be done, then details after a colon.
   */
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "CliError";
    this.code = code;
  }
}

/**
 * A usage error (exit 2).
 *
 * @param message What is wrong with the invocation, and where to read more.
 * @returns The error, to throw.
 */
export function usage(message: string): CliError {
  return new CliError("USAGE", message);
}
