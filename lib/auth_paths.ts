/**
 * Where podman and docker keep auth files, per OS: the search order of
 * containers-auth.json(5) and docker's `config.Dir()`, with `${VAR}` patterns
 * expanded only through variables the process may read.
 *
 * Nothing here reads environment variables on its own unless asked to
 * ({@linkcode permittedEnv}): `env` is passed in, so every function is
 * testable with fixtures.
 *
 * @module
 */

import { join as posixJoin } from "@std/path/posix/join";
import { SEPARATOR as POSIX_SEPARATOR } from "@std/path/posix/constants";
import { join as windowsJoin } from "@std/path/windows/join";
import { SEPARATOR as WINDOWS_SEPARATOR } from "@std/path/windows/constants";

/**
 * Reads an environment variable. `undefined` means unset, empty or not
 * permitted; a function may also throw (e.g. `Deno.errors.NotCapable`), which
 * counts as "not permitted".
 */
export type EnvReader = (name: string) => string | undefined;

/**
 * The auth files regkit searches, in order, as `${VAR}` patterns
 * (containers-auth.json(5), then docker). An explicit `authFile` option comes
 * before all of them and is then the only file read.
 *
 * 1. `${REGISTRY_AUTH_FILE}`: when set, the only file read.
 * 2. `${XDG_RUNTIME_DIR}/containers/auth.json`
 * 3. `${XDG_CONFIG_HOME}/containers/auth.json`, used when `XDG_CONFIG_HOME` is
 *    set and permitted; otherwise
 * 4. `${HOME}/.config/containers/auth.json`
 * 5. `${DOCKER_CONFIG}/config.json`, used when `DOCKER_CONFIG` is set and
 *    permitted; otherwise
 * 6. `${HOME}/.docker/config.json`
 * 7. `${HOME}/.dockercfg`: legacy format, registries at the top level.
 *
 * A pattern whose variable is unset, empty or not permitted
 * (`--allow-env`) is skipped; regkit never prompts for a permission.
 *
 * This is the Linux order. Elsewhere podman's primary file (2) is
 * `${HOME}/.config/containers/auth.json`, as containers-auth.json(5) says, and
 * on Windows `${USERPROFILE}` takes the place of `${HOME}` (docker's
 * `%USERPROFILE%\.docker\config.json`); `explainCredentials()` lists the
 * candidates of the OS it runs on (or of its `os` option).
 *
 * @example The search order
 * ```ts
 * import { AUTH_FILES } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.equal(AUTH_FILES[0], "${REGISTRY_AUTH_FILE}");
 * assert.equal(AUTH_FILES.at(-1), "${HOME}/.dockercfg");
 * ```
 */
export const AUTH_FILES: readonly string[] = Object.freeze([
  "${REGISTRY_AUTH_FILE}",
  "${XDG_RUNTIME_DIR}/containers/auth.json",
  "${XDG_CONFIG_HOME}/containers/auth.json",
  "${HOME}/.config/containers/auth.json",
  "${DOCKER_CONFIG}/config.json",
  "${HOME}/.docker/config.json",
  "${HOME}/.dockercfg",
]);

/** One entry of the search order: a variable, and path segments joined to its value. */
interface CandidateSpec {
  /** The variable the path starts with (its value is the whole path when there are no segments). */
  variable: string;
  /** Path segments joined to the variable's value with the OS's separator. */
  segments: readonly string[];
  /** The variable of the candidate this one stands in for: used only when that one is skipped. */
  fallbackOf?: string;
  /** Whether the file uses the legacy `.dockercfg` format. */
  legacy?: boolean;
}

const OPERATING_SYSTEMS: ReadonlySet<string> = new Set([
  "darwin",
  "linux",
  "android",
  "windows",
  "freebsd",
  "netbsd",
  "aix",
  "solaris",
  "illumos",
]);

/**
 * The search order for an OS, as containers/image (`getAuthFilePaths`,
 * containers-auth.json(5)) and docker (`config.Dir()`) have it: podman's
 * primary file is `${XDG_RUNTIME_DIR}/containers/auth.json` on Linux only,
 * `$HOME/.config/containers/auth.json` elsewhere; the home directory is
 * `%USERPROFILE%` on Windows (containers/storage `homedir.Get()`, Go's
 * `os.UserHomeDir()`), `$HOME` elsewhere.
 */
