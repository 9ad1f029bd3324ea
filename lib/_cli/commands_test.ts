import assert from "node:assert/strict";
import { COMMANDS, findCommand } from "./commands.ts";
import { CliError } from "./exit_codes.ts";
import { FLAGS, isGlobalFlag } from "./flags.ts";
import { commandHelp, overview } from "./help.ts";

Deno.test("COMMANDS: one object per command, names unique", () => {
  const names = COMMANDS.map((c) => c.name);
  assert.deepEqual(names, [...new Set(names)]);
  for (const name of names) assert.equal(findCommand(name).name, name);
  assert.throws(() => findCommand("frobnicate"), CliError);
  assert.throws(() => findCommand("toString"), CliError);
});

Deno.test("help derives from the command list and the flag definitions", async (t) => {
  const text = overview(COMMANDS);
  for (const command of COMMANDS) {
    await t.step(command.name, () => {
      assert.match(text, new RegExp(`^  ${command.name} .*${command.summary}$`, "m"));
      const help = commandHelp(command);
      assert.ok(help.startsWith(`Usage: regkit ${command.name}`), help);
      assert.match(help, /\nExit code: /);
      for (const flag of Object.keys(command.flags)) {
        assert.ok(Object.hasOwn(FLAGS, flag), `${command.name}: unknown flag ${flag}`);
        assert.match(help, new RegExp(`^  (-., )?--${flag}\\b`, "m"), `${command.name} --${flag}`);
      }
    });
  }
  for (const flag of Object.keys(FLAGS) as Array<keyof typeof FLAGS>) {
    if (isGlobalFlag(flag)) {
      assert.match(text, new RegExp(`^  (-., )?--${flag}\\b`, "m"), `--help lacks --${flag}`);
    } else {
      assert.ok(
        COMMANDS.some((c) => Object.hasOwn(c.flags, flag)),
        `no command takes --${flag}`,
      );
    }
  }
});
