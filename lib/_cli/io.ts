/**
 * Where the CLI reads and writes: the injectable streams of `main(args, io)`,
 * serialised output with partial writes, terminal prompts, and input lines.
 *
 * @module
 */

import { promptSecret } from "@std/cli/prompt-secret";
import { TextLineStream } from "@std/streams/text-line-stream";
import { permittedEnv } from "../../mod.ts";

/** A byte sink such as `Deno.stdout`: `write` may write part of `p` and says how much. */
export interface CliWriter {
  /**
   * Writes bytes.
   *
   * @param p The bytes.
   * @returns How many bytes were written.
   */
  write(p: Uint8Array): Promise<number>;
}

/** Where {@linkcode main} reads and writes. Every field is optional. */
export interface CliIo {
  /**
   * Standard input (`--password-stdin`, `--from-file -`).
   * @default {Deno.stdin.readable}
   */
  stdin?: ReadableStream<Uint8Array>;
  /**
   * Standard output.
   * @default {Deno.stdout}
   */
  stdout?: CliWriter;
  /**
   * Standard error.
   * @default {Deno.stderr}
   */
  stderr?: CliWriter;
  /**
   * Reads an environment variable (`NO_COLOR`, auth-file locations).
   * @default {permittedEnv} (only variables whose `env` permission is granted)
   */
  env?: (name: string) => string | undefined;
  /**
   * Whether a stream is a terminal (progress line, colors, login prompts).
   * @default {(stream) => Deno[stream].isTerminal()}
   */
  isTerminal?: (stream: "stdin" | "stdout" | "stderr") => boolean;
  /**
   * Asks the user on the terminal (`login` without `--password-stdin`); `secret`
   * input is not echoed. Returns `null` when there is no answer.
   * @default {`prompt()`, or `promptSecret()` from `@std/cli` for secrets}
   */
  prompt?: (message: string, options: { secret: boolean }) => string | null;
}

/** {@linkcode CliIo} with its defaults applied; `stdin` is only touched when read. */
export function resolveIo(io: CliIo): Required<CliIo> {
  return {
    get stdin() {
      return io.stdin ?? Deno.stdin.readable;
    },
    stdout: io.stdout ?? Deno.stdout,
    stderr: io.stderr ?? Deno.stderr,
    env: io.env ?? permittedEnv,
    isTerminal: io.isTerminal ?? ((stream) => Deno[stream].isTerminal()),
    prompt: io.prompt ??
      ((message, { secret }) => secret ? promptSecret(message, { mask: "" }) : prompt(message)),
  };
}

const encoder = new TextEncoder();

/** Serialises writes to one stream; handles partial writes. */
export class Output {
  readonly #writer: CliWriter;
  #chain: Promise<void> = Promise.resolve();

  constructor(writer: CliWriter) {
    this.#writer = writer;
  }

  write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const next = this.#chain.then(async () => {
      let offset = 0;
      while (offset < bytes.byteLength) {
        offset += await this.#writer.write(bytes.subarray(offset));
      }
    });
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Resolves once every write so far is done (log records are written in the background). */
  flush(): Promise<void> {
    return this.#chain;
  }
}

/** C0 and C1 controls, DEL, and the Unicode line separators and bidi overrides. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes what a terminal would act on (ESC sequences that move the cursor,
 * clear the screen or write the clipboard; other controls; bidi overrides)
 * as `\xNN` / `\u{NNNN}`, so registry-supplied text cannot forge output.
 *
 * @param text Text from a registry, a file or an argument.
 * @returns The text with every control character escaped.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

/** Keeps a message or registry-supplied text on one output line, controls escaped. */
export function oneLine(text: string): string {
  return escapeControls(String(text).replace(/[\r\n]+/g, " "));
}

/**
 * A message without its code repeated: a registry's error code that is the
 * line's own code (`registry answered 404 NAME_UNKNOWN: …` before
 * `(NAME_UNKNOWN)`) is said once, at the end.
 *
 * @param message The message.
 * @param code The code the line ends with (or starts with, for `exists`).
 * @returns The message.
 */
export function withoutCode(message: string, code: string): string {
  return message.replace(new RegExp(`( answered \\d{3}) ${code}(?=:|$)`), "$1");
}

/**
 * The references in a stream, one per line, as they arrive: surrounding
 * blanks are trimmed; blank lines and lines starting with `#` are skipped.
 */
export async function* referenceLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const lines = stream.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream());
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    yield line;
  }
}

/** All of a stream, as text. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** Why a file could not be read, for `Cannot read "FILE": <why>`. */
export function describeReadError(error: unknown, permission = "not permitted"): string {
  if (error instanceof Deno.errors.NotFound) return "not found";
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return permission;
  }
  if (error instanceof Deno.errors.IsADirectory) return "a directory, not a file";
  if (error instanceof TypeError) return "not text";
  return "cannot be read";
}
