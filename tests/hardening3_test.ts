/**
 * #11, third wave: CLI wording (29), credentials bound to one registry (23),
 * `inspect` as skopeo users read it (30), paged and capped tags (10), and 401
 * messages that name the credentials tried (17).
 */
import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";
import { startRegistry } from "./_registry.ts";

Deno.test("CLI wording: one reference, a missing repository, each code once (#11 item 29)", async (t) => {
  await t.step("a second reference", async () => {
    const result = await runCli(["digest", "localhost:1/a:1", "localhost:1/a:2"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^regkit: "digest" takes one reference, got 2; see /);
  });
  await t.step("tags host:port says the repository is missing", async () => {
    for (const host of ["localhost:5000", "127.0.0.1:5000", "registry.example:443", "[::1]:5000"]) {
      const result = await runCli(["tags", host]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `regkit: Cannot parse image reference "${host}": the repository is missing after the registry host, e.g. ${host}/org/app (INVALID_REFERENCE)\n`,
      );
    }
  });
  await t.step("a registry's code that is the line's code is printed once", async () => {
    await using registry = await startRegistry();
    for (
      const [args, code, exit] of [
        [["tags", `${registry.host}/test/nothing-here`], "NAME_UNKNOWN", 1],
        [["manifest", `${registry.host}/test/nothing-here:v1`], "MANIFEST_UNKNOWN", 1],
      ] as const
    ) {
      const result = await runCli([...args]);
      assert.equal(result.code, exit, result.stderr);
      assert.equal(result.stderr.split(code).length - 1, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`registry answered 404: .* \\(${code}\\)\\n$`));
    }
  });
});
