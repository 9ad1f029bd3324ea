/**
 * What every bulk command (`exists`, `signed`, `artifacts`) shares: the
 * references from arguments, a file or standard input, and the loop that
 * writes one result per input in input order with a progress line and
 * derives the exit code.
 *
 * @module
 */

import { type ContainerRegistryClient, parseReference } from "../../mod.ts";
import { type Context, makeClient } from "./command.ts";
import {
  CliError,
  type ErrorCode,
  type ExitHelp,
  type Outcome,
  unknownAnswerExitCode,
  usage,
} from "./exit_codes.ts";
import { describeReadError, referenceLines } from "./io.ts";
import { Progress } from "./progress.ts";

/**
 * The exit section of a bulk command (exists, signed, artifacts): an answer
 * unknown for a configuration reason ends it with 2, any other unknown with 3.
 *
 * @param meaning `ok`, what 0 means; `missing`, what 1 means; `configuration`,
 *   what else 2 means for the command.
 * @returns The command's exit help.
 */
export function bulkExit(
  { ok, missing, configuration }: { ok: string; missing: string; configuration?: string },
): ExitHelp {
  return {
    ok,
    missing,
    configuration: (configuration === undefined ? "" : `${configuration}; `) +
      "also an answer unknown for a configuration reason (any of these codes but " +
      "INVALID_REFERENCE and INVALID_PLATFORM)",
    undetermined: "some answer unknown: INVALID_REFERENCE, INVALID_PLATFORM, or any of",
  };
}
/** The references a bulk command reads. */
export interface Inputs {
  references: Iterable<string> | AsyncIterable<string>;
  /** How many there are, when known before the first check. */
  total?: number;
  close(): void;
}

/**
 * The references of a bulk command: its arguments, or `--from-file FILE|-`.
 *
 * @param ctx The invocation.
 * @param command The command's name, for messages.
 * @returns The references and how to close their source.
 * @throws {CliError} `USAGE` for both or neither; `INVALID_CONFIG` for an unreadable file.
 */
export async function openInputs(ctx: Context, command = "exists"): Promise<Inputs> {
  const { flags, positionals, io } = ctx;
  const file = flags["from-file"];
  if (file !== undefined && positionals.length > 0) {
    throw usage(
      `"${command}" takes references or --from-file, not both; see "regkit help ${command}"`,
    );
  }
  if (file === undefined && positionals.length === 0) {
    throw usage(
      `"${command}" needs at least one reference or --from-file; see "regkit help ${command}"`,
    );
  }
  if (file === "-" && flags["password-stdin"]) {
    throw usage(`--from-file - and --password-stdin cannot both read standard input`);
  }
  if (file === undefined) {
    return { references: positionals, total: positionals.length, close: () => {} };
  }
  if (file === "-") return { references: referenceLines(io.stdin), close: () => {} };
  let opened: Deno.FsFile;
  try {
    opened = await Deno.open(file);
    if ((await opened.stat()).isDirectory) {
      opened.close();
      throw new Deno.errors.IsADirectory("a directory");
    }
  } catch (error) {
    throw new CliError(
      "INVALID_CONFIG",
      `Cannot read ${JSON.stringify(file)}: ${describeReadError(error)}`,
    );
  }
  return {
    references: referenceLines(opened.readable),
    close: () => {
      try {
        opened.close();
      } catch { /* closed with its stream */ }
    },
  };
}

/** The registry a reference names, or `undefined` for an invalid one. */
function registryOf(input: string): string | undefined {
  try {
    return parseReference(input).registry;
  } catch {
    return undefined;
  }
}

/**
 * Explicit credentials without `--creds-for` go to every registry: one
 * warning when the batch names more than one. Arguments are looked at before
 * the first check; streamed input when its second registry arrives, before
 * that reference is checked.
 */
function warnSharedCredentials(ctx: Context, inputs: Inputs): Inputs {
  if (ctx.flags.username === undefined || ctx.flags["creds-for"] !== undefined) return inputs;
  const seen = new Set<string>();
  const warn = async () => {
    await ctx.beforeStderr();
    await ctx.err.write(
      `regkit: warning: --username and its password go to every registry of this batch: ${
        [...seen].map((r) => JSON.stringify(r)).join(", ")
      }; pass --creds-for HOST to send them to one only\n`,
    );
  };
  const note = (input: string) => {
    const registry = registryOf(input);
    if (registry !== undefined) seen.add(registry);
  };
  if (inputs.total !== undefined) {
    const all = inputs.references as Iterable<string>;
    for (const input of all) note(input);
    return {
      ...inputs,
      references: (async function* () {
        if (seen.size > 1) await warn();
        yield* all;
      })(),
    };
  }
  const source = inputs.references;
  return {
    ...inputs,
    references: (async function* () {
      for await (const input of source) {
        if (seen.size < 2) {
          note(input);
          if (seen.size === 2) await warn();
        }
        yield input;
      }
    })(),
  };
}

/** What a bulk command's loop is given. */
export interface BulkCommand<R extends { status: string; reference: string }> {
  /** The command's name, for messages. */
  name: string;
  /** The statuses the progress line counts. */
  labels: readonly string[];
  /** The results for the inputs, in input order. */
  results(
    client: ContainerRegistryClient,
    inputs: AsyncIterable<string> | Iterable<string>,
  ): AsyncIterable<R>;
  /** One result as output (a line, or a JSON record). */
  format(result: R, colors: boolean): string;
  /** Whether a result makes the exit code 1 (absent, unsigned, …). */
  missing(result: R): boolean;
}

/**
 * Runs a bulk command: one result per input, streamed, with a progress line
 * on a terminal; the exit outcome is the first configuration error, else
 * unknown (3), else missing (1), else ok.
 *
 * @param ctx The invocation.
 * @param command What to run and print.
 * @returns The outcome.
 */
export async function runBulk<R extends { status: string; reference: string }>(
  ctx: Context,
  command: BulkCommand<R>,
): Promise<Outcome> {
  const inputs = warnSharedCredentials(ctx, await openInputs(ctx, command.name));
  const client = await makeClient(ctx);
  const progress = !ctx.flags.quiet && ctx.io.isTerminal("stderr")
    ? new Progress(ctx.err, inputs.total, ctx.io.isTerminal("stdout"), command.labels)
    : undefined;
  ctx.setProgress(progress);
  const colors = !ctx.flags.json && ctx.io.isTerminal("stdout") && !ctx.io.env("NO_COLOR");
  let some = false;
  let unknown = false;
  let configuration: Outcome | undefined;
  try {
    await progress?.maybeDraw();
    for await (const result of command.results(client, inputs.references)) {
      if (command.missing(result)) some = true;
      if (result.status === "unknown") {
        unknown = true;
        const code = (result as unknown as { code: ErrorCode }).code;
        if (unknownAnswerExitCode(code) === 2) configuration ??= code;
      }
      progress?.count(result);
      await progress?.beforeOutput();
      await ctx.out.write(command.format(result, colors) + "\n");
      await progress?.maybeDraw();
    }
  } finally {
    await progress?.clear();
    ctx.setProgress(undefined);
    client.close();
    inputs.close();
  }
  return configuration ?? (unknown ? "unknown" : some ? "absent" : "ok");
}
