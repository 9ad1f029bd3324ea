/**
 * `regkit exists`: one answer line per reference, in input order, streamed
 * from arguments, a file or standard input.
 *
 * @module
 */

import { green, red, yellow } from "@std/fmt/colors";
import type { ExistsResult } from "../../mod.ts";
import { bulkExit, runBulk } from "./bulk.ts";
import type { Command, Context } from "./command.ts";
import type { Outcome } from "./exit_codes.ts";
import { integerFlag } from "./flags.ts";
import { oneLine, withoutCode } from "./io.ts";

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
        oneLine(withoutCode(result.message, result.code))
      }`;
  }
}

async function run(ctx: Context): Promise<Outcome> {
  const concurrency = ctx.flags.concurrency === undefined
    ? DEFAULT_CONCURRENCY
    : integerFlag("concurrency", ctx.flags.concurrency, { min: 1, max: 1024 });
  return await runBulk<ExistsResult>(ctx, {
    name: "exists",
    labels: ["present", "absent", "unknown"],
    results: (client, references) => client.existsMany(references, { concurrency }),
    format: (result, colors) => ctx.flags.json ? jsonLine(result) : textLine(result, colors),
    missing: (result) => result.status === "absent",
  });
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
  exit: bulkExit({ ok: "every answer present", missing: "some answer absent and none unknown" }),
  run,
};
