/**
 * Public keys as cosign writes them (`cosign.pub`: PEM `PUBLIC KEY`, an
 * X.509 SubjectPublicKeyInfo), imported with `crypto.subtle`: ECDSA P-256
 * (cosign's default) and P-384, RSA (PKCS#1 v1.5 and PSS, SHA-256) and
 * Ed25519. The algorithm is read from the key's own OID, never guessed.
 *
 * @module
 */

import { decodeBase64 } from "@std/encoding/base64";
import { encodeHex } from "@std/encoding/hex";
import { quote, RegistryError } from "../errors.ts";

/** The signature algorithms regkit verifies. */
export type KeyAlgorithm = "ecdsa-p256" | "ecdsa-p384" | "rsa" | "ed25519";

/** A public key ready to verify with. */
export interface VerificationKey {
  /** What the key is. */
  algorithm: KeyAlgorithm;
  /** SHA-256 of the key's DER SubjectPublicKeyInfo, hex (as `openssl pkey -pubin -outform DER | sha256sum`). */
  fingerprint: string;
  /** Where the key came from, for messages (a file name). */
  label: string;
  /** The imported keys (RSA: one for PKCS#1 v1.5, one for PSS). */
  keys: CryptoKey[];
}

const OID_EC = "1.2.840.10045.2.1";
const OID_P256 = "1.2.840.10045.3.1.7";
const OID_P384 = "1.3.132.0.34";
const OID_RSA = "1.2.840.113549.1.1.1";
const OID_ED25519 = "1.3.101.112";

/** A DER element: its tag, content bounds and where it ends. */
interface Element {
  tag: number;
  start: number;
  end: number;
}

function element(der: Uint8Array, at: number, limit: number): Element {
  if (at + 2 > limit) throw new RangeError("truncated");
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > limit) throw new RangeError("bad length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new RangeError("truncated");
  return { tag, start, end };
}

