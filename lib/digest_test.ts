import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import { digestOf, isDigest, sha256, verifyDigest } from "./digest.ts";

const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABC_SHA256 = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC_SHA512 = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
const abc = new TextEncoder().encode("abc");

Deno.test("sha256() and digestOf() hash the known vectors", async () => {
  assert.equal(await sha256(new Uint8Array()), EMPTY_SHA256);
  assert.equal(await sha256(abc), ABC_SHA256);
  assert.equal(await digestOf(abc, "sha256"), ABC_SHA256);
  assert.equal(await digestOf(abc, "sha512"), ABC_SHA512);
  assert.equal(await digestOf(abc, "md5"), undefined);
  assert.equal(await digestOf(abc, "constructor"), undefined);
});

Deno.test("isDigest() follows the OCI digest grammar", () => {
  for (
    const ok of [ABC_SHA256, "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", "md5:AAAA"]
  ) {
    assert.ok(isDigest(ok), ok);
  }
  for (
    const bad of ["", "sha256", ":abc", "sha256:", "SHA256:abc", "sha256:a b", null, undefined]
  ) {
    assert.ok(!isDigest(bad), String(bad));
  }
});

Deno.test("verifyDigest() accepts a body matching what it must be", async (t) => {
  await t.step("nothing expected: the sha256", async () => {
    assert.equal(await verifyDigest(abc), ABC_SHA256);
  });
  await t.step("the expected digest picks the algorithm", async () => {
    assert.equal(await verifyDigest(abc, { digest: ABC_SHA512 }), ABC_SHA512);
  });
  await t.step("the header picks it when nothing is expected", async () => {
    assert.equal(await verifyDigest(abc, { header: ABC_SHA512 }), ABC_SHA512);
  });
  await t.step("a header of another algorithm than the expected one is not compared", async () => {
    assert.equal(await verifyDigest(abc, { digest: ABC_SHA256, header: "sha512:00" }), ABC_SHA256);
  });
  await t.step("an unknown header algorithm falls back to sha256", async () => {
    assert.equal(await verifyDigest(abc, { header: "md5:AAAA" }), ABC_SHA256);
  });
  await t.step("the size of a descriptor", async () => {
    assert.equal(await verifyDigest(abc, { digest: ABC_SHA256, size: 3 }), ABC_SHA256);
  });
});

Deno.test("verifyDigest() rejects a body that is not what it must be with DIGEST_MISMATCH", async (t) => {
  const other = "sha256:" + "0".repeat(64);
  const cases: Array<[string, Parameters<typeof verifyDigest>[1], RegExp]> = [
    ["the header lies", { header: other }, /does not match Docker-Content-Digest/],
    ["the expected digest differs", { digest: other }, /body's digest is/],
    [
      "the header agrees, the reference does not",
      { digest: other, header: ABC_SHA256 },
      /digest is/,
    ],
    ["an algorithm regkit cannot compute", { digest: "sha384:" + "0".repeat(96) }, /digest is/],
    ["the size differs", { digest: ABC_SHA256, size: 4 }, /3 bytes, not 4/],
  ];
  for (const [name, options, message] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        verifyDigest(abc, { ...options, what: "quay.io/org/app:1", status: 200 }),
        (e: unknown) =>
          isRegistryError(e, "DIGEST_MISMATCH") && e.status === 200 && message.test(e.message) &&
          e.message.startsWith('Cannot trust "quay.io/org/app:1": '),
      );
    });
  }
});