function candidateSpecs(os: string): CandidateSpec[] {
  const home = os === "windows" ? "USERPROFILE" : "HOME";
  const containersAuth = ["containers", "auth.json"];
  const primary: CandidateSpec = os === "linux"
    ? { variable: "XDG_RUNTIME_DIR", segments: containersAuth }
    : { variable: home, segments: [".config", ...containersAuth] };
  return [
    { variable: "REGISTRY_AUTH_FILE", segments: [] },
    primary,
    { variable: "XDG_CONFIG_HOME", segments: containersAuth },
    { variable: home, segments: [".config", ...containersAuth], fallbackOf: "XDG_CONFIG_HOME" },
    { variable: "DOCKER_CONFIG", segments: ["config.json"] },
    { variable: home, segments: [".docker", "config.json"], fallbackOf: "DOCKER_CONFIG" },
    { variable: home, segments: [".dockercfg"], legacy: true },
  ];
}

function patternOf(spec: CandidateSpec, os: string): string {
  const separator = os === "windows" ? WINDOWS_SEPARATOR : POSIX_SEPARATOR;
  return [`\${${spec.variable}}`, ...spec.segments].join(separator);
}

function joinFor(os: string): (...parts: string[]) => string {
  return os === "windows" ? windowsJoin : posixJoin;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** The outcome of reading one variable: its value, or why it cannot be used. */
type VariableState = { value: string } | { reason: string };

function readVariable(name: string, env: EnvReader, defaultEnv: boolean): VariableState {
  let value: string | undefined;
  try {
    value = env(name);
  } catch {
    return { reason: `$${name} is not permitted (--allow-env)` };
  }
  if (value !== undefined && value !== "") return { value };
  if (defaultEnv && !envPermitted(name)) {
    return { reason: `$${name} is not permitted (--allow-env)` };
  }
  return { reason: `$${name} is unset or empty` };
}

function envPermitted(name: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The default {@linkcode EnvReader}: `Deno.env.get` for variables whose `env`
 * permission is already granted, `undefined` for the others. It never prompts
 * and never throws.
 *
 * @example
 * ```ts
 * import { permittedEnv } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const home = permittedEnv("HOME");
 * assert.ok(home === undefined || typeof home === "string");
 * ```
 * @param name The variable name.
 * @returns The value, or `undefined` when unset or not permitted.
 */
export function permittedEnv(name: string): string | undefined {
  if (!envPermitted(name)) return undefined;
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function expandWithReason(
  pattern: string,
  env: EnvReader,
  defaultEnv: boolean,
): { path: string } | { reason: string } {
  let reason: string | undefined;
  const path = pattern.replace(VARIABLE, (_match, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    if (reason !== undefined) return "";
    const state = readVariable(name, env, defaultEnv);
    if ("reason" in state) {
      reason = state.reason;
      return "";
    }
    return state.value;
  });
  return reason === undefined ? { path } : { reason };
}

/**
 * Expands `${VAR}` and `$VAR` in an auth-file path pattern.
 *
 * @example
 * ```ts
 * import { expandPath } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const env = (name: string) => name === "HOME" ? "/home/me" : undefined;
 * assert.equal(expandPath("${HOME}/.docker/config.json", env), "/home/me/.docker/config.json");
 * assert.equal(expandPath("$DOCKER_CONFIG/config.json", env), undefined);
 * ```
 * @param pattern The pattern, e.g. `${HOME}/.docker/config.json`.
 * @param env Reads a variable; `undefined` or a thrown error means it cannot be used.
 * @returns The path, or `undefined` when a variable is unset, empty or not
 *   permitted, meaning the candidate is skipped.
 */
export function expandPath(pattern: string, env: EnvReader): string | undefined {
  const result = expandWithReason(pattern, env, env === permittedEnv);
  return "path" in result ? result.path : undefined;
}

/** Options for {@linkcode candidateAuthFiles} and {@linkcode defaultLoginAuthFile}. */
export interface AuthFileOptions {
  /**
   * An explicit auth file (`--authfile`), used literally. When given, it is
   * the only file read.
   */
  authFile?: string | undefined;
  /**
   * Reads environment variables.
   *
   * @default {permittedEnv}
   */
  env?: EnvReader | undefined;
  /**
   * The operating system whose search order applies: podman's primary file
   * is `${XDG_RUNTIME_DIR}/containers/auth.json` on `linux` and
   * `$HOME/.config/containers/auth.json` elsewhere; on `windows` the home
   * directory is `%USERPROFILE%` and paths are joined with `\`.
   *
   * @default {Deno.build.os}
   */
  os?: typeof Deno.build.os | undefined;
}

/** One auth file candidate, as {@linkcode candidateAuthFiles} lists it. */
export interface AuthFileCandidate {
  /** The pattern from {@linkcode AUTH_FILES}, or the explicit path. */
  pattern: string;
  /** The expanded path, unless the candidate is skipped. */
  path?: string;
  /** Why the candidate is skipped (never a variable's value). */
  skipped?: string;
  /** Whether the file uses the legacy `.dockercfg` format. */
  legacy?: boolean;
  /**
   * What named the file explicitly (the `authFile` option or
   * `$REGISTRY_AUTH_FILE`): such a file must be readable, never skipped.
   */
  explicit?: "authFile" | "REGISTRY_AUTH_FILE";
}

/**
 * Lists the auth files to search, in order, with expanded paths or the reason
 * each one is skipped.
 *
 * @example The same list, as explainCredentials reports it
 * ```ts
 * import { explainCredentials } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const explanation = await explainCredentials("alpine", {
 *   env: (name) => name === "HOME" ? "/home/me" : undefined,
 *   os: "linux",
 *   readTextFile: () => Promise.reject(new Deno.errors.NotFound()),
 * });
 * assert.deepEqual(explanation.skipped.map((s) => s.candidate), [
 *   "${REGISTRY_AUTH_FILE}",
 *   "${XDG_RUNTIME_DIR}/containers/auth.json",
 *   "${XDG_CONFIG_HOME}/containers/auth.json",
 *   "/home/me/.config/containers/auth.json",
 *   "${DOCKER_CONFIG}/config.json",
 *   "/home/me/.docker/config.json",
 *   "/home/me/.dockercfg",
 * ]);
 * ```
 * @param options The explicit auth file, the environment and the OS.
 * @returns Every candidate, skipped ones included.
 * @throws {TypeError} When `authFile` is empty or `os` is not an OS name.
 */
export function candidateAuthFiles(options: AuthFileOptions = {}): AuthFileCandidate[] {
  const { authFile, env = permittedEnv, os = Deno.build.os } = options;
  if (typeof os !== "string" || !OPERATING_SYSTEMS.has(os)) {
    throw new TypeError(`Cannot use option "os": expected an OS as Deno.build.os names it`);
  }
  if (authFile !== undefined) {
    if (typeof authFile !== "string" || authFile === "") {
      throw new TypeError(`Cannot use option "authFile": expected a non-empty path`);
    }
    return [{ pattern: authFile, path: authFile, explicit: "authFile" }];
  }
  const defaultEnv = env === permittedEnv;
  const join = joinFor(os);
  const candidates: AuthFileCandidate[] = [];
  const used = new Set<string>();
  let previousExpanded = false;
  for (const spec of candidateSpecs(os)) {
    const pattern = patternOf(spec, os);
    if (spec.fallbackOf !== undefined && previousExpanded) {
      previousExpanded = false;
      candidates.push({ pattern, skipped: `used only when $${spec.fallbackOf} is unset` });
      continue;
    }
    const state = readVariable(spec.variable, env, defaultEnv);
    previousExpanded = "value" in state;
    const candidate: AuthFileCandidate = { pattern };
    if (spec.legacy) candidate.legacy = true;
    if ("reason" in state) {
      candidate.skipped = state.reason;
    } else {
      const path = spec.segments.length === 0 ? state.value : join(state.value, ...spec.segments);
      if (used.has(path)) {
        candidate.skipped = "same file as an earlier candidate";
      } else {
        candidate.path = path;
        used.add(path);
      }
    }
    candidates.push(candidate);
    if (spec.variable === "REGISTRY_AUTH_FILE" && candidate.path !== undefined) {
      candidate.explicit = "REGISTRY_AUTH_FILE";
      return candidates;
    }
  }
  return candidates;
}

/**
 * The file `login` writes to, as podman chooses it: `--authfile`, else
 * `$REGISTRY_AUTH_FILE`, else `${XDG_RUNTIME_DIR}/containers/auth.json` (on
 * Linux; `$HOME/.config/containers/auth.json` elsewhere, `%USERPROFILE%` on
 * Windows), else `${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json`.
 *
 * @example
 * ```ts
 * import { defaultLoginAuthFile } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const env = (name: string) => name === "HOME" ? "/home/me" : undefined;
 * assert.equal(
 *   defaultLoginAuthFile({ env, os: "linux" }),
 *   "/home/me/.config/containers/auth.json",
 * );
 * ```
 * @param options The explicit auth file, the environment and the OS.
 * @returns The path, or `undefined` when no variable it needs can be used.
 */
export function defaultLoginAuthFile(options: AuthFileOptions = {}): string | undefined {
  const candidates = candidateAuthFiles(options);
  return candidates.find((c) => c.path !== undefined && !c.pattern.includes("docker"))?.path;
}
