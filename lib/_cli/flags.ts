/**
 * Every flag, defined once: its type, its help text, whether every command
 * takes it. The parsed-flags type, the `@std/cli` `parseArgs` options, the
 * help sections and the per-command checks all derive from {@linkcode FLAGS}.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { usage } from "./exit_codes.ts";

/** One flag's definition. */
interface FlagSpec {
  /** `boolean` flags take no value; `string` flags always take the next argument. */
  readonly type: "boolean" | "string";
  /** Whether the flag may repeat (its values are collected). */
  readonly multiple?: boolean;
  /** A one-letter alias (`-q`). */
  readonly short?: string;
  /** The value's placeholder in help, e.g. `FILE`. */
  readonly value?: string;
  /** Whether every command takes the flag. */
  readonly global?: boolean;
  /** The help text (a command may word it for itself). */
  readonly help: string;
}

/** The flags, in the order the global help lists them. */
export const FLAGS = {
  authfile: {
    type: "string",
    global: true,
    value: "FILE",
    help: "read credentials only from FILE (login/logout write it)",
  },
  username: {
    type: "string",
    global: true,
    value: "USER",
    help: "username for every registry, with --password-stdin",
  },
  "creds-for": {
    type: "string",
    global: true,
    value: "HOST",
    help: "send --username and the password only to registry HOST; others resolve as usual",
  },
  "password-stdin": {
    type: "boolean",
    global: true,
    help: "read the password from standard input",
  },
  password: {
    type: "string",
    global: true,
    value: "PASS",
    help: "the password (insecure: prefer --password-stdin)",
  },
  "ca-cert": {
    type: "string",
    multiple: true,
    global: true,
    value: "FILE",
    help: "also trust this PEM CA certificate (repeatable)",
  },
  "insecure-registry": {
    type: "string",
    multiple: true,
    global: true,
    value: "HOST",
    help: "allow plain HTTP for HOST (repeatable; loopback always may)",
  },
  retries: {
    type: "string",
    global: true,
    value: "N",
    help: "retries after temporary failures (default 5)",
  },
  timeout: {
    type: "string",
    global: true,
    value: "SECONDS",
    help: "time limit per HTTP attempt (default 30)",
  },
  "log-level": {
    type: "string",
    global: true,
    value: "LEVEL",
    help: "DEBUG, INFO, WARNING or ERROR (default WARNING), on stderr",
  },
  quiet: {
    type: "boolean",
    short: "q",
    global: true,
    help: "no progress line, only errors on stderr",
  },
  help: {
    type: "boolean",
    short: "h",
    global: true,
    help: "show help (also: regkit help COMMAND)",
  },
  version: { type: "boolean", global: true, help: "print the version" },
  json: { type: "boolean", help: "print JSON" },
  "from-file": {
    type: "string",
    value: "FILE|-",
    help: "read references from FILE or standard input (-), one per line",
  },
  concurrency: {
    type: "string",
    value: "N",
    help: "checks running at once, 1 to 1024 (default 8)",
  },
  "max-tags": {
    type: "string",
    value: "N",
    help: "most tags listed before RESPONSE_TOO_LARGE (default 1000000)",
  },
  "no-tags": { type: "boolean", help: "do not list the repository's tags (RepoTags)" },
  raw: { type: "boolean", help: "print the manifest as served, bytes unchanged" },
  config: { type: "boolean", help: "print the config blob as served, bytes unchanged" },
  platform: {
    type: "string",
    value: "OS/ARCH[/VARIANT]",
    help: "resolve an image index to this platform",
  },
  type: {
    type: "string",
    value: "TYPE",
    help: "signature (default), attestation, sbom, referrers or digest",
  },
  platforms: {
    type: "string",
    value: "index|all|OS/ARCH[,…]",
    help: "which manifests of an index to examine (default index)",
  },
  kind: {
    type: "string",
    value: "KIND[,…]",
    help: "signature, attestation, sbom, other (default all)",
  },
  "signature-repo": {
    type: "string",
    value: "REPO",
    help: "where signatures are kept, when not the image's repository (COSIGN_REPOSITORY)",
  },
  key: {
    type: "string",
    multiple: true,
    value: "FILE",
    help: "a public key (PEM, cosign.pub); signed then means verified (repeatable)",
  },
  identity: {
    type: "string",
    value: "REF",
    help: "the docker-reference the signature must be for",
  },
  annotation: {
    type: "string",
    multiple: true,
    value: "K=V",
    help: "an annotation the signature payload must carry (repeatable)",
  },
} as const satisfies Record<string, FlagSpec>;

/** A flag's name, without `--`. */
export type FlagName = keyof typeof FLAGS;

type ValueOf<S extends FlagSpec> = S["type"] extends "boolean" ? boolean
  : S extends { multiple: true } ? string[]
  : string;

/** Parsed flags: only those given are set. */
export type Flags = { -readonly [K in FlagName]?: ValueOf<(typeof FLAGS)[K]> };

/** The flags a command takes beyond the global ones, with its own help text (`true`: the default). */
export type CommandFlags = Readonly<Partial<Record<FlagName, string | true>>>;

const NAMES = Object.keys(FLAGS) as FlagName[];
const SPECS: Readonly<Record<FlagName, FlagSpec>> = FLAGS;
const BY_SHORT = new Map(NAMES.flatMap((n) => {
  const short = SPECS[n].short;
  return short === undefined ? [] : [[short, n] as const];
}));

/** Whether every command takes `name`. */
export function isGlobalFlag(name: FlagName): boolean {
  return SPECS[name].global === true;
}

