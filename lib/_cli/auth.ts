/**
 * The credential commands: `auth explain`, `login` and `logout`.
 *
 * @module
 */

import {
  type CredentialExplanation,
  defaultLoginAuthFile,
  parseRegistry,
  removeCredentials,
  storeCredentials,
} from "../../mod.ts";
import {
  checkOne,
  type Command,
  type Context,
  type ExplicitCredentials,
  makeClient,
} from "./command.ts";
import { CliError, type Outcome, usage } from "./exit_codes.ts";
import { oneLine } from "./io.ts";

const q = JSON.stringify;

function describeSource(e: CredentialExplanation): string {
  const s = e.source;
  switch (s.type) {
    case "explicit":
      return "explicit (--username and password)";
    case "file":
      return `auth file ${q(s.path ?? "")}, key ${q(s.key ?? "")}`;
    case "helper":
      return `credential helper ${q(`docker-credential-${s.helper ?? ""}`)}${
        s.key === undefined ? " (credsStore)" : `, key ${q(s.key)}`
      }${s.path === undefined ? "" : `, named in ${q(s.path)}`}`;
    default:
      return "anonymous (no credentials found)";
  }
}

function explanationLines(e: CredentialExplanation): string[] {
  const lines = [
    `reference: ${e.reference}`,
    `registry:  ${e.registry}`,
    `source:    ${describeSource(e)}`,
  ];
  if (e.kind !== undefined) lines.push(`kind:      ${e.kind}`);
  if (e.username !== undefined) lines.push(`username:  ${e.username}`);
  lines.push(
    `searched:  ${e.searched.length === 0 ? "(none)" : e.searched.map((p) => q(p)).join(", ")}`,
  );
  if (e.skipped.length === 0) {
    lines.push("skipped:   (none)");
  } else {
    lines.push("skipped:");
    for (const s of e.skipped) lines.push(`  ${s.candidate}: ${s.reason}`);
  }
  return lines.map(oneLine);
}

/** `regkit auth explain REF`. */
export const AUTH: Command = {
  name: "auth",
  args: "explain REF",
  summary: "show where credentials for REF come from",
  usage: ["regkit auth explain [flags] REF"],
  description: `Shows where credentials for REF come from (explicit flags, an auth file and key,
a credential helper, or anonymous), the username, the auth files read, and every
skipped candidate with the reason. Never prints a secret.`,
  flags: { json: "print the explanation as JSON" },
  exit: {
    ok: "explained",
    only: ["INVALID_REFERENCE", "AUTH_FILE_INVALID", "INVALID_CONFIG", "CREDENTIAL_HELPER_FAILED"],
  },
  async run(ctx: Context): Promise<Outcome> {
    const [sub, ...rest] = ctx.positionals;
    if (sub !== "explain") {
      throw usage(
        sub === undefined
          ? `"auth" needs a subcommand: explain; see "regkit help auth"`
          : `Unknown subcommand "auth ${sub}"; see "regkit help auth"`,
      );
    }
    checkOne("auth explain", { positionals: rest, noun: "reference" });
    await using client = await makeClient(ctx);
    const e = await client.explainCredentials(rest[0]);
    await ctx.out.write(
      ctx.flags.json ? JSON.stringify(e, null, 2) + "\n" : explanationLines(e).join("\n") + "\n",
    );
    return "ok";
  },
};

/** The auth file `login` and `logout` write, as podman picks it. */
function authFileToWrite(ctx: Context, action: string): string {
  const path = defaultLoginAuthFile({
    ...(ctx.flags.authfile === undefined ? {} : { authFile: ctx.flags.authfile }),
    env: ctx.io.env,
  });
  if (path === undefined) {
    throw new CliError(
      "INVALID_CONFIG",
      `Cannot ${action}: no auth file to write; pass --authfile or set $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR or $HOME`,
    );
  }
  return path;
}

const NO_TERMINAL = "standard input is not a terminal to prompt on";

/**
 * The username and password to log in with: from the flags, else asked for on
 * the terminal (the password without echo), as `docker login` does.
 */
