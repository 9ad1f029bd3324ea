import assert from "node:assert/strict";
import { COMMANDS, findCommand } from "./commands.ts";
import { CliError, type ErrorCode, EXIT_CODES } from "./exit_codes.ts";
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
      assert.match(help, /\nExit codes:\n {2}0 {2}/);
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

Deno.test("commandHelp() lists every code a command can end with, from the exit table (#11 item 29)", async (t) => {
  const codes = Object.keys(EXIT_CODES) as ErrorCode[];
  for (const command of COMMANDS) {
    await t.step(command.name, () => {
      const help = commandHelp(command).replace(/\s+/g, " ");
      for (const code of command.exit.missingCodes ?? []) {
        assert.equal(EXIT_CODES[code], 1, `${command.name}: ${code} does not exit 1`);
        assert.match(help, new RegExp(`\\b1 [^]*\\b${code}\\b[^]* 2 `), `${command.name}: ${code}`);
      }
      const possible = command.exit.only === undefined
        ? codes.filter((c) => EXIT_CODES[c] !== 1)
        : ["USAGE", "INTERNAL", ...command.exit.only];
      for (const code of possible) {
        assert.match(help, new RegExp(`\\b${code}\\b`), `${command.name} help lacks ${code}`);
      }
    });
  }
  for (const name of ["digest", "manifest", "inspect"]) {
    const help = commandHelp(findCommand(name));
    for (
      const code of ["MANIFEST_UNKNOWN", "NAME_UNKNOWN", "PLATFORM_NOT_FOUND", "INVALID_PLATFORM"]
    ) {
      assert.ok(help.includes(code), `${name} help lacks ${code}`);
    }
  }
});
