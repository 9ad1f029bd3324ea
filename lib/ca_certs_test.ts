import assert from "node:assert/strict";
import { checkPemCertificates, findInvalidCaCertificate } from "./ca_certs.ts";
import { RegistryError } from "./errors.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";

Deno.test("findInvalidCaCertificate() names the first bad input and why", async (t) => {
  const cases: Array<[string, unknown[], ReturnType<typeof findInvalidCaCertificate>]> = [
    ["none", [], undefined],
    ["one good", [PEM], undefined],
    ["a bundle of two blocks", [PEM + PEM], undefined],
    ["text without a block", [PEM, "not a certificate\n"], {
      index: 1,
      fault: "no PEM certificate block",
    }],
    ["a private key is no certificate", [
      "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----",
    ], {
      index: 0,
      fault: "no PEM certificate block",
    }],
    ["a block that is not base64", [PEM, PEM, PEM.replace("MIIB", "M!IB")], {
      index: 2,
      fault: "a block is not base64",
    }],
    ["an empty block", ["-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"], {
      index: 0,
      fault: "a block is not base64",
    }],
    ["the first of two bad ones", ["x", 42], { index: 0, fault: "no PEM certificate block" }],
    ["not text", [PEM, new Uint8Array(3)], { index: 1, fault: "not text" }],
  ];
  for (const [name, pems, expected] of cases) {
    await t.step(name, () => assert.deepEqual(findInvalidCaCertificate(pems), expected));
  }
});

Deno.test("checkPemCertificates() throws INVALID_CONFIG counting from 1", () => {
  checkPemCertificates(PEM, 0);
  assert.throws(
    () => ["garbage"].forEach(checkPemCertificates),
    (e: unknown) =>
      e instanceof RegistryError && e.code === "INVALID_CONFIG" &&
      e.message ===
        "Cannot use CA certificate #1: not a PEM certificate (no PEM certificate block)",
  );
});
