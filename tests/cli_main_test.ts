/**
 * `main(args, io)` in-process, with injected streams: what needs no registry.
 */
import assert from "node:assert/strict";
import { main } from "../cli.ts";

function sink(chunks: Uint8Array[] = []) {
  return { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)) };
}

function text(chunks: Uint8Array[]): string {
  return chunks.map((c) => new TextDecoder().decode(c)).join("");
}

Deno.test("main() keeps the exit code when stderr is closed", async () => {
  const closed = { write: () => Promise.reject(new Deno.errors.BrokenPipe("stderr closed")) };
  assert.equal(await main(["frobnicate"], { stdout: sink(), stderr: closed }), 2);
  assert.equal(await main(["logout", "not a registry"], { stdout: sink(), stderr: closed }), 2);
});

Deno.test("main() login: prompts only on a terminal", async () => {
  const asked: string[] = [];
  const err: Uint8Array[] = [];
  const noTerminal = await main(["login", "quay.io"], {
    stdout: sink(),
    stderr: sink(err),
    isTerminal: () => false,
    prompt: (message) => (asked.push(message), "x"),
  });
  assert.equal(noTerminal, 2);
  assert.deepEqual(asked, [], "no prompt without a terminal");
  assert.match(text(err), /--password-stdin .*not a terminal.*\(USAGE\)\n$/);

  const askedOnTerminal: string[] = [];
  const empty: Uint8Array[] = [];
  const emptyPassword = await main(["--authfile", "/nonexistent/auth.json", "login", "quay.io"], {
    stdout: sink(),
    stderr: sink(empty),
    isTerminal: (stream) => stream === "stdin",
    prompt: (
      message,
      { secret },
    ) => (askedOnTerminal.push(`${message} ${secret}`), secret ? "" : "me"),
  });
  assert.equal(emptyPassword, 2);
  assert.deepEqual(askedOnTerminal, ["Username: false", "Password: true"]);
  assert.match(text(empty), /password entered is empty \(USAGE\)\n$/);
});

Deno.test("main() --version prints deno.json's version", async () => {
  const out: Uint8Array[] = [];
  assert.equal(await main(["--version"], { stdout: sink(out) }), 0);
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(text(out), `regkit ${config.version}\n`);
});
