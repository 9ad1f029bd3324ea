/**
 * The `Retry-After` header grammar (RFC 9110 §10.2.3): delay seconds or an
 * HTTP date. Pure; shared by the status mapper and the retry loop.
 *
 * @module
 */

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
