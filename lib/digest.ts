/**
 * Content digests: hashing (`sha256`, `sha512`) and checking a body against
 * the digest a descriptor or reference names and the one the registry's
 * `Docker-Content-Digest` header claims.
 *
 * @module
 */

import { encodeHex } from "@std/encoding/hex";
import { quote, RegistryError } from "./errors.ts";

const ALGORITHMS: Readonly<Record<string, "SHA-256" | "SHA-512">> = {
  sha256: "SHA-256",
  sha512: "SHA-512",
};

/** The OCI digest grammar: `algorithm:encoded` (the algorithm may have `+._-` separators). */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Whether `value` has the shape of a digest (`algorithm:encoded`), as the
 * OCI image spec's grammar says; says nothing of the algorithm or length.
 *
 * @param value The value, e.g. a `Docker-Content-Digest` header.
 * @returns `true` when it matches the grammar.
 */
export function isDigest(value: string | null | undefined): value is string {
  return typeof value === "string" && DIGEST_GRAMMAR.test(value);
}

/** The registered algorithms with their encoded length: what a registry's digest may be. */
const CHECKABLE = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/**
 * Whether `value` is a digest regkit can trust and check: `sha256:` with 64
 * lower-case hex digits or `sha512:` with 128 (the OCI image spec's
 * registered algorithms). `md5:AAAA` has a digest's shape, but is not one.
 *
 * @param value The value, e.g. a `Docker-Content-Digest` header.
 * @returns `true` for a registered algorithm with a well-formed encoding.
 */
export function isCheckableDigest(value: string | null | undefined): value is string {
  return typeof value === "string" && CHECKABLE.test(value);
}

/**
 * Hashes bytes with an algorithm regkit can compute.
 *
 * @param bytes The content.
 * @param algorithm `sha256` or `sha512`.
 * @returns `algorithm:hex`, or `undefined` for another algorithm.
 */
export async function digestOf(
  bytes: Uint8Array,
  algorithm: string,
): Promise<string | undefined> {
  const name = Object.hasOwn(ALGORITHMS, algorithm) ? ALGORITHMS[algorithm] : undefined;
  if (name === undefined) return undefined;
  const hash = await crypto.subtle.digest(name, bytes as Uint8Array<ArrayBuffer>);
  return `${algorithm}:${encodeHex(hash)}`;
}

/**
 * The `sha256:` digest of bytes.
 *
 * @param bytes The content.
 * @returns `sha256:<64 hex>`.
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  return (await digestOf(bytes, "sha256"))!;
}

/** What {@linkcode verifyDigest} checks a body against. */
export interface VerifyDigestOptions {
  /**
   * The digest the body must have (a descriptor's, or the reference's
   * `@digest`); it also picks the algorithm.
   * @default {undefined}
   */
  digest?: string | undefined;
  /**
   * The size the body must have, in bytes (a descriptor's `size`).
   * @default {undefined}
   */
  size?: number | undefined;
  /**
   * The registry's `Docker-Content-Digest` claim; checked when it uses the
   * same algorithm as the computed digest.
   * @default {undefined}
   */
  header?: string | undefined;
  /**
   * What the body is, for messages (never a secret).
   * @default {"the content"}
   */
  what?: string;
  /**
   * The HTTP status the body came with, kept on the error.
   * @default {undefined}
   */
  status?: number | undefined;
}

/**
 * Computes a body's digest and checks it against what it must be: the
 * expected digest (and size) and the header's claim. The algorithm is the
 * expected digest's, else the header's, else `sha256` (an algorithm regkit
 * cannot compute falls back to `sha256`, which then cannot match).
 *
 * @param body The content as served.
 * @param options The expected digest and size, the header, and names for messages.
 * @returns The computed digest.
 * @throws {RegistryError} `DIGEST_MISMATCH` when the body is not what it must be.
 */
export async function verifyDigest(
  body: Uint8Array,
  options: VerifyDigestOptions = {},
): Promise<string> {
  const { digest, size, header, what = "the content", status } = options;
  const mismatch = (why: string) =>
    new RegistryError(
      "DIGEST_MISMATCH",
      `Cannot trust ${quote(what)}: ${why}`,
      status === undefined ? {} : { status },
    );
  if (size !== undefined && body.byteLength !== size) {
    throw mismatch(`the body is ${body.byteLength} bytes, not ${size}`);
  }
  const algorithm = (digest ?? header ?? "sha256:").split(":")[0];
  const computed = await digestOf(body, algorithm) ?? await sha256(body);
  if (
    header !== undefined && header.split(":")[0] === computed.split(":")[0] && header !== computed
  ) {
    throw mismatch(`the body does not match Docker-Content-Digest ${quote(header)}`);
  }
  if (digest !== undefined && computed !== digest) {
    throw mismatch(`the body's digest is ${quote(computed)}`);
  }
  return computed;
}
