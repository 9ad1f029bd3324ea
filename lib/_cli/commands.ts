/**
 * The one list of commands. Help, flag checks and dispatch all derive from
 * it: adding a command is one command object and one line here.
 *
 * @module
 */

import { AUTH, LOGIN, LOGOUT } from "./auth.ts";
import type { Command, Context } from "./command.ts";
import { type Outcome, usage } from "./exit_codes.ts";
import { EXISTS } from "./exists.ts";
import { commandHelp, overview } from "./help.ts";
import { DIGEST, INSPECT, MANIFEST, TAGS } from "./image.ts";
import { ARTIFACTS, SIGNED, TRIANGULATE } from "./signatures.ts";

/** `regkit help [COMMAND]`. */
const HELP: Command = {
  name: "help",
  args: "[COMMAND]",
  summary: "show help for a command",
  usage: ["regkit help [COMMAND]"],
  description: "Shows help for COMMAND, or the overview.",
  flags: {},
  exit: { ok: "shown", only: [] },
  async run(ctx: Context): Promise<Outcome> {
    if (ctx.positionals.length > 1) {
      throw usage(`"help" takes one command, got ${ctx.positionals.length}; see "regkit --help"`);
    }
    const topic = ctx.positionals[0];
    await ctx.out.write(topic === undefined ? overview(COMMANDS) : commandHelp(findCommand(topic)));
    return "ok";
  },
};

/** Every command, in the order the overview lists them. */
export const COMMANDS: readonly Command[] = [
  EXISTS,
  DIGEST,
  MANIFEST,
  INSPECT,
  TAGS,
  SIGNED,
  ARTIFACTS,
  TRIANGULATE,
  AUTH,
  LOGIN,
  LOGOUT,
  HELP,
];

/**
 * The command named `name`.
 *
 * @param name The word after the global flags.
 * @returns The command.
 * @throws {CliError} `USAGE` when there is none by that name.
 */
export function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    throw usage(`Unknown command ${JSON.stringify(name)}; see "regkit --help"`);
  }
  return command;
}