/** The flag an argument names (`--name`, `--name=…`, `-q`), if it names one. */
function flagOf(arg: string): FlagName | undefined {
  const long = /^--([^=]+)/.exec(arg)?.[1];
  if (long !== undefined) return Object.hasOwn(FLAGS, long) ? long as FlagName : undefined;
  return /^-[^-]$/.test(arg) ? BY_SHORT.get(arg[1]) : undefined;
}

/**
 * Writes every known flag as `--name=value`: a string flag takes the next
 * argument even when it starts with `-` (`--from-file -`; `--retries -1` is
 * then a range error), a missing value is caught, a boolean flag never takes
 * the next argument (`--json true` leaves `true` a positional) and refuses
 * `=value`.
 */
function attachValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const shorts = /^-([A-Za-z]{2,})$/.exec(arg)?.[1].split("").map((c) => BY_SHORT.get(c));
    if (shorts?.every((n) => n !== undefined && SPECS[n].type === "boolean")) {
      out.push(...shorts.map((n) => `--${n}=true`)); // -qh
      continue;
    }
    const name = flagOf(arg);
    if (name === undefined) {
      out.push(arg);
      continue;
    }
    const spec = SPECS[name];
    const inline = arg.startsWith("--") && arg.includes("=");
    if (spec.type === "boolean") {
      if (inline) throw usage(`--${name} takes no value; see "regkit --help"`);
      // `=true`, so that a following "true" or "false" stays a positional. parseArgs reads
      // `--no-X=v` as X negated: a name that starts with "no-" gets one more "no-" to strip.
      out.push(`--${name.startsWith("no-") ? "no-" : ""}${name}=true`);
    } else if (inline) {
      out.push(arg);
    } else {
      const next = args[i + 1];
      if (next === undefined || next === "--" || flagOf(next) !== undefined) {
        throw usage(`--${name} needs a value (--${name} ${spec.value}); see "regkit --help"`);
      }
      out.push(`--${name}=${next}`);
      i++;
    }
  }
  return out;
}

/**
 * Parses flags and positionals with `@std/cli` `parseArgs`. Flags may come
 * before or after the command; `--` ends them.
 *
 * @param args The arguments, without the program name.
 * @returns The flags given and the positionals, as strings.
 * @throws {CliError} `USAGE` for an unknown flag or a missing or unexpected value.
 */
export function parseFlags(args: readonly string[]): { flags: Flags; positionals: string[] } {
  const positionals: string[] = [];
  const parsed = parseArgs(attachValues(args), {
    boolean: NAMES.filter((n) => SPECS[n].type === "boolean"),
    string: NAMES.filter((n) => SPECS[n].type === "string"),
    collect: NAMES.filter((n) => SPECS[n].multiple),
    alias: Object.fromEntries([...BY_SHORT].map(([short, name]) => [name, short])),
    unknown: (arg, key) => {
      if (key === undefined) {
        positionals.push(arg); // kept as given, never turned into a number
        return false;
      }
      const flag = key.length === 1 ? `-${key}` : `--${key}`;
      throw usage(`Unknown flag ${JSON.stringify(flag)}; see "regkit --help"`);
    },
  });
  // Everything after `--` is a positional; parseArgs appends those as given.
  positionals.push(...parsed._.map(String));
  const flags: Flags = {};
  const target = flags as Record<FlagName, string | string[] | boolean>;
  for (const name of NAMES) {
    const value: unknown = parsed[name];
    if (SPECS[name].type === "boolean") {
      if (value === true) target[name] = true;
    } else if (Array.isArray(value)) {
      if (value.length > 0) target[name] = value.map(String);
    } else if (value !== undefined) {
      target[name] = String(value);
    }
  }
  return { flags, positionals };
}

/**
 * The flags given that `allowed` (with the global ones) does not include.
 *
 * @param flags The parsed flags.
 * @param allowed The command's own flags.
 * @returns The offending names.
 */
export function unexpectedFlags(flags: Flags, allowed: CommandFlags): FlagName[] {
  return (Object.keys(flags) as FlagName[]).filter((name) =>
    !isGlobalFlag(name) && !Object.hasOwn(allowed, name)
  );
}

/**
 * An integer flag's value.
 *
 * @param name The flag, for the message.
 * @param value The text given.
 * @param range `min` and `max`, the smallest and largest value allowed.
 * @returns The number.
 * @throws {CliError} `USAGE` naming the flag and the range.
 */
export function integerFlag(
  name: FlagName,
  value: string,
  { min, max }: { min: number; max: number },
): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(
      `Cannot use --${name} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/**
 * Help lines for flags: `  --name VALUE   text`, aligned.
 *
 * @param entries The flags and their text (`true`: the flag's own help).
 * @returns The lines, joined.
 */
export function flagHelp(entries: ReadonlyArray<readonly [FlagName, string | true]>): string {
  const rows = entries.map(([name, text]) => {
    const spec = SPECS[name];
    const syntax = `${spec.short === undefined ? "" : `-${spec.short}, `}--${name}${
      spec.value === undefined ? "" : ` ${spec.value}`
    }`;
    return [syntax, text === true ? spec.help : text] as const;
  });
  const width = Math.max(...rows.map(([syntax]) => syntax.length)) + 3;
  return rows.map(([syntax, text]) =>
    `  ${syntax.padEnd(width)}${text.replaceAll("\n", "\n" + " ".repeat(width + 2))}`
  ).join("\n");
}

/** Help lines for the global flags. */
export function globalFlagHelp(): string {
  return flagHelp(NAMES.filter(isGlobalFlag).map((name) => [name, true] as const));
}
