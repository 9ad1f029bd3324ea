/**
 * Runs the CLI in-process through `main(args, io)`, keeping what it writes.
 *
 * @module
 */
import { main } from "../cli.ts";
import type { CliIo } from "../lib/_cli/io.ts";

const decoder = new TextDecoder();

/** What one run of the CLI ended with and wrote. */
export interface CliRun {
  /** The exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** A writer that keeps what it is given. */
function keeper(): { write(p: Uint8Array): Promise<number>; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    write: (p) => (chunks.push(p.slice()), Promise.resolve(p.length)),
    text: () => chunks.map((c) => decoder.decode(c)).join(""),
  };
}

/**
 * Runs `main(args)` with no environment (so no auth file is found), no
 * terminal and an empty stdin, unless `io` gives them.
 *
 * @param args The arguments.
 * @param io Overrides.
 * @returns The exit code and the output.
 */
export async function runCli(args: readonly string[], io: CliIo = {}): Promise<CliRun> {
  const stdout = keeper();
  const stderr = keeper();
  const code = await main([...args], {
    env: () => undefined,
    isTerminal: () => false,
    stdin: new Blob([]).stream(),
    ...io,
    stdout: io.stdout ?? stdout,
    stderr,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
