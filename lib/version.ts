/**
 * The package version, read from `deno.json` in one place: the CLI's
 * `--version` and the client's default `User-Agent` both use it.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/**
 * The version of this package, as `deno.json` (and so JSR) states it.
 *
 * @example
 * ```ts
 * import { VERSION } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = config.version;
