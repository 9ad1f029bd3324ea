/**
 * What a command is (one object: name, help, flags, run) and what it runs
 * with: the parsed invocation, the streams, and the client built from the
 * global flags.
 *
 * @module
 */

import {
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  findInvalidCaCertificate,
  isRegistryError,
  parseRegistry,
} from "../../mod.ts";
import { CliError, type ExitHelp, type Outcome, usage } from "./exit_codes.ts";
import { type CommandFlags, type Flags, integerFlag } from "./flags.ts";
import { describeReadError, oneLine, type Output } from "./io.ts";
import type { CliIo } from "./io.ts";
import type { Progress } from "./progress.ts";

/** Explicit credentials from `--username` and a password. */
export interface ExplicitCredentials {
  /** The username. */
  username: string;
  /** The password. */
  password: string;
}

/** One invocation, as a command's `run` sees it. */
export interface Context {
  /** The flags given (already checked against the command's). */
  readonly flags: Flags;
  /** The arguments after the command name. */
  readonly positionals: readonly string[];
  /** Standard output. */
  readonly out: Output;
  /** Standard error. */
  readonly err: Output;
  /** The streams, environment and terminal detection. */
  readonly io: Required<CliIo>;
  /** The password from `--password` or `--password-stdin`, if given. */
  readonly password?: string;
  /** Clears the progress line (if any) before a stderr message. */
  beforeStderr(): Promise<void>;
  /** Registers the progress line that stderr messages must clear first. */
  setProgress(progress: Progress | undefined): void;
}

/** A command: everything help, flag checks and dispatch need. */
export interface Command {
  /** The word that selects it: `regkit <name>`. */
  readonly name: string;
  /** Its arguments, for the overview: `REF...`. */
  readonly args: string;
  /** One line for the overview. */
  readonly summary: string;
  /** Usage lines, e.g. `regkit exists [flags] REF...`. */
  readonly usage: readonly string[];
  /** What it does and prints, for `regkit help <name>`. */
  readonly description: string;
  /** Flags it takes beyond the global ones (global ones listed here are only documented). */
  readonly flags: CommandFlags;
  /** What its exit codes mean; help lists the codes from the exit table. */
  readonly exit: ExitHelp;
  /** Runs it. */
  run(ctx: Context): Promise<Outcome>;
}

/**
 * Checks that a command got exactly one positional.
 *
 * @param command The command, for the message (`auth explain`).
 * @param got `positionals`, what it got, and `noun`, what it takes (e.g. `reference`).
 * @throws {CliError} `USAGE` unless there is exactly one.
 */
export function checkOne(
  command: string,
  { positionals, noun }: { positionals: readonly string[]; noun: string },
): void {
  const help = `see "regkit help ${command.split(" ")[0]}"`;
  if (positionals.length === 0) {
    throw usage(`"${command}" needs ${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}; ${help}`);
  }
  if (positionals.length > 1) {
    throw usage(`"${command}" takes one ${noun}, got ${positionals.length}; ${help}`);
  }
}

async function readCaCerts(paths: readonly string[]): Promise<string[]> {
  const certs: string[] = [];
  for (const path of paths) {
    try {
      certs.push(await Deno.readTextFile(path));
    } catch (error) {
      throw new CliError(
        "INVALID_CONFIG",
        `Cannot read CA certificate ${JSON.stringify(path)}: ${
          describeReadError(error, "not permitted (--allow-read)")
        }`,
      );
    }
  }
  const invalid = findInvalidCaCertificate(certs);
  if (invalid !== undefined) {
    throw new CliError(
      "INVALID_CONFIG",
      `Cannot use CA certificate ${
        JSON.stringify(paths[invalid.index])
      }: not a PEM certificate (${invalid.fault})`,
    );
  }
  return certs;
}

function timeoutMs(value: string): number {
  const seconds = Number(value);
  // The timer's limit: 2^31 - 1 ms, about 24.8 days.
  if (!Number.isFinite(seconds) || seconds <= 0 || value.trim() === "" || seconds > 2147483) {
    throw usage(
      `Cannot use --timeout ${JSON.stringify(value)}: expected seconds above 0, at most 2147483`,
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** A flag naming one registry host (`host[:port]`), checked with the library's parser. */
function registryFlag(name: "creds-for", value: string): string {
  let registry;
  try {
    if (!/^[a-z]+:\/\//i.test(value)) registry = parseRegistry(value);
  } catch { /* reported below */ }
  if (registry === undefined || registry.namespace !== "") {
    throw usage(
      `Cannot use --${name} ${JSON.stringify(value)}: expected a registry HOST or HOST:PORT`,
    );
  }
  return value;
}

/**
 * The client the global flags describe. Log records go to stderr as
 * `regkit: <level>: <message>`, after clearing the progress line.
 *
 * @param ctx The invocation.
 * @param explicit Credentials to use instead of `--username`/the password flags.
 * @returns The client; the caller closes it.
 * @throws {CliError} `USAGE` for a bad `--retries` or `--timeout`,
 *   `INVALID_CONFIG` for an unreadable or non-PEM `--ca-cert` file.
 */
export async function makeClient(
  ctx: Context,
  explicit?: ExplicitCredentials,
): Promise<ContainerRegistryClient> {
  const { flags, io } = ctx;
  const options: ContainerRegistryClientOptions = {
    env: io.env,
    logLevel: flags["log-level"] ?? (flags.quiet ? "ERROR" : "WARNING"),
    onLog: (record) => {
      const line = `regkit: ${record.level.toLowerCase()}: ${oneLine(record.message)}\n`;
      void ctx.beforeStderr().then(() => ctx.err.write(line)).catch(() => {});
    },
    caCerts: await readCaCerts(flags["ca-cert"] ?? []),
    insecureRegistries: flags["insecure-registry"] ?? [],
  };
  if (flags.authfile !== undefined) {
    if (flags.authfile.trim() === "") throw usage(`Cannot use --authfile "": name a file`);
    options.authFile = flags.authfile;
  }
  if (flags.retries !== undefined) {
    options.retries = integerFlag("retries", flags.retries, { min: 0, max: 100 });
  }
  if (flags.timeout !== undefined) options.timeoutMs = timeoutMs(flags.timeout);
  const credentials = explicit ??
    (flags.username !== undefined && ctx.password !== undefined
      ? { username: flags.username, password: ctx.password }
      : undefined);
  if (credentials !== undefined) {
    options.username = credentials.username;
    options.password = credentials.password;
    if (explicit === undefined && flags["creds-for"] !== undefined) {
      options.credentialsFor = registryFlag("creds-for", flags["creds-for"]);
    }
  }
  try {
    return new ContainerRegistryClient(options);
  } catch (error) {
    if (!isRegistryError(error) && (error instanceof RangeError || error instanceof TypeError)) {
      throw usage(error.message);
    }
    throw error;
  }
}
