/**
 * The `regkit` command line: checks that container images exist, prints
 * digests, manifests, image details and tags, explains where credentials come
 * from, and logs in and out, resolving credentials as podman and docker do.
 * Output and exit codes are a contract for scripts and release pipelines.
 *
 * ```sh ignore
 * deno run --allow-net --allow-env --allow-read --allow-run --allow-write \
 *   jsr:@regkit/regkit/cli exists quay.io/org/app:1.2 quay.io/org/app:1.3
 * # present sha256:… quay.io/org/app:1.2
 * # absent quay.io/org/app:1.3
 * ```
 *
 * Exit codes (one table, produced by one function from the outcome or error code):
 *
 * | code | meaning |
 * | ---- | ------- |
 * | 0 | every answer is `present` / the command succeeded |
 * | 1 | at least one answer is `absent` and none is `unknown`; `digest`, `manifest`, `inspect`, `tags` of a missing image or repository (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `PLATFORM_NOT_FOUND`); `logout` without an entry (`AUTH_NOT_FOUND`) |
 * | 2 | usage or configuration error: bad flag or argument (`USAGE`), unreadable or invalid auth file (`AUTH_FILE_INVALID`), CA file or input file (`INVALID_CONFIG`), invalid reference or platform for a single-reference command (`INVALID_REFERENCE`, `INVALID_PLATFORM`), plain-HTTP registry not allowed (`INSECURE_REGISTRY`) |
 * | 3 | at least one answer could not be determined: `UNAUTHORIZED`, `DENIED`, `TOOMANYREQUESTS`, `NETWORK`, `TIMEOUT`, token and digest failures, and unexpected internal errors (`INTERNAL`) |
 *
 * With `exists`, an invalid reference is an answer (`unknown <ref> INVALID_REFERENCE: …`),
 * so it counts as undetermined (3) while the other references still run; an answer that is
 * unknown because of configuration (`AUTH_FILE_INVALID`, `INVALID_CONFIG`,
 * `INSECURE_REGISTRY`) makes the exit code 2.
 *
 * Errors go to stderr as `regkit: <message> (<CODE>)`, never with a stack
 * trace or a secret. When the reader of stdout goes away (`regkit exists … | head`),
 * regkit stops quietly with status 141, as tools killed by SIGPIPE do.
 *
 * @example Run the CLI in-process
 * ```ts
 * import { main } from "@regkit/regkit/cli";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const stdout = { write: (p: Uint8Array) => (chunks.push(p), Promise.resolve(p.length)) };
 * assert.equal(await main(["--version"], { stdout }), 0);
 * assert.equal(new TextDecoder().decode(chunks[0]), "regkit 0.1.0\n");
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoConfig from "./deno.json" with { type: "json" };
import {
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  type CredentialExplanation,
  defaultLoginAuthFile,
  type ExistsResult,
  isRegistryError,
  parseLogLevel,
  parseRepository,
  permittedEnv,
  type RegistryErrorCode,
  removeCredentials,
  storeCredentials,
} from "./mod.ts";

const VERSION: string = denoConfig.version;

/** A byte sink such as `Deno.stdout`: `write` may write part of `p` and says how much. */
export interface CliWriter {
  /**
   * Writes bytes.
   *
   * @param p The bytes.
   * @returns How many bytes were written.
   */
  write(p: Uint8Array): Promise<number>;
}

/** Where {@linkcode main} reads and writes. Every field is optional. */
export interface CliIo {
  /**
   * Standard input (`--password-stdin`, `--from-file -`).
   * @default {Deno.stdin.readable}
   */
  stdin?: ReadableStream<Uint8Array>;
  /**
   * Standard output.
   * @default {Deno.stdout}
   */
  stdout?: CliWriter;
  /**
   * Standard error.
   * @default {Deno.stderr}
   */
  stderr?: CliWriter;
  /**
   * Reads an environment variable (`NO_COLOR`, auth-file locations).
   * @default {permittedEnv} (only variables whose `env` permission is granted)
   */
  env?: (name: string) => string | undefined;
  /**
   * Whether a stream is a terminal (progress line, colors).
   * @default {(stream) => Deno[stream].isTerminal()}
   */
  isTerminal?: (stream: "stdin" | "stdout" | "stderr") => boolean;
}

/** Codes the CLI adds to the library's `RegistryErrorCode`s. */
type CliCode = "USAGE" | "INTERNAL";

/** Exit status when stdout is closed early, as for a process killed by SIGPIPE. */
const EXIT_BROKEN_PIPE = 141;

