/**
 * Help text, derived from the command list, the flag definitions and the
 * exit-code table: nothing here lists a command, a flag or a code by hand.
 *
 * @module
 */

import { VERSION } from "../../mod.ts";
import type { Command } from "./command.ts";
import { type ErrorCode, EXIT_CODES, type ExitHelp } from "./exit_codes.ts";
import { flagHelp, type FlagName, globalFlagHelp } from "./flags.ts";

const WIDTH = 88;

/** Words wrapped at {@linkcode WIDTH}, continuation lines indented by `indent`. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join("\n" + " ".repeat(indent));
}

function codesExiting(exit: 1 | 2 | 3, only?: readonly ErrorCode[]): string {
  return (Object.keys(EXIT_CODES) as ErrorCode[]).filter((c) =>
    EXIT_CODES[c] === exit &&
    (only === undefined || c === "USAGE" || c === "INTERNAL" || only.includes(c))
  ).sort().join(", ");
}

/**
 * A command's exit-code section: each code it can end with, from the one table.
 *
 * @param exit What the codes mean for the command.
 * @returns The text.
 */
export function commandExitHelp(exit: ExitHelp): string {
  const { only } = exit;
  const rows: Array<[number, string]> = [[0, exit.ok]];
  if (exit.missing !== undefined) {
    const codes = [...exit.missingCodes ?? []].sort().join(", ");
    rows.push([1, codes === "" ? exit.missing : `${exit.missing} (${codes})`]);
  }
  rows.push([
    2,
    `usage or configuration error (${codesExiting(2, only)})${
      exit.configuration === undefined ? "" : `; ${exit.configuration}`
    }`,
  ]);
  rows.push([3, `${exit.undetermined ?? "undetermined"} (${codesExiting(3, only)})`]);
  return "Exit codes:\n" + rows.map(([code, text]) => `  ${code}  ${wrap(text, 5)}`).join("\n");
}

/** The exit-code section, its code lists taken from the table. */
function exitCodeHelp(): string {
  const rows: Array<[number, string]> = [
    [0, "every answer present / command succeeded"],
    [
      1,
      `at least one answer absent and none unknown; a missing image, repository or login (${
        codesExiting(1)
      })`,
    ],
    [
      2,
      `usage or configuration error (${
        codesExiting(2)
      }); for exists, also an answer unknown for a configuration reason (any of these but INVALID_REFERENCE and INVALID_PLATFORM)`,
    ],
    [
      3,
      `at least one answer could not be determined, or an internal error (${codesExiting(3)})`,
    ],
  ];
  return "Exit codes:\n" + rows.map(([code, text]) => `  ${code}  ${wrap(text, 5)}`).join("\n");
}

/**
 * `regkit --help`: the overview of every command.
 *
 * @param commands The command list.
 * @returns The text.
 */
export function overview(commands: readonly Command[]): string {
  const synopses = commands.map((c) => [`${c.name} ${c.args}`, c.summary] as const);
  const width = Math.max(...synopses.map(([synopsis]) => synopsis.length)) + 2;
  return `regkit ${VERSION}: check container images in registries, with podman/docker credentials

Usage: regkit [global flags] COMMAND [flags] ARGS

Commands:
${synopses.map(([synopsis, summary]) => `  ${synopsis.padEnd(width)}${summary}`).join("\n")}

Global flags:
${globalFlagHelp()}

${exitCodeHelp()}
`;
}

/**
 * `regkit help COMMAND`, the same as `regkit COMMAND --help`.
 *
 * @param command The command.
 * @returns The text.
 */
export function commandHelp(command: Command): string {
  const [first, ...more] = command.usage;
  const flags = Object.entries(command.flags) as Array<[FlagName, string | true]>;
  return [
    [`Usage: ${first}`, ...more.map((line) => `       ${line}`)].join("\n"),
    command.description,
    ...(flags.length === 0 ? [] : [`Flags:\n${flagHelp(flags)}`]),
    commandExitHelp(command.exit),
    `Global flags: see "regkit --help".\n`,
  ].join("\n\n");
}
