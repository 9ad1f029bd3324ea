/**
 * Checks for extra CA certificates (`caCerts`, `--ca-cert`). Deno's
 * `createHttpClient` accepts any text and fails later, on the first TLS
 * handshake, so regkit checks each input up front and says which one is bad.
 *
 * @module
 */

import { decodeBase64 } from "@std/encoding/base64";
import { RegistryError } from "./errors.ts";

/** Why a CA input is not usable, as {@linkcode findInvalidCaCertificate} reports it. */
export type CaCertificateFault = "not text" | "no PEM certificate block" | "a block is not base64";

/** The first CA input that is not a PEM certificate, and why. */
export interface InvalidCaCertificate {
  /** Its position in the list that was checked, from 0. */
  index: number;
  /** What is wrong with it. */
  fault: CaCertificateFault;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

function faultOf(pem: unknown): CaCertificateFault | undefined {
  if (typeof pem !== "string") return "not text";
  const blocks = [...pem.matchAll(CERTIFICATE_BLOCK)];
  if (blocks.length === 0) return "no PEM certificate block";
  const decodable = blocks.every((block) => {
    try {
      return decodeBase64(block[1].replace(/\s+/g, "")).byteLength > 0;
    } catch {
      return false;
    }
  });
  return decodable ? undefined : "a block is not base64";
}

/**
 * Finds the first input that is not a PEM certificate: each must hold at
 * least one `BEGIN CERTIFICATE` block, and every block must be base64.
 * The answer is data (an index and a fault), so a caller that read the
 * inputs from files can name the file.
 *
 * @example Naming the bad file
 * ```ts
 * import { findInvalidCaCertificate } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * const files = ["ca.pem", "notes.txt"];
 * const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
 * const bad = findInvalidCaCertificate([pem, "hello"]);
 * assert.deepEqual(bad, { index: 1, fault: "no PEM certificate block" });
 * assert.ok(bad);
 * assert.equal(files[bad.index], "notes.txt");
 * assert.equal(findInvalidCaCertificate([pem]), undefined);
 * ```
 * @param pems The inputs, e.g. the contents of `--ca-cert` files.
 * @returns The first bad input's index and fault, or `undefined` when all are usable.
 */
export function findInvalidCaCertificate(
  pems: readonly unknown[],
): InvalidCaCertificate | undefined {
  for (const [index, pem] of pems.entries()) {
    const fault = faultOf(pem);
    if (fault !== undefined) return { index, fault };
  }
  return undefined;
}

/**
 * Throws unless `pem` holds PEM certificates; for `caCerts.forEach`.
 *
 * @param pem One CA input.
 * @param index Its position in `caCerts`, from 0 (messages count from 1).
 * @throws {RegistryError} `INVALID_CONFIG` naming the input's position.
 */
export function checkPemCertificates(pem: string, index: number): void {
  const fault = faultOf(pem);
  if (fault !== undefined) {
    throw new RegistryError(
      "INVALID_CONFIG",
      `Cannot use CA certificate #${index + 1}: not a PEM certificate (${fault})`,
    );
  }
}
