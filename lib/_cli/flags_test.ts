import assert from "node:assert/strict";
import { CliError } from "./exit_codes.ts";
import { flagHelp, FLAGS, integerFlag, parseFlags, unexpectedFlags } from "./flags.ts";

Deno.test("parseFlags() parses with node-like value rules", async (t) => {
  const cases: Array<[string, string[], ReturnType<typeof parseFlags>]> = [
    ["nothing", [], { flags: {}, positionals: [] }],
    ["flags before and after the command", ["--quiet", "exists", "--json", "a"], {
      flags: { quiet: true, json: true },
      positionals: ["exists", "a"],
    }],
    ["short aliases", ["-q", "-h", "digest"], {
      flags: { quiet: true, help: true },
      positionals: ["digest"],
    }],
    ["combined short aliases", ["-qh"], { flags: { quiet: true, help: true }, positionals: [] }],
    ["a value that is a dash", ["exists", "--from-file", "-"], {
      flags: { "from-file": "-" },
      positionals: ["exists"],
    }],
    ["a value that starts with a dash", ["--retries", "-1"], {
      flags: { retries: "-1" },
      positionals: [],
    }],
    ["--name=value", ["--timeout=2.5", "--authfile=a=b"], {
      flags: { timeout: "2.5", authfile: "a=b" },
      positionals: [],
    }],
    ["an empty value", ["--authfile", "", "x"], { flags: { authfile: "" }, positionals: ["x"] }],
    ["repeatable flags collect", ["--ca-cert", "a.pem", "--ca-cert=b.pem"], {
      flags: { "ca-cert": ["a.pem", "b.pem"] },
      positionals: [],
    }],
    ["the last of a repeated single flag wins", ["--platform", "a/b", "--platform", "c/d"], {
      flags: { platform: "c/d" },
      positionals: [],
    }],
    ["positionals stay strings", ["exists", "1.50", "0x10", "1e3"], {
      flags: {},
      positionals: ["exists", "1.50", "0x10", "1e3"],
    }],
    ["a boolean does not swallow true/false", ["exists", "--json", "true"], {
      flags: { json: true },
      positionals: ["exists", "true"],
    }],
    ["a flag named no-…", ["inspect", "--no-tags", "true"], {
      flags: { "no-tags": true },
      positionals: ["inspect", "true"],
    }],
    ["-- ends the flags", ["exists", "--", "--json", "-q"], {
      flags: {},
      positionals: ["exists", "--json", "-q"],
    }],
  ];
  for (const [name, args, expected] of cases) {
    await t.step(name, () => assert.deepEqual(parseFlags(args), expected));
  }
});

Deno.test("parseFlags() refuses bad flags with USAGE", async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [["--nope"], /^Unknown flag "--nope"/],
    [["--nope=1"], /^Unknown flag "--nope"/],
    [["-x"], /^Unknown flag "-x"/],
    [["-qx"], /^Unknown flag "-x"/],
    [["--no-json"], /^Unknown flag "--no-json"/],
    [["--authfile"], /^--authfile needs a value \(--authfile FILE\)/],
    [["--authfile", "--json"], /^--authfile needs a value/],
    [["--authfile", "-q"], /^--authfile needs a value/],
    [["--authfile", "--"], /^--authfile needs a value/],
    [["--json=false"], /^--json takes no value/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      assert.throws(
        () => parseFlags(args),
        (e: unknown) => e instanceof CliError && e.code === "USAGE" && message.test(e.message),
      );
    });
  }
});

Deno.test("unexpectedFlags() allows global flags and the command's own", () => {
  const { flags } = parseFlags(["--quiet", "--json", "--platform", "linux/amd64"]);
  assert.deepEqual(unexpectedFlags(flags, { platform: true }), ["json"]);
  assert.deepEqual(unexpectedFlags(flags, { platform: true, json: "x" }), []);
});

Deno.test("integerFlag() takes integers in range only", () => {
  assert.equal(integerFlag("concurrency", " 16 ", { min: 1, max: 1024 }), 16);
  for (const bad of ["0", "1025", "-1", "1.5", "1e2", "", "0x10", "9007199254740993"]) {
    assert.throws(() => integerFlag("concurrency", bad, { min: 1, max: 1024 }), CliError, bad);
  }
});

Deno.test("flagHelp() aligns flags with their value placeholder", () => {
  assert.equal(
    flagHelp([["quiet", true], ["from-file", "read\nskip"]]),
    `  -q, --quiet          ${FLAGS.quiet.help}\n  --from-file FILE|-   read\n                       skip`,
  );
});
