/**
 * Log records. The library never prints: records at or above the configured
 * level go to an `onLog` handler (the CLI writes them to stderr).
 *
 * @module
 */

/** Severity of a log record, as in Python's `logging` (the seed's `log_level`). */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** Every level, most verbose first. */
export const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR"];

/** One log record. Messages never contain secrets. */
export interface LogRecord {
  /** The severity. */
  level: LogLevel;
  /** The message, already redacted. */
  message: string;
}

/** Receives log records. */
export type LogHandler = (record: LogRecord) => void;

/**
 * Validates a log level name (case-insensitive; `WARN` means `WARNING`).
 *
 * @example
 * ```ts
 * import { parseLogLevel } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(parseLogLevel("debug"), "DEBUG");
 * ```
 * @param value The name.
 * @returns The level.
 * @throws {RangeError} When `value` names no level.
 */
export function parseLogLevel(value: string): LogLevel {
  const upper = String(value).toUpperCase();
  const level = upper === "WARN" ? "WARNING" : upper;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new RangeError(
      `Cannot use log level ${JSON.stringify(value)}: expected one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  return level as LogLevel;
}

/**
 * Filters records by level and hands them to a handler.
 *
 * @example
 * ```ts
 * import { Logger, type LogRecord } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const records: LogRecord[] = [];
 * const logger = new Logger("INFO", (r) => records.push(r));
 * logger.debug("dropped");
 * logger.warn("kept");
 * assert.deepEqual(records, [{ level: "WARNING", message: "kept" }]);
 * ```
 */
export class Logger {
  readonly #threshold: number;
  readonly #handler: LogHandler | undefined;

  /**
   * Creates a logger.
   *
   * @param level The least severe level to pass on.
   * @param handler Where records go; none means nowhere.
   */
  constructor(level: LogLevel = "INFO", handler?: LogHandler) {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#handler = handler;
  }

  /**
   * Whether records of `level` are passed on (use to skip building costly messages).
   *
   * @param level The level.
   * @returns `true` when a handler exists and `level` is at or above the threshold.
   */
  enabled(level: LogLevel): boolean {
    return this.#handler !== undefined && LOG_LEVELS.indexOf(level) >= this.#threshold;
  }

  /**
   * Passes on a record if its level is enabled.
   *
   * @param level The level.
   * @param message The message, never a secret.
   */
  log(level: LogLevel, message: string): void {
    if (this.enabled(level)) this.#handler!({ level, message });
  }

  /**
   * Logs at DEBUG.
   *
   * @param message The message, never a secret.
   */
  debug(message: string): void {
    this.log("DEBUG", message);
  }

  /**
   * Logs at INFO.
   *
   * @param message The message, never a secret.
   */
  info(message: string): void {
    this.log("INFO", message);
  }

  /**
   * Logs at WARNING.
   *
   * @param message The message, never a secret.
   */
  warn(message: string): void {
    this.log("WARNING", message);
  }

  /**
   * Logs at ERROR.
   *
   * @param message The message, never a secret.
   */
  error(message: string): void {
    this.log("ERROR", message);
  }
}
