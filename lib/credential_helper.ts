/**
 * Docker credential helpers: runs `docker-credential-<name> get` with the
 * server URL on stdin and maps its JSON answer. The helper's output is never
 * put in an error or a log line.
 *
 * @module
 */

import { DELIMITER } from "@std/path/constants";
import { join } from "@std/path/join";
import { quote, RegistryError } from "./errors.ts";
import { Logger } from "./log.ts";

/** A credential helper's answer. */
export interface HelperAnswer {
  /** The `Username` field; `<token>` means `secret` is an identity token. */
  username: string;
  /** The `Secret` field: a password or an identity token. */
  secret: string;
}

/** Options for {@linkcode runCredentialHelper}. */
export interface CredentialHelperOptions {
  /**
   * Milliseconds before a helper that has not answered is killed (SIGKILL),
   * with the processes it started (its process group; on Windows, or when
   * `--allow-run` is scoped to the helper, the helper alone).
   *
   * @default {10000}
   */
  timeoutMs?: number;
  /**
   * Receives DEBUG records (helper name, exit code; never its output).
   *
   * @default {new Logger()} (discards everything)
   */
  logger?: Logger;
  /**
   * A `PATH`-style list of directories to find `docker-credential-<name>` in
   * (`:`-separated; `;` on Windows). The first executable file found is run
   * by its absolute path; the helper's own environment is unchanged. Without
   * it, the command is resolved through the process's `PATH`.
   *
   * @default {undefined}
   */
  path?: string;
  /**
   * Whether to reuse the outcome of an earlier run of the same helper for the
   * same server URL in this process (its answer, "not found", or its
   * failure), as docker asks a helper once per run. Concurrent calls share
   * one run either way.
   *
   * @default {true}
   */
  cache?: boolean;
}

/** At most this many helper processes run at once, whatever the callers' concurrency. */
const MAX_CONCURRENT_HELPERS = 4;
let runningHelpers = 0;
const waitingForHelper: Array<() => void> = [];

async function helperSlot(): Promise<void> {
  if (runningHelpers < MAX_CONCURRENT_HELPERS) {
    runningHelpers++;
    return;
  }
  // A released slot is handed over directly: runningHelpers stays the same.
  await new Promise<void>((resolve) => waitingForHelper.push(resolve));
}

function releaseHelperSlot(): void {
  const next = waitingForHelper.shift();
  if (next === undefined) runningHelpers--;
  else next();
}

/** Outcomes by program and server URL, for the life of the process. */
const HELPER_RUNS = new Map<string, Promise<HelperAnswer | undefined>>();
const IN_FLIGHT = new Map<string, Promise<HelperAnswer | undefined>>();

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_ANSWER_BYTES = 1 << 20;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function failed(command: string, detail: string, cause?: unknown): RegistryError {
  return new RegistryError(
    "CREDENTIAL_HELPER_FAILED",
    `Cannot get credentials from credential helper ${quote(command)}: ${detail}`,
    cause === undefined ? {} : { cause },
  );
}

/** Names a helper may have on disk: on Windows, docker's helpers are `.exe` files. */
function executableNames(command: string): string[] {
  return Deno.build.os === "windows" ? [`${command}.exe`, command] : [command];
}

function findInPath(command: string, path: string): string | undefined {
  for (const dir of path.split(DELIMITER)) {
    if (dir === "") continue;
    for (const name of executableNames(command)) {
      const candidate = join(dir, name);
      try {
        const info = Deno.statSync(candidate);
        if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) return candidate;
      } catch {
        // not here (or not readable): keep looking
      }
    }
  }
  return undefined;
}

/**
 * Whether running `command` is already permitted (`--allow-run`). Never prompts.
 *
 * @param command The program name or path.
 * @returns `true` when the `run` permission is granted.
 */
function runPermitted(command: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command }).state === "granted";
  } catch {
    return false;
  }
}

interface Collector {
  /** Resolves with the bytes read (at most one byte past the limit). */
  bytes: Promise<Uint8Array>;
  /** Stops reading; `bytes` then resolves with what was read. */
  cancel: () => Promise<void>;
}

function collect(stream: ReadableStream<Uint8Array>): Collector {
  const reader = stream.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  const bytes = (async () => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      while (size <= MAX_ANSWER_BYTES) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
      }
    } catch {
      // a cancelled or broken pipe ends the answer
    }
    if (size > MAX_ANSWER_BYTES) await cancel();
    const all = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
  })();
  return { bytes, cancel };
}