function loginCredentials(ctx: Context): ExplicitCredentials {
  let username = ctx.flags.username;
  let password = ctx.password;
  if (username === "") throw usage(`"login" needs a non-empty --username`);
  if (username !== undefined && password !== undefined) return { username, password };
  if (!ctx.io.isTerminal("stdin")) {
    throw usage(
      username === undefined
        ? `"login" needs --username and --password-stdin (${NO_TERMINAL}); see "regkit help login"`
        : `"login" needs a password: pass --password-stdin (${NO_TERMINAL}); see "regkit help login"`,
    );
  }
  username ??= ctx.io.prompt("Username:", { secret: false })?.trim() ?? "";
  if (username === "") throw usage(`"login" needs a username`);
  password ??= ctx.io.prompt("Password:", { secret: true }) ?? "";
  if (password === "") throw usage(`"login" needs a password: the password entered is empty`);
  return { username, password };
}

/** `regkit login REGISTRY`. */
export const LOGIN: Command = {
  name: "login",
  args: "REGISTRY",
  summary: "verify credentials, then store them in the auth file",
  usage: [
    "regkit login [flags] REGISTRY",
    `printf '%s' "$PASSWORD" | regkit login --username USER --password-stdin REGISTRY`,
  ],
  description: `Verifies the credentials against REGISTRY (host[:port][/namespace]) as docker login
does (GET /v2/ with Basic, or a token request with no scope), then stores them in
the auth file podman uses: --authfile, else $REGISTRY_AUTH_FILE, else
$XDG_RUNTIME_DIR/containers/auth.json, else
\${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json. Every other entry is kept;
the file is replaced atomically with mode 0600. Prints "Login Succeeded".
On a terminal, the username (unless --username) and the password are asked for;
otherwise --password-stdin is required.`,
  flags: {
    username: "the username (asked for on a terminal when not given)",
    "password-stdin": "read the password from standard input (one trailing newline removed)",
    password: "the password on the command line (insecure; a warning is printed)",
  },
  exit: {
    ok: "stored",
    undetermined: "credentials rejected (UNAUTHORIZED) or not verified",
  },
  async run(ctx: Context): Promise<Outcome> {
    checkOne("login", { positionals: ctx.positionals, noun: "registry" });
    const input = ctx.positionals[0];
    const { key } = parseRegistry(input);
    const path = authFileToWrite(ctx, `log in to ${q(key)}`);
    const credentials = loginCredentials(ctx);
    await using client = await makeClient(ctx, credentials);
    await storeCredentials(path, { registry: key, ...credentials }, {
      verify: () => client.verifyCredentials(input),
    });
    if (!ctx.flags.quiet) {
      await ctx.err.write(`regkit: stored credentials for ${q(key)} in ${q(path)}\n`);
    }
    await ctx.out.write("Login Succeeded\n");
    return "ok";
  },
};

/** `regkit logout REGISTRY`. */
export const LOGOUT: Command = {
  name: "logout",
  args: "REGISTRY",
  summary: "remove a registry's credentials from the auth file",
  usage: ["regkit logout [flags] REGISTRY"],
  description: `Removes REGISTRY's entry from the auth file login writes (see regkit help login),
keeping every other entry. Prints "Removed login credentials for REGISTRY".`,
  flags: {},
  exit: {
    ok: "removed",
    missing: "not logged in",
    missingCodes: ["AUTH_NOT_FOUND"],
    only: ["INVALID_REFERENCE", "AUTH_FILE_INVALID", "INVALID_CONFIG"],
  },
  async run(ctx: Context): Promise<Outcome> {
    checkOne("logout", { positionals: ctx.positionals, noun: "registry" });
    const { key } = parseRegistry(ctx.positionals[0]);
    const path = authFileToWrite(ctx, `log out of ${q(key)}`);
    if (!(await removeCredentials(path, key))) {
      throw new CliError(
        "AUTH_NOT_FOUND",
        `Cannot log out of ${q(key)}: not logged in (no entry in ${q(path)})`,
      );
    }
    await ctx.out.write(`Removed login credentials for ${key}\n`);
    return "ok";
  },
};
