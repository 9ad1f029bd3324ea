/**
 * Retry policy: exponential backoff with full jitter, or the server's
 * `Retry-After`. Which failures are temporary is decided in `errors.ts`.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";

/** The longest delay a timer can wait (2^31 - 1 ms, about 24.8 days); more fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

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
 * @throws {RangeError} When a number is negative, not finite, or a delay longer
 *   than a timer can wait.
 * @throws {TypeError} When `random` is not a function.
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
  for (const [name, value] of Object.entries({ baseDelayMs, maxDelayMs, maxRetryAfterMs })) {
    if (value > MAX_TIMER_MS) {
      throw new RangeError(
        `Cannot use retry option "${name}": ${value} is more than a timer can wait (${MAX_TIMER_MS} ms)`,
      );
    }
  }
  if (typeof random !== "function") {
    throw new TypeError(
      `Cannot use retry option "random": ${
        typeof random === "string" ? JSON.stringify(random) : String(random)
      } is not a function`,
    );
  }
  return { retries, baseDelayMs, maxDelayMs, maxRetryAfterMs, random };
}

/**
 * The wait before retry number `attempt` (0-based): full jitter over an
 * exponentially growing, capped window, or the server's `Retry-After`.
 *
 * @param attempt How many retries were made before this one.
 * @param policy The policy.
 * @param options `retryAfterMs`: the server's requested delay, if any.
 * @returns Milliseconds to wait, or `undefined` when `Retry-After` exceeds the cap (give up).
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  { retryAfterMs }: { retryAfterMs?: number | undefined } = {},
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