/**
 * Asks `docker-credential-<helper>` for the credentials of `serverUrl`
 * (`get`, the URL on stdin), as docker does.
 *
 * The helper's answer is JSON `{"ServerURL","Username","Secret"}`. An answer
 * of "credentials not found" (a non-zero exit whose stdout or stderr says so)
 * means there are none. The command must already be permitted
 * (`--allow-run`); regkit never prompts.
 *
 * A helper is run once per server URL in a process: later calls reuse its
 * outcome (see `cache`), concurrent calls share the run, and at most 4
 * helper processes run at once.
 *
 * @example Asking a helper (defined, not run)
 * ```ts
 * import { runCredentialHelper } from "@regkit/regkit";
 * async function quayPassword(): Promise<string | undefined> {
 *   const answer = await runCredentialHelper("secretservice", "quay.io", { timeoutMs: 5000 });
 *   return answer?.secret;
 * }
 * ```
 * @param helper The helper name without the `docker-credential-` prefix, e.g. `osxkeychain`.
 * @param serverUrl What to ask for: the registry host, or `https://index.docker.io/v1/`.
 * @param options Time-out, logger and an explicit `PATH`.
 * @returns The answer, or `undefined` when the helper has no credentials.
 * @throws {RegistryError} `CREDENTIAL_HELPER_FAILED` naming the helper (never
 *   its output) when it is missing, not permitted, fails, answers something
 *   that is not the expected JSON, or does not answer within `timeoutMs`.
 * @throws {RangeError} When `timeoutMs` is not a positive number.
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: CredentialHelperOptions = {},
): Promise<HelperAnswer | undefined> {
  const { timeoutMs = 10_000, logger = new Logger(), path, cache = true } = options;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(
      `Cannot use option "timeoutMs": expected a positive number, got ${String(timeoutMs)}`,
    );
  }
  const command = `docker-credential-${helper}`;
  if (typeof helper !== "string" || !HELPER_NAME.test(helper)) {
    throw failed(command, "the helper name is not valid");
  }
  let program = command;
  if (path !== undefined) {
    const found = findInPath(command, path);
    if (found === undefined) throw failed(command, "not found in the given PATH");
    program = found;
  }
  if (!runPermitted(program)) {
    throw failed(command, "the run permission is not granted (--allow-run)");
  }

  const key = `${program}\n${serverUrl}`;
  const earlier = (cache ? HELPER_RUNS : IN_FLIGHT).get(key) ?? IN_FLIGHT.get(key);
  if (earlier !== undefined) {
    logger.debug(`Reusing the answer of credential helper ${quote(command)}`);
    return await earlier;
  }
  const run = (async () => {
    await helperSlot();
    try {
      return await spawnHelper(command, program, serverUrl, timeoutMs, logger);
    } finally {
      releaseHelperSlot();
    }
  })();
  IN_FLIGHT.set(key, run);
  if (cache) HELPER_RUNS.set(key, run);
  try {
    return await run;
  } finally {
    if (IN_FLIGHT.get(key) === run) IN_FLIGHT.delete(key);
  }
}

/** Stops a helper that did not answer in time, with every process it started. */
function killHelper(child: Deno.ChildProcess): void {
  if (Deno.build.os !== "windows") {
    try {
      // The helper leads its own process group (detached): kill the group.
      Deno.kill(-child.pid, "SIGKILL");
      return;
    } catch {
      // not permitted (a --allow-run scoped to the helper) or already gone
    }
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // already gone
  }
}

async function spawnHelper(
  command: string,
  program: string,
  serverUrl: string,
  timeoutMs: number,
  logger: Logger,
): Promise<HelperAnswer | undefined> {
  logger.debug(`Running credential helper ${quote(command)}`);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: ["get"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Its own process group, so that a time-out kills what it started too.
      detached: Deno.build.os !== "windows",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw failed(command, "not found in PATH");
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw failed(command, "not permitted to run");
    }
    throw failed(command, "cannot be started", error);
  }

  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  let timedOut = false;
  // On time-out: kill the helper and stop reading its pipes (a grandchild
  // may keep them open after the helper is gone).
  const timer = setTimeout(() => {
    timedOut = true;
    killHelper(child);
    stdout.cancel();
    stderr.cancel();
  }, timeoutMs);

  try {
    const writer = child.stdin.getWriter();
    const input = (async () => {
      try {
        await writer.write(new TextEncoder().encode(serverUrl));
        await writer.close();
      } catch {
        // the helper may exit without reading stdin
      }
    })();
    const [status, out, err] = await Promise.all([
      child.status,
      stdout.bytes,
      stderr.bytes,
      input,
    ]);
    if (timedOut) throw failed(command, `no answer within ${timeoutMs} ms; killed`);
    logger.debug(`Credential helper ${quote(command)} exited with code ${status.code}`);
    if (!status.success) {
      const text = new TextDecoder().decode(out) + "\n" + new TextDecoder().decode(err);
      if (/credentials not found/i.test(text)) return undefined;
      throw failed(command, `exited with code ${status.code}`);
    }
    return parseAnswer(command, out);
  } finally {
    clearTimeout(timer);
  }
}

function parseAnswer(command: string, stdout: Uint8Array): HelperAnswer | undefined {
  if (stdout.length > MAX_ANSWER_BYTES) throw failed(command, "the answer is too large");
  let data: unknown;
  try {
    data = JSON.parse(UTF8.decode(stdout));
  } catch {
    throw failed(command, "the answer is not valid JSON");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw failed(command, "the answer is not a JSON object");
  }
  const { Username: username, Secret: secret } = data as Record<string, unknown>;
  if (typeof username !== "string" || typeof secret !== "string") {
    throw failed(command, `the answer lacks string fields "Username" and "Secret"`);
  }
  if (secret === "") return undefined;
  return { username, secret };
}
