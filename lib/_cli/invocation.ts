/**
 * The checks every invocation passes before its command runs: flags the
 * command takes, the log level, and the explicit credentials of the global
 * flags (`--username`, `--password-stdin`, `--password`).
 *
 * @module
 */

import { isRegistryError, parseLogLevel } from "../../mod.ts";
import type { Command } from "./command.ts";
import { CliError, type ErrorCode, usage } from "./exit_codes.ts";
import { type Flags, unexpectedFlags } from "./flags.ts";
import { oneLine, type Output, readAll } from "./io.ts";

/**
 * Checks the flags against the command's and the log level.
 *
 * @param command The command to run.
 * @param flags The flags given.
 * @throws {CliError} `USAGE` for a flag the command does not take, or a bad `--log-level`.
 */
export function checkFlags(command: Command, flags: Flags): void {
  const [unexpected] = unexpectedFlags(flags, command.flags);
  if (unexpected !== undefined) {
    throw usage(
      `"${command.name}" does not take --${unexpected}; see "regkit help ${command.name}"`,
    );
  }
  if (flags["log-level"] !== undefined) {
    try {
      parseLogLevel(flags["log-level"]);
    } catch (error) {
      throw usage((error as Error).message);
    }
  }
}

/**
 * The password of the global flags: `--password` (with a warning) or one line
 * of standard input (`--password-stdin`, one trailing newline removed).
 * Outside `login` (which may prompt), `--username` and a password go together.
 *
 * @param command The command to run.
 * @param streams `flags` given, `stdin`, and `err` (standard error, for the warning).
 * @returns The password, if one was given.
 * @throws {CliError} `USAGE` when the flags do not fit together or the password is empty.
 */
export async function readPassword(
  command: Command,
  { flags, stdin, err }: { flags: Flags; stdin: ReadableStream<Uint8Array>; err: Output },
): Promise<string | undefined> {
  let password: string | undefined;
  if (flags.password !== undefined) {
    if (flags["password-stdin"]) throw usage("--password and --password-stdin exclude each other");
    await err.write(
      "regkit: warning: using --password on the command line is insecure; use --password-stdin\n",
    );
    password = flags.password;
  } else if (flags["password-stdin"]) {
    if (flags.username === undefined) throw usage("--password-stdin needs --username");
    password = (await readAll(stdin)).replace(/\n$/, "").replace(/\r$/, "");
    if (password === "") throw usage("The password read from stdin is empty");
  }
  if (flags["creds-for"] !== undefined) {
    if (command.name === "login") {
      throw usage(`"login" does not take --creds-for: its REGISTRY is where the credentials go`);
    }
    if (flags.username === undefined) throw usage("--creds-for needs --username");
  }
  if (command.name !== "login") {
    if (flags.username !== undefined && password === undefined) {
      throw usage("--username needs --password-stdin");
    }
    if (password !== undefined && flags.username === undefined) {
      throw usage("--password needs --username");
    }
  }
  return password;
}

/** What a failed invocation reports: `regkit: <message> (<code>)`, or nothing for a closed stdout. */
export type Failure = { code: ErrorCode; message: string } | "broken pipe";

/**
 * Turns anything a command threw into the line to report, never a stack trace.
 *
 * @param error What was thrown.
 * @returns The code and message, or `"broken pipe"` when stdout's reader went away.
 */
export function failureOf(error: unknown): Failure {
  // The reader of stdout went away (`regkit exists … | head`): stop quietly, as tools killed by
  // SIGPIPE do.
  if (error instanceof Deno.errors.BrokenPipe) return "broken pipe";
  if (error instanceof CliError || isRegistryError(error)) {
    return { code: error.code, message: error.message };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return { code: "INVALID_CONFIG", message: oneLine(error.message) };
  }
  return {
    code: "INTERNAL",
    message: error instanceof Error
      ? `unexpected ${error.name}: ${oneLine(error.message)}`
      : "unexpected failure",
  };
}
