/**
 * Image platforms (`os/arch[/variant]`): parsing, the `arm64` ↔ `v8`
 * normalisation, matching an index entry, formatting, and the host's
 * platform. Pure values.
 *
 * @module
 */

import { quote, RegistryError } from "./errors.ts";

/** An image platform, e.g. `linux/arm64/v8`. */
export interface Platform {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** CPU architecture, e.g. `amd64`. */
  architecture: string;
  /** CPU variant, e.g. `v8`. */
  variant?: string;
}

/**
 * Parses `os/arch[/variant]`.
 *
 * @example
 * ```ts
 * import { parsePlatform } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64", variant: "v8" });
 * ```
 * @param value The platform.
 * @returns The parts.
 * @throws {RegistryError} `INVALID_PLATFORM` for anything else.
 */
export function parsePlatform(value: string): Platform {
  const parts = String(value).split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    throw new RegistryError(
      "INVALID_PLATFORM",
      `Cannot use platform ${quote(String(value))}: expected os/arch[/variant], e.g. linux/amd64`,
    );
  }
  const [os, architecture, variant] = parts;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * The variant a platform description means: its own, or `v8` for an `arm64`
 * that names none (the OCI image index spec's normalisation).
 *
 * @param platform A platform, or an index entry's `platform` object as served.
 * @returns The variant, or `undefined` when none is named or implied.
 */
export function effectiveVariant(platform: Record<string, unknown>): string | undefined {
  if (typeof platform.variant === "string") return platform.variant;
  return platform.architecture === "arm64" ? "v8" : undefined;
}

/**
 * Whether an index entry's platform satisfies a wanted one: same OS and
 * architecture, and, when a variant is wanted, the same variant (`arm64`
 * without one counts as `v8`).
 *
 * @param want The platform asked for.
 * @param have The entry's `platform` object as served (anything).
 * @returns `true` on a match.
 */
export function platformMatches(want: Platform, have: unknown): boolean {
  if (typeof have !== "object" || have === null) return false;
  const entry = have as Record<string, unknown>;
  if (entry.os !== want.os || entry.architecture !== want.architecture) return false;
  return want.variant === undefined || effectiveVariant(entry) === want.variant;
}

/**
 * Formats a platform (or an index entry's `platform` object) as `os/arch[/variant]`.
 *
 * @param platform The platform; anything that is not an object is `unknown`.
 * @returns The text, e.g. `linux/arm64/v8`.
 */
export function formatPlatform(platform: unknown): string {
  if (typeof platform !== "object" || platform === null) return "unknown";
  const p = platform as Record<string, unknown>;
  return [p.os, p.architecture, p.variant].filter((x) => typeof x === "string").join("/");
}

/**
 * The platform images are resolved to when none is asked for: Linux on the
 * host's CPU (`aarch64` is `arm64`, anything else `amd64`).
 *
 * @param arch The CPU, as `Deno.build.arch` names it.
 * @returns The platform.
 */
export function hostPlatform(arch: string = Deno.build.arch): Platform {
  return { os: "linux", architecture: arch === "aarch64" ? "arm64" : "amd64" };
}
