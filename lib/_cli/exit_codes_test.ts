import assert from "node:assert/strict";
import { REGISTRY_ERROR_CODES } from "../../mod.ts";
import { type ErrorCode, EXIT_CODES, exitCodeFor, unknownAnswerExitCode } from "./exit_codes.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("EXIT_CODES classifies every RegistryErrorCode and nothing else", () => {
  const codes = Object.keys(EXIT_CODES).sort();
  assert.deepEqual(codes, [...REGISTRY_ERROR_CODES, "USAGE", "INTERNAL"].sort());
});

Deno.test("exitCodeFor() and unknownAnswerExitCode() over every code", async (t) => {
  const expected: Record<ErrorCode, [single: 1 | 2 | 3, existsAnswer: 2 | 3]> = {
    USAGE: [2, 2],
    INTERNAL: [3, 3],
    BLOB_UNKNOWN: [3, 3],
    MANIFEST_UNKNOWN: [1, 3],
    MANIFEST_INVALID: [3, 3],
    NAME_UNKNOWN: [1, 3],
    NAME_INVALID: [3, 3],
    TAG_INVALID: [3, 3],
    UNAUTHORIZED: [3, 3],
    DENIED: [3, 3],
    UNSUPPORTED: [3, 3],
    TOOMANYREQUESTS: [3, 3],
    INVALID_REFERENCE: [2, 3],
    INVALID_PLATFORM: [2, 3],
    AUTH_NOT_FOUND: [1, 3],
    AUTH_FILE_INVALID: [2, 2],
    CREDENTIAL_HELPER_FAILED: [3, 3],
    TOKEN_EXCHANGE_FAILED: [3, 3],
    REALM_REJECTED: [3, 3],
    INSECURE_REGISTRY: [2, 2],
    TLS_UNTRUSTED: [2, 2],
    DIGEST_MISMATCH: [3, 3],
    PLATFORM_NOT_FOUND: [1, 3],
    INVALID_RESPONSE: [3, 3],
    RESPONSE_TOO_LARGE: [3, 3],
    INVALID_CONFIG: [2, 2],
    NETWORK: [3, 3],
    TIMEOUT: [3, 3],
    ABORTED: [3, 3],
    UNEXPECTED_STATUS: [3, 3],
  };
  for (const code of [...REGISTRY_ERROR_CODES, "USAGE", "INTERNAL"] as ErrorCode[]) {
    await t.step(code, () => {
      assert.deepEqual([exitCodeFor(code), unknownAnswerExitCode(code)], expected[code]);
    });
  }
  await t.step("outcomes", () => {
    assert.equal(exitCodeFor("ok"), 0);
    assert.equal(exitCodeFor("absent"), 1);
    assert.equal(exitCodeFor("unknown"), 3);
  });
});

/** The rows of the exit-code table in `text` (markdown, optionally inside ` * ` doc lines). */
function exitTable(text: string): Map<number, string[]> {
  const rows = new Map<number, string[]>();
  for (const line of text.split("\n")) {
    const row = /^(?: \* )?\| ([0-3]) +\|(.*)\|\s*$/.exec(line);
    if (row === null) continue;
    const codes = [...row[2].matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]);
    rows.set(Number(row[1]), codes);
  }
  return rows;
}

for (const file of ["README.md", "cli.ts"]) {
  Deno.test(`${file}'s exit-code table agrees with EXIT_CODES`, async () => {
    const rows = exitTable(await Deno.readTextFile(new URL(file, ROOT)));
    assert.deepEqual([...rows.keys()], [0, 1, 2, 3], `${file} has rows 0 to 3`);
    assert.deepEqual(rows.get(0), []);
    for (const [exit, codes] of rows) {
      for (const code of codes) {
        assert.ok(Object.hasOwn(EXIT_CODES, code), `${file} names an unknown code ${code}`);
        assert.equal(EXIT_CODES[code as ErrorCode], exit, `${file} puts ${code} under ${exit}`);
      }
    }
    // Rows 1 and 2 list their codes in full; row 3 is "everything else" with examples.
    for (const exit of [1, 2] as const) {
      const listed = new Set(rows.get(exit));
      const missing = (Object.keys(EXIT_CODES) as ErrorCode[])
        .filter((code) => EXIT_CODES[code] === exit && !listed.has(code));
      assert.deepEqual(missing, [], `${file}'s row ${exit} lacks codes`);
    }
  });
}
