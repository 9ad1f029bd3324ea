/**
 * Retry policy: which failures are temporary, exponential backoff with full
 * jitter, and `Retry-After`.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";

/** HTTP statuses worth retrying: 408, 429 and the temporary 5xx answers. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** How a request is retried. Every field is optional. */
export interface RetryOptions {
  /**
   * Retries after the first attempt (so `retries + 1` attempts at most).
   * @default {5}
   */
  retries?: number;
  /**
   * First backoff step in milliseconds; step `n` is `base * 2^n`, capped.
   * @default {100}
   */
  baseDelayMs?: number;
  /**
   * Largest backoff step in milliseconds.
   * @default {5000}
   */
  maxDelayMs?: number;
  /**
   * Largest `Retry-After` honoured, in milliseconds; a longer wait gives up.
   * @default {30000}
   */
  maxRetryAfterMs?: number;
  /**
   * Random source in [0, 1), for full jitter.
   * @default {Math.random}
   */
  random?: () => number;
}

/** Retry settings with defaults applied. */
export type RetryPolicy = Required<RetryOptions>;

/**
 * Validates retry options and fills in defaults.
 *
 * @param options The options.
 * @returns The complete policy.
 * @throws {RangeError} When a number is negative or not finite.
 */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const {
    retries = 5,
    baseDelayMs = 100,
    maxDelayMs = 5_000,
    maxRetryAfterMs = 30_000,
    random = Math.random,
  } = options;
  for (
    const [name, value] of Object.entries({ retries, baseDelayMs, maxDelayMs, maxRetryAfterMs })
  ) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`Cannot use retry option "${name}": ${value} is not a number >= 0`);
    }
  }
  if (!Number.isInteger(retries)) {
    throw new RangeError(`Cannot use retry option "retries": ${retries} is not an integer`);
  }
  return { retries, baseDelayMs, maxDelayMs, maxRetryAfterMs, random };
}

/**
 * Parses a `Retry-After` value: delay seconds or an HTTP date.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(parseRetryAfter("2"), 2000);
 * assert.equal(parseRetryAfter("soon"), undefined);
 * ```
 * @param value The header value.
 * @param now The current time in milliseconds since the epoch.
 * @returns The delay in milliseconds (0 for a past date), or `undefined` when unparsable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-zA-Z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt` (0-based): full jitter over an
 * exponentially growing, capped window, or the server's `Retry-After`.
 *
 * @param attempt How many retries were made before this one.
 * @param policy The policy.
 * @param retryAfterMs The server's requested delay, if any.
 * @returns Milliseconds to wait, or `undefined` when `Retry-After` exceeds the cap (give up).
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
): number | undefined {
  if (retryAfterMs !== undefined) {
    return retryAfterMs > policy.maxRetryAfterMs ? undefined : retryAfterMs;
  }
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(policy.random() * window);
}

/**
 * Waits `ms` milliseconds unless `signal` aborts first.
 *
 * @param ms How long to wait.
 * @param signal Aborts the wait.
 * @returns Resolves after the wait.
 * @throws {RegistryError} `ABORTED` when `signal` aborts.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new RegistryError("ABORTED", "Cannot continue: the operation was aborted"));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RegistryError("ABORTED", "Cannot continue: the operation was aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
