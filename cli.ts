/**
 * The `regkit` command line: checks that container images exist, prints
 * digests, manifests, image details and tags, explains where credentials come
 * from, and logs in and out, resolving credentials as podman and docker do.
 * Output and exit codes are a contract for scripts and release pipelines.
 *
 * ```sh ignore
 * deno run --allow-net --allow-env=HOME,REGISTRY_AUTH_FILE,XDG_RUNTIME_DIR,XDG_CONFIG_HOME,DOCKER_CONFIG,NO_COLOR \
 *   --allow-read --allow-run --allow-write \
 *   jsr:@regkit/regkit/cli exists quay.io/org/app:1.2 quay.io/org/app:1.3
 * # present sha256:… quay.io/org/app:1.2
 * # absent quay.io/org/app:1.3
 * ```
 *
 * Exit codes (one table, produced by one function from the outcome or error code):
 *
 * | code | meaning |
 * | ---- | ------- |
 * | 0 | every answer is `present` / the command succeeded |
 * | 1 | at least one answer is `absent` and none is `unknown`; `digest`, `manifest`, `inspect`, `tags` of a missing image or repository (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `PLATFORM_NOT_FOUND`); `logout` without an entry (`AUTH_NOT_FOUND`) |
 * | 2 | usage or configuration error: bad flag or argument (`USAGE`), unreadable or invalid auth file (`AUTH_FILE_INVALID`), CA file or input file (`INVALID_CONFIG`), invalid reference or platform for a single-reference command (`INVALID_REFERENCE`, `INVALID_PLATFORM`), plain-HTTP registry not allowed or an https→http redirect refused (`INSECURE_REGISTRY`), untrusted TLS certificate (`TLS_UNTRUSTED`: pass the registry's CA with `--ca-cert FILE`) |
 * | 3 | at least one answer could not be determined: `UNAUTHORIZED`, `DENIED`, `TOOMANYREQUESTS`, `NETWORK`, `TIMEOUT`, token and digest failures, and unexpected internal errors (`INTERNAL`) |
 *
 * With `exists`, an invalid reference is an answer (`unknown <ref> INVALID_REFERENCE: …`),
 * so it counts as undetermined (3) while the other references still run; an answer that is
 * unknown because of configuration (`AUTH_FILE_INVALID`, `INVALID_CONFIG`,
 * `INSECURE_REGISTRY`, `TLS_UNTRUSTED`) makes the exit code 2.
 *
 * Errors go to stderr as `regkit: <message> (<CODE>)`, never with a stack
 * trace or a secret. When the reader of stdout goes away (`regkit exists … | head`),
 * regkit stops quietly with status 141, as tools killed by SIGPIPE do.
 *
 * @example Run the CLI in-process
 * ```ts
 * import { main } from "@regkit/regkit/cli";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const stdout = { write: (p: Uint8Array) => (chunks.push(p), Promise.resolve(p.length)) };
 * assert.equal(await main(["--version"], { stdout }), 0);
 * assert.equal(new TextDecoder().decode(chunks[0]), "regkit 0.1.0\n");
 * ```
 *
 * @module
 */

import { VERSION } from "./mod.ts";
import { COMMANDS, findCommand } from "./lib/_cli/commands.ts";
import { EXIT_BROKEN_PIPE, exitCodeFor, usage } from "./lib/_cli/exit_codes.ts";
import { commandHelp, overview } from "./lib/_cli/help.ts";
import { checkFlags, failureOf, readPassword } from "./lib/_cli/invocation.ts";
import { type CliIo, oneLine, Output, resolveIo, withoutCode } from "./lib/_cli/io.ts";
import { parseFlags } from "./lib/_cli/flags.ts";
import type { Progress } from "./lib/_cli/progress.ts";

export type { CliIo, CliWriter } from "./lib/_cli/io.ts";

/**
 * Runs the `regkit` command line.
 *
 * @example
 * ```ts
 * import { main } from "@regkit/regkit/cli";
 * import assert from "node:assert/strict";
 * const sink = { write: (p: Uint8Array) => Promise.resolve(p.length) };
 * assert.equal(await main(["exists"], { stdout: sink, stderr: sink }), 2);
 * ```
 * @param args The arguments, without the program name (`Deno.args`).
 * @param io Standard streams, environment, terminal detection and prompts (for tests).
 * @returns The exit code: 0 success/all present, 1 absent, 2 usage or
 *   configuration error, 3 undetermined, 141 stdout closed early (see the module doc).
 */
export async function main(args: string[], io: CliIo = {}): Promise<number> {
  const streams = resolveIo(io);
  const out = new Output(streams.stdout);
  const err = new Output(streams.stderr);
  let progress: Progress | undefined;
  const beforeStderr = async () => await progress?.clear();
  try {
    const { flags, positionals } = parseFlags(args);
    if (flags.version) {
      await out.write(`regkit ${VERSION}\n`);
      return 0;
    }
    const [name, ...rest] = positionals;
    if (name === undefined) {
      await (flags.help ? out : err).write(overview(COMMANDS));
      if (flags.help) return 0;
      throw usage(`A command is required; see "regkit --help"`);
    }
    const command = findCommand(name);
    if (flags.help) {
      await out.write(commandHelp(command));
      return 0;
    }
    checkFlags(command, flags);
    const password = await readPassword(command, { flags, stdin: streams.stdin, err });
    const outcome = await command.run({
      flags,
      positionals: rest,
      out,
      err,
      io: streams,
      ...(password === undefined ? {} : { password }),
      beforeStderr,
      setProgress: (p) => progress = p,
    });
    await err.flush();
    return exitCodeFor(outcome);
  } catch (error) {
    const failure = failureOf(error);
    if (failure === "broken pipe") return EXIT_BROKEN_PIPE;
    try {
      await beforeStderr();
      await err.write(
        `regkit: ${oneLine(withoutCode(failure.message, failure.code))} (${failure.code})\n`,
      );
      await err.flush();
    } catch {
      // stderr is gone: nothing left to tell, and the exit code still says what happened
    }
    return exitCodeFor(failure.code);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