/** What a command ended with: an outcome, or an error code. */
type Outcome = "ok" | "absent" | "unknown" | CliCode | RegistryErrorCode;

const ABSENT_CODES: ReadonlySet<string> = new Set([
  "absent",
  "MANIFEST_UNKNOWN",
  "NAME_UNKNOWN",
  "PLATFORM_NOT_FOUND",
  "AUTH_NOT_FOUND",
]);

const USAGE_CODES: ReadonlySet<string> = new Set([
  "USAGE",
  "INVALID_CONFIG",
  "AUTH_FILE_INVALID",
  "INVALID_REFERENCE",
  "INVALID_PLATFORM",
  "INSECURE_REGISTRY",
]);

/** Codes that make an `exists` answer a configuration error (exit 2) rather than unknown (3). */
const CONFIGURATION_CODES: ReadonlySet<string> = new Set([
  "INVALID_CONFIG",
  "AUTH_FILE_INVALID",
  "INSECURE_REGISTRY",
]);

/** The one place outcomes and error codes become exit codes (see the module doc). */
function exitCodeFor(outcome: Outcome): 0 | 1 | 2 | 3 {
  if (outcome === "ok") return 0;
  if (ABSENT_CODES.has(outcome)) return 1;
  if (USAGE_CODES.has(outcome)) return 2;
  return 3;
}