function oid(der: Uint8Array, e: Element): string {
  const bytes = der.subarray(e.start, e.end);
  if (bytes.length === 0) throw new RangeError("empty OID");
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (const b of bytes.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

/** The algorithm OID and its parameter OID (the curve), if any, of a DER SPKI. */
function spkiAlgorithm(der: Uint8Array): { algorithm: string; parameter?: string } {
  const outer = element(der, 0, der.length);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new RangeError("not a SEQUENCE");
  const algorithm = element(der, outer.start, outer.end);
  if (algorithm.tag !== 0x30) throw new RangeError("no AlgorithmIdentifier");
  const id = element(der, algorithm.start, algorithm.end);
  if (id.tag !== 0x06) throw new RangeError("no OID");
  const result: { algorithm: string; parameter?: string } = { algorithm: oid(der, id) };
  if (id.end < algorithm.end) {
    const parameter = element(der, id.end, algorithm.end);
    if (parameter.tag === 0x06) result.parameter = oid(der, parameter);
  }
  const bits = element(der, algorithm.end, outer.end);
  if (bits.tag !== 0x03) throw new RangeError("no subjectPublicKey");
  return result;
}

function invalidKey(label: string, why: string): RegistryError {
  return new RegistryError("INVALID_CONFIG", `Cannot use key ${quote(label)}: ${why}`);
}

/**
 * Reads a PEM public key (`-----BEGIN PUBLIC KEY-----`, as `cosign.pub`).
 *
 * @example
 * ```ts
 * import { parsePublicKey } from "@regkit/regkit";
 * import { encodeBase64 } from "@std/encoding/base64";
 * import assert from "node:assert/strict";
 *
 * const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
 * const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
 * const pem = `-----BEGIN PUBLIC KEY-----\n${encodeBase64(spki)}\n-----END PUBLIC KEY-----\n`;
 * const key = await parsePublicKey(pem, { label: "cosign.pub" });
 * assert.equal(key.algorithm, "ecdsa-p256");
 * assert.equal(key.fingerprint.length, 64);
 * ```
 *
 * @param pem The PEM text.
 * @param options `label`: what to call the key in messages (its file name).
 * @returns The key.
 * @throws {RegistryError} `INVALID_CONFIG` naming the key when it is not a
 *   PEM public key of a supported algorithm (an `EC PRIVATE KEY`, a
 *   certificate, another curve, DSA, …).
 */
export async function parsePublicKey(
  pem: string,
  options: { label?: string } = {},
): Promise<VerificationKey> {
  const label = options.label ?? "public key";
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(
    String(pem),
  );
  if (match === null) {
    const other = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(String(pem))?.[1];
    throw invalidKey(
      label,
      other === undefined ? "not a PEM public key" : `a PEM ${quote(other)}, not a PUBLIC KEY`,
    );
  }
  let der: Uint8Array;
  let info: { algorithm: string; parameter?: string };
  try {
    der = decodeBase64(match[1].replace(/\s+/g, ""));
    info = spkiAlgorithm(der);
  } catch {
    throw invalidKey(label, "the PEM block is not a DER SubjectPublicKeyInfo");
  }
  const fingerprint = encodeHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", der as BufferSource)),
  );
  const spki = der as BufferSource;
  try {
    if (info.algorithm === OID_EC && (info.parameter === OID_P256 || info.parameter === OID_P384)) {
      const p256 = info.parameter === OID_P256;
      const key = await crypto.subtle.importKey(
        "spki",
        spki,
        { name: "ECDSA", namedCurve: p256 ? "P-256" : "P-384" },
        false,
        ["verify"],
      );
      return { algorithm: p256 ? "ecdsa-p256" : "ecdsa-p384", fingerprint, label, keys: [key] };
    }
    if (info.algorithm === OID_RSA) {
      const keys = await Promise.all(
        ["RSASSA-PKCS1-v1_5", "RSA-PSS"].map((name) =>
          crypto.subtle.importKey("spki", spki, { name, hash: "SHA-256" }, false, ["verify"])
        ),
      );
      return { algorithm: "rsa", fingerprint, label, keys };
    }
    if (info.algorithm === OID_ED25519) {
      const key = await crypto.subtle.importKey("spki", spki, { name: "Ed25519" }, false, [
        "verify",
      ]);
      return { algorithm: "ed25519", fingerprint, label, keys: [key] };
    }
  } catch (error) {
    throw invalidKey(
      label,
      `the key does not import (${error instanceof Error ? error.name : "error"})`,
    );
  }
  const what = info.algorithm === OID_EC
    ? `EC curve ${info.parameter ?? "(none)"}`
    : `algorithm ${info.algorithm}`;
  throw invalidKey(label, `${what} is not supported (ECDSA P-256/P-384, RSA, Ed25519)`);
}

/**
 * An ECDSA signature in ASN.1 DER (`SEQUENCE { INTEGER r, INTEGER s }`, as
 * cosign writes it) as the raw `r‖s` WebCrypto verifies, strictly: no
 * trailing bytes, minimal positive integers that fit the curve.
 *
 * @param der The DER signature.
 * @param size The curve's coordinate size in bytes (32 for P-256, 48 for P-384).
 * @returns `r‖s`, each left-padded to `size`.
 * @throws {RangeError} For anything that is not such a signature.
 */
export function derToRaw(der: Uint8Array, size: number): Uint8Array {
  const outer = element(der, 0, der.length);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new RangeError("not a DER SEQUENCE");
  const raw = new Uint8Array(size * 2);
  let at = outer.start;
  for (let i = 0; i < 2; i++) {
    const int = element(der, at, outer.end);
    if (int.tag !== 0x02 || int.end === int.start) throw new RangeError("not an INTEGER");
    let bytes = der.subarray(int.start, int.end);
    if (bytes[0] & 0x80) throw new RangeError("a negative INTEGER");
    if (bytes.length > 1 && bytes[0] === 0 && !(bytes[1] & 0x80)) {
      throw new RangeError("a non-minimal INTEGER");
    }
    if (bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length > size) throw new RangeError("an INTEGER larger than the curve");
    raw.set(bytes, i * size + size - bytes.length);
    at = int.end;
  }
  if (at !== outer.end) throw new RangeError("trailing bytes in the SEQUENCE");
  return raw;
}

/**
 * Whether `signature` over `data` verifies with `key`.
 *
 * @param key The key.
 * @param signed `signature`, as stored (DER for ECDSA), and `data`, the signed bytes.
 * @returns `true` when it verifies; `"encoding"` when the signature is not
 *   even well-formed for the key's algorithm; `false` otherwise.
 */
export async function verifyWith(
  key: VerificationKey,
  { signature, data }: { signature: Uint8Array; data: Uint8Array },
): Promise<boolean | "encoding"> {
  const bytes = data as BufferSource;
  if (key.algorithm === "ecdsa-p256" || key.algorithm === "ecdsa-p384") {
    const p256 = key.algorithm === "ecdsa-p256";
    let raw: Uint8Array;
    try {
      raw = derToRaw(signature, p256 ? 32 : 48);
    } catch {
      return "encoding";
    }
    return await crypto.subtle.verify(
      { name: "ECDSA", hash: p256 ? "SHA-256" : "SHA-384" },
      key.keys[0],
      raw as BufferSource,
      bytes,
    );
  }
  if (key.algorithm === "rsa") {
    if (
      await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key.keys[0], signature as BufferSource, bytes)
    ) {
      return true;
    }
    // Go signs PSS with the longest salt by default; others use the hash length.
    const bits = (key.keys[1].algorithm as RsaHashedKeyAlgorithm).modulusLength;
    for (const saltLength of new Set([32, Math.ceil((bits - 1) / 8) - 32 - 2])) {
      const ok = await crypto.subtle.verify(
        { name: "RSA-PSS", saltLength },
        key.keys[1],
        signature as BufferSource,
        bytes,
      );
      if (ok) return true;
    }
    return false;
  }
  if (signature.length !== 64) return "encoding";
  return await crypto.subtle.verify("Ed25519", key.keys[0], signature as BufferSource, bytes);
}
