/**
 * `regkit exists`: one answer line per reference, in input order, streamed
 * from arguments, a file or standard input.
 *
 * @module
 */

import { green, red, yellow } from "@std/fmt/colors";
import type { ExistsResult } from "../../mod.ts";
import { type Command, type Context, makeClient } from "./command.ts";
import { CliError, type Outcome, unknownAnswerExitCode, usage } from "./exit_codes.ts";
import { integerFlag } from "./flags.ts";
import { describeReadError, oneLine, referenceLines } from "./io.ts";
import { Progress } from "./progress.ts";

const DEFAULT_CONCURRENCY = 8;

/** The answer as one JSON Lines record: `{"reference","status","digest"?,"code"?,"message"?}`. */
function jsonLine(result: ExistsResult): string {
  const record: Record<string, string> = { reference: result.reference, status: result.status };
  if (result.status === "present") record.digest = result.digest;
  if (result.status === "unknown") {
    record.code = result.code;
    record.message = result.message;
  }
  return JSON.stringify(record);
}

/** The answer as text, the status word colored when `colors`. */
function textLine(result: ExistsResult, colors: boolean): string {
  const reference = oneLine(result.reference);
  switch (result.status) {
    case "present":
      return `${colors ? green("present") : "present"} ${result.digest} ${reference}`;
    case "absent":
      return `${colors ? yellow("absent") : "absent"} ${reference}`;
    default:
      return `${colors ? red("unknown") : "unknown"} ${reference} ${result.code}: ${
        oneLine(result.message)
      }`;
  }
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

async function run(ctx: Context): Promise<Outcome> {
  const { flags, io, out } = ctx;
  const concurrency = flags.concurrency === undefined
    ? DEFAULT_CONCURRENCY
    : integerFlag("concurrency", flags.concurrency, 1, 1024);
  const inputs = await openInputs(ctx);
  const client = await makeClient(ctx);
  const progress = !flags.quiet && io.isTerminal("stderr")
    ? new Progress(ctx.err, inputs.total, io.isTerminal("stdout"))
    : undefined;
  ctx.setProgress(progress);
  const colors = !flags.json && io.isTerminal("stdout") && !io.env("NO_COLOR");
  let absent = false;
  let unknown = false;
  let configuration: Outcome | undefined;
  try {
    await progress?.maybeDraw();
    for await (const result of client.existsMany(inputs.references, { concurrency })) {
      if (result.status === "absent") absent = true;
      if (result.status === "unknown") {
        unknown = true;
        if (unknownAnswerExitCode(result.code) === 2) configuration ??= result.code;
      }
      progress?.count(result);
      await progress?.beforeOutput();
      await out.write((flags.json ? jsonLine(result) : textLine(result, colors)) + "\n");
      await progress?.maybeDraw();
    }
  } finally {
    await progress?.clear();
    ctx.setProgress(undefined);
    client.close();
    inputs.close();
  }
  return configuration ?? (unknown ? "unknown" : absent ? "absent" : "ok");
}

/** `regkit exists REF... | --from-file FILE|-`. */
export const EXISTS: Command = {
  name: "exists",
  args: "REF... | --from-file FILE|-",
  summary: "check that images exist, one line per input",
  usage: ["regkit exists [flags] REF...", "regkit exists [flags] --from-file FILE|-"],
  description: `Checks that images exist. Prints one line per input, in input order:
  present <digest> <ref>
  absent <ref>
  unknown <ref> <CODE>: <message>

An invalid reference gives "unknown <ref> INVALID_REFERENCE: …" and the rest still run.
On a terminal, a progress line is shown on stderr (not with --quiet).`,
  flags: {
    "from-file": "read references from FILE or standard input (-), one per line;\n" +
      "blank lines and lines starting with # are skipped",
    json: `print JSON Lines: {"reference","status","digest"?,"code"?,"message"?}`,
    concurrency: true,
  },
  exit: "Exit code: 0 all present, 1 some absent and none unknown, 3 some unknown,\n" +
    "2 usage or configuration error (also an answer unknown for a configuration reason).",
  run,
};