/** A failure the CLI reports as `regkit: <message> (<code>)`. */
class CliError extends Error {
  readonly code: CliCode | RegistryErrorCode;
  constructor(code: CliCode | RegistryErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function usage(message: string): CliError {
  return new CliError("USAGE", message);
}

// ---------------------------------------------------------------------------
// Help

const EXIT_CODES_HELP = `Exit codes:
  0  every answer present / command succeeded
  1  at least one answer absent and none unknown; missing image or repository
     (MANIFEST_UNKNOWN, NAME_UNKNOWN, PLATFORM_NOT_FOUND); logout without an entry
  2  usage or configuration error (bad flag, invalid reference for a single-reference
     command, unreadable/invalid auth file, CA file or input file; for exists, also an
     answer unknown for one of these configuration reasons)
  3  at least one answer could not be determined (UNAUTHORIZED, DENIED,
     TOOMANYREQUESTS, NETWORK, TIMEOUT, ...), or an internal error (INTERNAL)`;

const GLOBAL_FLAGS_HELP = `Global flags:
  --authfile FILE            read credentials only from FILE (login/logout write it)
  --username USER            username for every registry, with --password-stdin
  --password-stdin           read the password from standard input
  --password PASS            the password (insecure: prefer --password-stdin)
  --ca-cert FILE             also trust this PEM CA certificate (repeatable)
  --insecure-registry HOST   allow plain HTTP for HOST (repeatable; loopback always may)
  --retries N                retries after temporary failures (default 5)
  --timeout SECONDS          time limit per HTTP attempt (default 30)
  --log-level LEVEL          DEBUG, INFO, WARNING or ERROR (default WARNING), on stderr
  -q, --quiet                no progress line, only errors on stderr
  -h, --help                 show help (also: regkit help COMMAND)
  --version                  print the version`;

const GLOBAL_HELP =
  `regkit ${VERSION}: check container images in registries, with podman/docker credentials

Usage: regkit [global flags] COMMAND [flags] ARGS

Commands:
  exists REF... | --from-file FILE|-  check that images exist, one line per input
  digest REF                          print the digest a reference resolves to
  manifest REF                        print the manifest, bytes as served
  inspect REF                         print image details as JSON, like skopeo inspect
  tags REPO                           list every tag of a repository
  auth explain REF                    show where credentials for REF come from
  login REGISTRY                      verify credentials, then store them in the auth file
  logout REGISTRY                     remove a registry's credentials from the auth file
  help [COMMAND]                      show help for a command

${GLOBAL_FLAGS_HELP}

${EXIT_CODES_HELP}
`;

interface CommandSpec {
  /** Flags the command takes beyond the global ones. */
  flags: readonly string[];
  help: string;
}

const PLATFORM_FLAG = `  --platform OS/ARCH[/VARIANT]  resolve an image index to this platform`;

const COMMANDS: Record<string, CommandSpec> = {
  exists: {
    flags: ["json", "from-file", "concurrency"],
    help: `Usage: regkit exists [flags] REF...
       regkit exists [flags] --from-file FILE|-

Checks that images exist. Prints one line per input, in input order:
  present <digest> <ref>
  absent <ref>
  unknown <ref> <CODE>: <message>

Flags:
  --from-file FILE|-   read references from FILE or standard input (-), one per line;
                       blank lines and lines starting with # are skipped
  --json               print JSON Lines: {"reference","status","digest"?,"code"?,"message"?}
  --concurrency N      checks running at once, 1 to 1024 (default 8)

An invalid reference gives "unknown <ref> INVALID_REFERENCE: …" and the rest still run.
On a terminal, a progress line is shown on stderr (not with --quiet).
Exit code: 0 all present, 1 some absent and none unknown, 3 some unknown, 2 usage error.
`,
  },
  digest: {
    flags: ["platform"],
    help: `Usage: regkit digest [flags] REF

Prints the digest REF resolves to (the index digest for an index, unless --platform).

Flags:
${PLATFORM_FLAG}

Exit code: 0 found, 1 missing (MANIFEST_UNKNOWN), 2 invalid reference, 3 undetermined.
`,
  },
  manifest: {
    flags: ["platform"],
    help: `Usage: regkit manifest [flags] REF

Writes the manifest to stdout exactly as the registry served it.

Flags:
${PLATFORM_FLAG}

Exit code: 0 found, 1 missing (MANIFEST_UNKNOWN), 2 invalid reference, 3 undetermined.
`,
  },
  inspect: {
    flags: ["platform"],
    help: `Usage: regkit inspect [flags] REF

Prints image details as pretty JSON, like skopeo inspect: Name, Digest, Tag,
Created, Architecture, Os, Variant, Labels, Layers, MediaType. An index is resolved
to --platform, or to this machine's platform.

Flags:
${PLATFORM_FLAG}

Exit code: 0 found, 1 missing (MANIFEST_UNKNOWN), 2 invalid reference, 3 undetermined.
`,
  },
  tags: {
    flags: ["json"],
    help: `Usage: regkit tags [flags] REPO

Lists every tag of REPO (e.g. quay.io/org/app), one per line, following pagination.

Flags:
  --json   print {"Repository": "...", "Tags": [...]} instead

Exit code: 0 listed, 1 no such repository (NAME_UNKNOWN), 2 invalid name, 3 undetermined.
`,
  },
  auth: {
    flags: ["json"],
    help: `Usage: regkit auth explain [flags] REF

Shows where credentials for REF come from (explicit flags, an auth file and key,
a credential helper, or anonymous), the username, the auth files read, and every
skipped candidate with the reason. Never prints a secret.

Flags:
  --json   print the explanation as JSON

Exit code: 0 explained, 2 invalid reference or auth file.
`,
  },
  login: {
    flags: [],
    help: `Usage: regkit login [flags] REGISTRY
       printf '%s' "$PASSWORD" | regkit login --username USER --password-stdin REGISTRY

Verifies the credentials against REGISTRY (host[:port][/namespace]) as docker login
does (GET /v2/ with Basic, or a token request with no scope), then stores them in
the auth file podman uses: --authfile, else $REGISTRY_AUTH_FILE, else
$XDG_RUNTIME_DIR/containers/auth.json, else
\${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json. Every other entry is kept;
the file is replaced atomically with mode 0600. Prints "Login Succeeded".

Flags:
  --username USER    the username (required)
  --password-stdin   read the password from standard input (one trailing newline removed)
  --password PASS    the password on the command line (insecure; a warning is printed)

Exit code: 0 stored, 2 usage or auth-file error, 3 credentials rejected (UNAUTHORIZED)
or the registry could not be reached.
`,
  },
  logout: {
    flags: [],
    help: `Usage: regkit logout [flags] REGISTRY

Removes REGISTRY's entry from the auth file login writes (see regkit help login),
keeping every other entry. Prints "Removed login credentials for REGISTRY".

Exit code: 0 removed, 1 not logged in (AUTH_NOT_FOUND), 2 usage or auth-file error.
`,
  },
};

COMMANDS.help = {
  flags: [],
  help: `Usage: regkit help [COMMAND]

Shows help for COMMAND, or the overview.
`,
};

function commandHelp(command: string): string {
  return `${COMMANDS[command].help}\nGlobal flags: see "regkit --help".\n`;
}

// ---------------------------------------------------------------------------
// Output

const encoder = new TextEncoder();

/** Serialises writes to one stream; handles partial writes. */
class Output {
  readonly #writer: CliWriter;
  #chain: Promise<void> = Promise.resolve();

  constructor(writer: CliWriter) {
    this.#writer = writer;
  }

  write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const next = this.#chain.then(async () => {
      let offset = 0;
      while (offset < bytes.byteLength) {
        offset += await this.#writer.write(bytes.subarray(offset));
      }
    });
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Resolves once every write so far is done (log records are written in the background). */
  flush(): Promise<void> {
    return this.#chain;
  }
}

const CLEAR_LINE = "\r\x1b[2K";

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/** The progress line of `exists`: drawn on stderr, throttled, cleared before other output. */
class Progress {
  readonly #stderr: Output;
  readonly #total: number | undefined;
  readonly #start = Date.now();
  readonly #sharedTerminal: boolean;
  #lastDraw = 0;
  #drawn = false;
  done = 0;
  present = 0;
  absent = 0;
  unknown = 0;

  constructor(stderr: Output, total: number | undefined, sharedTerminal: boolean) {
    this.#stderr = stderr;
    this.#total = total;
    this.#sharedTerminal = sharedTerminal;
  }

  /** Clears the line before output to the same terminal. */
  async beforeOutput(): Promise<void> {
    if (this.#drawn && this.#sharedTerminal) await this.clear();
  }

  count(result: ExistsResult): void {
    this.done++;
    this[result.status]++;
  }

  async maybeDraw(): Promise<void> {
    const visible = this.#total === undefined ? this.done > 1 : this.#total > 1;
    const now = Date.now();
    if (!visible || now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#drawn = true;
    await this.#stderr.write(CLEAR_LINE + this.#line(now));
  }

  #line(now: number): string {
    const seconds = Math.max((now - this.#start) / 1000, 0.001);
    const rate = this.done / seconds;
    const done = this.#total === undefined ? `${this.done}` : `${this.done}/${this.#total}`;
    let line =
      `regkit: ${done} checked: ${this.present} present, ${this.absent} absent, ${this.unknown} unknown, ${
        rate.toFixed(1)
      }/s`;
    if (this.#total !== undefined && rate > 0 && this.done < this.#total) {
      line += `, ETA ${formatDuration((this.#total - this.done) / rate)}`;
    }
    return line;
  }

  async clear(): Promise<void> {
    if (!this.#drawn) return;
    this.#drawn = false;
    await this.#stderr.write(CLEAR_LINE);
  }
}

function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const COLORS = { green: 32, yellow: 33, red: 31 } as const;

// ---------------------------------------------------------------------------
// Flags

const OPTIONS = {
  authfile: { type: "string" },
  username: { type: "string" },
  password: { type: "string" },
  "password-stdin": { type: "boolean" },
  "ca-cert": { type: "string", multiple: true },
  "insecure-registry": { type: "string", multiple: true },
  retries: { type: "string" },
  timeout: { type: "string" },
  "log-level": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  json: { type: "boolean" },
  "from-file": { type: "string" },
  concurrency: { type: "string" },
  platform: { type: "string" },
} as const;

const GLOBAL_FLAGS: ReadonlySet<string> = new Set([
  "authfile",
  "username",
  "password",
  "password-stdin",
  "ca-cert",
  "insecure-registry",
  "retries",
  "timeout",
  "log-level",
  "quiet",
  "help",
  "version",
]);

type Flags = {
  authfile?: string;
  username?: string;
  password?: string;
  "password-stdin"?: boolean;
  "ca-cert"?: string[];
  "insecure-registry"?: string[];
  retries?: string;
  timeout?: string;
  "log-level"?: string;
  quiet?: boolean;
  help?: boolean;
  version?: boolean;
  json?: boolean;
  "from-file"?: string;
  concurrency?: string;
  platform?: string;
};

function parseFlags(args: string[]): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { flags: { ...values } as Flags, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split(/\.\s/)[0] : String(error);
    throw usage(`${message.replace(/\.$/, "")}; see "regkit --help"`);
  }
}

function integerFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(
      `Cannot use --${name} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

// ---------------------------------------------------------------------------
// Input

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  buffer += decoder.decode();
  if (buffer !== "") yield buffer;
}

async function* referenceLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  for await (const raw of readLines(stream)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    yield line;
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

// ---------------------------------------------------------------------------
// Commands

interface Context {
  flags: Flags;
  positionals: string[];
  out: Output;
  err: Output;
  io: Required<CliIo>;
  password?: string;
  /** Clears the progress line (if any) before a stderr message. */
  beforeStderr: () => Promise<void>;
  setProgress: (progress: Progress | undefined) => void;
}

function checkArity(command: string, positionals: string[], count: number, what: string): void {
  if (positionals.length < count) {
    throw usage(`"${command}" needs ${what}; see "regkit help ${command}"`);
  }
  if (positionals.length > count) {
    throw usage(
      `"${command}" takes one ${what}, got ${positionals.length}; see "regkit help ${command}"`,
    );
  }
}

async function readCaCerts(paths: string[]): Promise<string[]> {
  const certs: string[] = [];
  for (const path of paths) {
    try {
      certs.push(await Deno.readTextFile(path));
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? "not found"
        : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
        ? "not permitted (--allow-read)"
        : error instanceof TypeError
        ? "not text"
        : "cannot be read";
      throw new CliError(
        "INVALID_CONFIG",
        `Cannot read CA certificate ${JSON.stringify(path)}: ${why}`,
      );
    }
  }
  return certs;
}

async function makeClient(
  ctx: Context,
  explicit?: { username: string; password: string },
): Promise<ContainerRegistryClient> {
  const { flags, io } = ctx;
  const caPaths = flags["ca-cert"] ?? [];
  const caCerts = await readCaCerts(caPaths);
  const logLevel = flags["log-level"] ?? (flags.quiet ? "ERROR" : "WARNING");
  const options: ContainerRegistryClientOptions = {
    env: io.env,
    logLevel,
    onLog: (record) => {
      const line = `regkit: ${record.level.toLowerCase()}: ${oneLine(record.message)}\n`;
      void ctx.beforeStderr().then(() => ctx.err.write(line)).catch(() => {});
    },
    caCerts,
    insecureRegistries: flags["insecure-registry"] ?? [],
  };
  if (flags.authfile !== undefined) options.authFile = flags.authfile;
  if (flags.retries !== undefined) options.retries = integerFlag("retries", flags.retries, 0, 100);
  if (flags.timeout !== undefined) {
    const seconds = Number(flags.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || flags.timeout.trim() === "") {
      throw usage(`Cannot use --timeout ${JSON.stringify(flags.timeout)}: expected seconds > 0`);
    }
    options.timeoutMs = seconds * 1000;
  }
  const credentials = explicit ??
    (flags.username !== undefined && ctx.password !== undefined
      ? { username: flags.username, password: ctx.password }
      : undefined);
  if (credentials !== undefined) {
    options.username = credentials.username;
    options.password = credentials.password;
  }
  try {
    return new ContainerRegistryClient(options);
  } catch (error) {
    if (isRegistryError(error)) {
      const match = /certificate #(\d+)/.exec(error.message);
      const path = match ? caPaths[Number(match[1]) - 1] : undefined;
      if (path !== undefined) {
        throw new CliError(
          error.code,
          `Cannot use CA certificate ${JSON.stringify(path)}: not a PEM certificate`,
        );
      }
      throw error;
    }
    if (error instanceof RangeError || error instanceof TypeError) throw usage(error.message);
    throw error;
  }
}

async function runExists(ctx: Context): Promise<Outcome> {
  const { flags, positionals, io, out } = ctx;
  const file = flags["from-file"];
  if (file !== undefined && positionals.length > 0) {
    throw usage(`"exists" takes references or --from-file, not both; see "regkit help exists"`);
  }
  if (file === undefined && positionals.length === 0) {
    throw usage(`"exists" needs at least one reference or --from-file; see "regkit help exists"`);
  }
  if (file === "-" && flags["password-stdin"]) {
    throw usage(`--from-file - and --password-stdin cannot both read standard input`);
  }
  const concurrency = flags.concurrency === undefined
    ? 8
    : integerFlag("concurrency", flags.concurrency, 1, 1024);
  let inputs: Iterable<string> | AsyncIterable<string>;
  let total: number | undefined;
  let opened: Deno.FsFile | undefined;
  if (file === undefined) {
    inputs = positionals;
    total = positionals.length;
  } else if (file === "-") {
    inputs = referenceLines(io.stdin);
  } else {
    try {
      opened = await Deno.open(file);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound
        ? "not found"
        : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
        ? "not permitted"
        : "cannot be read";
      throw new CliError("INVALID_CONFIG", `Cannot read ${JSON.stringify(file)}: ${why}`);
    }
    inputs = referenceLines(opened.readable);
  }
  const client = await makeClient(ctx);
  const showProgress = !flags.quiet && io.isTerminal("stderr");
  const progress = showProgress ? new Progress(ctx.err, total, io.isTerminal("stdout")) : undefined;
  ctx.setProgress(progress);
  const colors = !flags.json && io.isTerminal("stdout") && !io.env("NO_COLOR");
  const paint = (color: keyof typeof COLORS, text: string) =>
    colors ? `\x1b[${COLORS[color]}m${text}\x1b[39m` : text;
  let absent = 0;
  let unknown = 0;
  let configuration: RegistryErrorCode | undefined;
  try {
    await progress?.maybeDraw();
    for await (const result of client.existsMany(inputs, { concurrency })) {
      let line: string;
      if (flags.json) {
        const record: Record<string, string> = {
          reference: result.reference,
          status: result.status,
        };
        if (result.status === "present") record.digest = result.digest;
        if (result.status === "unknown") {
          record.code = result.code;
          record.message = result.message;
        }
        line = JSON.stringify(record);
      } else if (result.status === "present") {
        line = `${paint("green", "present")} ${result.digest} ${oneLine(result.reference)}`;
      } else if (result.status === "absent") {
        line = `${paint("yellow", "absent")} ${oneLine(result.reference)}`;
      } else {
        line = `${paint("red", "unknown")} ${oneLine(result.reference)} ${result.code}: ${
          oneLine(result.message)
        }`;
      }
      if (result.status === "absent") absent++;
      if (result.status === "unknown") {
        unknown++;
        if (CONFIGURATION_CODES.has(result.code)) configuration ??= result.code;
      }
      progress?.count(result);
      await progress?.beforeOutput();
      await out.write(line + "\n");
      await progress?.maybeDraw();
    }
  } finally {
    await progress?.clear();
    ctx.setProgress(undefined);
    client.close();
    try {
      opened?.close();
    } catch { /* closed with its stream */ }
  }
  return configuration ?? (unknown > 0 ? "unknown" : absent > 0 ? "absent" : "ok");
}

async function runDigest(ctx: Context): Promise<Outcome> {
  checkArity("digest", ctx.positionals, 1, "a reference");
  await using client = await makeClient(ctx);
  const digest = await client.digest(
    ctx.positionals[0],
    ctx.flags.platform === undefined ? {} : { platform: ctx.flags.platform },
  );
  await ctx.out.write(digest + "\n");
  return "ok";
}

async function runManifest(ctx: Context): Promise<Outcome> {
  checkArity("manifest", ctx.positionals, 1, "a reference");
  await using client = await makeClient(ctx);
  const manifest = await client.manifest(
    ctx.positionals[0],
    ctx.flags.platform === undefined ? {} : { platform: ctx.flags.platform },
  );
  await ctx.out.write(manifest.bytes);
  return "ok";
}

async function runInspect(ctx: Context): Promise<Outcome> {
  checkArity("inspect", ctx.positionals, 1, "a reference");
  await using client = await makeClient(ctx);
  const i = await client.inspect(
    ctx.positionals[0],
    ctx.flags.platform === undefined ? {} : { platform: ctx.flags.platform },
  );
  const ordered = {
    Name: i.Name,
    Digest: i.Digest,
    ...(i.Tag === undefined ? {} : { Tag: i.Tag }),
    ...(i.Created === undefined ? {} : { Created: i.Created }),
    Architecture: i.Architecture,
    Os: i.Os,
    ...(i.Variant === undefined ? {} : { Variant: i.Variant }),
    Labels: i.Labels,
    Layers: i.Layers,
    MediaType: i.MediaType,
  };
  await ctx.out.write(JSON.stringify(ordered, null, 4) + "\n");
  return "ok";
}

async function runTags(ctx: Context): Promise<Outcome> {
  checkArity("tags", ctx.positionals, 1, "a repository");
  const name = parseRepository(ctx.positionals[0]).name;
  await using client = await makeClient(ctx);
  const tags = await client.tags(ctx.positionals[0]);
  await ctx.out.write(
    ctx.flags.json
      ? JSON.stringify({ Repository: name, Tags: tags }, null, 4) + "\n"
      : tags.map((t) => t + "\n").join(""),
  );
  return "ok";
}

function describeSource(e: CredentialExplanation): string {
  const s = e.source;
  const q = JSON.stringify;
  switch (s.type) {
    case "explicit":
      return "explicit (--username and password)";
    case "file":
      return `auth file ${q(s.path ?? "")}, key ${q(s.key ?? "")}`;
    case "helper":
      return `credential helper ${q(`docker-credential-${s.helper ?? ""}`)}${
        s.key === undefined ? " (credsStore)" : `, key ${q(s.key)}`
      }${s.path === undefined ? "" : `, named in ${q(s.path)}`}`;
    default:
      return "anonymous (no credentials found)";
  }
}

async function runAuth(ctx: Context): Promise<Outcome> {
  const [sub, ...rest] = ctx.positionals;
  if (sub !== "explain") {
    throw usage(
      sub === undefined
        ? `"auth" needs a subcommand: explain; see "regkit help auth"`
        : `Unknown subcommand "auth ${sub}"; see "regkit help auth"`,
    );
  }
  checkArity("auth explain", rest, 1, "a reference");
  await using client = await makeClient(ctx);
  const e = await client.explainCredentials(rest[0]);
  if (ctx.flags.json) {
    await ctx.out.write(JSON.stringify(e, null, 2) + "\n");
    return "ok";
  }
  const lines = [
    `reference: ${e.reference}`,
    `registry:  ${e.registry}`,
    `source:    ${describeSource(e)}`,
  ];
  if (e.kind !== undefined) lines.push(`kind:      ${e.kind}`);
  if (e.username !== undefined) lines.push(`username:  ${e.username}`);
  lines.push(
    `searched:  ${
      e.searched.length === 0 ? "(none)" : e.searched.map((p) => JSON.stringify(p)).join(", ")
    }`,
  );
  if (e.skipped.length === 0) {
    lines.push("skipped:   (none)");
  } else {
    lines.push("skipped:");
    for (const s of e.skipped) lines.push(`  ${s.candidate}: ${s.reason}`);
  }
  await ctx.out.write(lines.map(oneLine).join("\n") + "\n");
  return "ok";
}

function loginKey(registry: string): string {
  return registry.replace(/^https?:\/\//i, "").replace(/\/+$/, "");
}

function loginAuthFile(ctx: Context, verb: string): string {
  const path = defaultLoginAuthFile({
    ...(ctx.flags.authfile === undefined ? {} : { authFile: ctx.flags.authfile }),
    env: ctx.io.env,
  });
  if (path === undefined) {
    throw new CliError(
      "INVALID_CONFIG",
      `Cannot ${verb}: no auth file to write; pass --authfile or set $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR or $HOME`,
    );
  }
  let state: Deno.PermissionState = "denied";
  try {
    state = Deno.permissions.querySync({ name: "write", path }).state;
  } catch { /* treated as denied */ }
  if (state !== "granted") {
    throw new CliError(
      "INVALID_CONFIG",
      `Cannot ${verb}: writing ${JSON.stringify(path)} is not permitted (--allow-write)`,
    );
  }
  return path;
}

async function runLogin(ctx: Context): Promise<Outcome> {
  checkArity("login", ctx.positionals, 1, "a registry");
  const registry = ctx.positionals[0];
  const key = loginKey(registry);
  const username = ctx.flags.username;
  if (username === undefined || username === "") {
    throw usage(`"login" needs --username; see "regkit help login"`);
  }
  if (ctx.password === undefined) {
    throw usage(`"login" needs a password: pass --password-stdin; see "regkit help login"`);
  }
  const path = loginAuthFile(ctx, `log in to ${JSON.stringify(key)}`);
  await using client = await makeClient(ctx, { username, password: ctx.password });
  await client.verifyCredentials(registry);
  await storeCredentials(path, { registry: key, username, password: ctx.password });
  if (!ctx.flags.quiet) {
    await ctx.err.write(
      `regkit: stored credentials for ${JSON.stringify(key)} in ${JSON.stringify(path)}\n`,
    );
  }
  await ctx.out.write("Login Succeeded\n");
  return "ok";
}

async function runLogout(ctx: Context): Promise<Outcome> {
  checkArity("logout", ctx.positionals, 1, "a registry");
  const key = loginKey(ctx.positionals[0]);
  const path = loginAuthFile(ctx, `log out of ${JSON.stringify(key)}`);
  if (!(await removeCredentials(path, key))) {
    throw new CliError(
      "AUTH_NOT_FOUND",
      `Cannot log out of ${JSON.stringify(key)}: not logged in (no entry in ${
        JSON.stringify(path)
      })`,
    );
  }
  await ctx.out.write(`Removed login credentials for ${key}\n`);
  return "ok";
}

const RUNNERS: Record<string, (ctx: Context) => Promise<Outcome>> = {
  exists: runExists,
  digest: runDigest,
  manifest: runManifest,
  inspect: runInspect,
  tags: runTags,
  auth: runAuth,
  login: runLogin,
  logout: runLogout,
};

// ---------------------------------------------------------------------------
// Entry point

function defaultIo(io: CliIo): Required<CliIo> {
  return {
    get stdin() {
      return io.stdin ?? Deno.stdin.readable;
    },
    stdout: io.stdout ?? Deno.stdout,
    stderr: io.stderr ?? Deno.stderr,
    env: io.env ?? permittedEnv,
    isTerminal: io.isTerminal ?? ((stream) => Deno[stream].isTerminal()),
  };
}

function describeUnexpected(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return `${oneLine(error.message)}`;
  }
  if (error instanceof Error) return `unexpected ${error.name}: ${oneLine(error.message)}`;
  return "unexpected failure";
}

/**
 * Runs the `regkit` command line.
 *
 * @example
 * ```ts
 * import { main } from "@regkit/regkit/cli";
 * import assert from "node:assert/strict";
 * const sink = { write: (p: Uint8Array) => Promise.resolve(p.length) };
 * assert.equal(await main(["exists"], { stdout: sink, stderr: sink }), 2);
 * ```
 * @param args The arguments, without the program name (`Deno.args`).
 * @param io Standard streams, environment and terminal detection (for tests).
 * @returns The exit code: 0 success/all present, 1 absent, 2 usage or
 *   configuration error, 3 undetermined (see the module doc).
 */
export async function main(args: string[], io: CliIo = {}): Promise<number> {
  const streams = defaultIo(io);
  const out = new Output(streams.stdout);
  const err = new Output(streams.stderr);
  let progress: Progress | undefined;
  const beforeStderr = async () => {
    await progress?.clear();
  };
  const report = async (code: string, message: string) => {
    await beforeStderr();
    await err.write(`regkit: ${oneLine(message)} (${code})\n`);
  };
  try {
    const { flags, positionals } = parseFlags(args);
    if (flags.version) {
      await out.write(`regkit ${VERSION}\n`);
      return 0;
    }
    const [command, ...rest] = positionals;
    if (command === "help") {
      const topic = rest[0];
      if (topic === undefined) {
        await out.write(GLOBAL_HELP);
        return 0;
      }
      if (!Object.hasOwn(COMMANDS, topic)) {
        throw usage(`Unknown command ${JSON.stringify(topic)}; see "regkit --help"`);
      }
      await out.write(commandHelp(topic));
      return 0;
    }
    if (command === undefined) {
      if (flags.help) {
        await out.write(GLOBAL_HELP);
        return 0;
      }
      await err.write(GLOBAL_HELP);
      throw usage(`A command is required; see "regkit --help"`);
    }
    if (!Object.hasOwn(RUNNERS, command)) {
      throw usage(`Unknown command ${JSON.stringify(command)}; see "regkit --help"`);
    }
    if (flags.help) {
      await out.write(commandHelp(command));
      return 0;
    }
    const allowed = COMMANDS[command].flags;
    for (const [name, value] of Object.entries(flags)) {
      if (value === undefined || GLOBAL_FLAGS.has(name) || allowed.includes(name)) continue;
      throw usage(`"${command}" does not take --${name}; see "regkit help ${command}"`);
    }
    if (flags["log-level"] !== undefined) {
      try {
        parseLogLevel(flags["log-level"]);
      } catch (error) {
        throw usage((error as Error).message);
      }
    }
    let password: string | undefined;
    if (flags.password !== undefined) {
      if (flags["password-stdin"]) {
        throw usage("--password and --password-stdin exclude each other");
      }
      await err.write(
        "regkit: warning: using --password on the command line is insecure; use --password-stdin\n",
      );
      password = flags.password;
    } else if (flags["password-stdin"]) {
      if (flags.username === undefined) throw usage("--password-stdin needs --username");
      password = (await readAll(streams.stdin)).replace(/\n$/, "").replace(/\r$/, "");
      if (password === "") throw usage("The password read from stdin is empty");
    }
    if (command !== "login") {
      if (flags.username !== undefined && password === undefined) {
        throw usage("--username needs --password-stdin");
      }
      if (password !== undefined && flags.username === undefined) {
        throw usage("--password needs --username");
      }
    }
    const ctx: Context = {
      flags,
      positionals: rest,
      out,
      err,
      io: streams,
      ...(password === undefined ? {} : { password }),
      beforeStderr,
      setProgress: (p) => progress = p,
    };
    const outcome = await RUNNERS[command](ctx);
    await err.flush();
    return exitCodeFor(outcome);
  } catch (error) {
    // The reader of stdout went away (`regkit exists … | head`): stop quietly, as tools killed by
    // SIGPIPE do (128 + 13).
    if (error instanceof Deno.errors.BrokenPipe) return EXIT_BROKEN_PIPE;
    try {
      if (error instanceof CliError || isRegistryError(error)) {
        await report(error.code, error.message);
        return exitCodeFor(error.code);
      }
      if (error instanceof Deno.errors.NotCapable) {
        await report("INVALID_CONFIG", describeUnexpected(error));
        return exitCodeFor("INVALID_CONFIG");
      }
      await report("INTERNAL", describeUnexpected(error));
      await err.flush();
    } catch {
      // stderr is gone: nothing left to tell
    }
    return exitCodeFor("INTERNAL");
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
