/**
 * Offline verification of one signature with public keys, as cosign does
 * with `--key` and without a transparency log: a legacy simple-signing
 * payload with its base64 DER signature, or a Sigstore bundle v0.3 with a
 * DSSE envelope over an in-toto statement. Bytes are verified as stored,
 * never re-serialised. Certificates (keyless signing), Fulcio chains, Rekor
 * and timestamps are not verified: a keyless bundle is `keyless`.
 *
 * @module
 */

import { decodeBase64 } from "@std/encoding/base64";
import { parseReference } from "../reference.ts";
import { type VerificationKey, verifyWith } from "./keys.ts";

/** Largest simple-signing payload or bundle read. */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

/** Why a signature does not count. */
export type UnverifiedReason =
  | "wrong-key"
  | "digest-mismatch"
  | "identity-mismatch"
  | "missing-annotation"
  | "bad-signature-encoding"
  | "bad-payload"
  | "keyless"
  | "unsupported-format"
  | "too-large";

/** The verdict on one signature. */
export type SignatureVerdict =
  | {
    /** It verifies with a given key and binds to the digest (and identity, annotations). */
    verified: true;
    /** The fingerprint of the key that verified it. */
    keyFingerprint: string;
  }
  | {
    /** It does not. */
    verified: false;
    /** Why. */
    reason: UnverifiedReason;
    /** More words on why. */
    detail?: string;
  };

/** What a signature must bind to. */
export interface Expectations {
  /** The manifest digest being checked. */
  digest: string;
  /** The image name the signature must be for (`critical.identity.docker-reference`). */
  identity?: string;
  /** Annotations the payload's `optional` must carry. */
  annotations?: Readonly<Record<string, string>>;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function no(reason: UnverifiedReason, detail?: string): SignatureVerdict {
  return detail === undefined ? { verified: false, reason } : { verified: false, reason, detail };
}

function parseJson(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(decoder.decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function decodeSignature(text: unknown): Uint8Array | undefined {
  if (typeof text !== "string") return undefined;
  const compact = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  try {
    return decodeBase64(compact);
  } catch {
    return undefined;
  }
}

/** Which key verifies, or the verdict when none does. */
async function byKey(
  keys: readonly VerificationKey[],
  signature: Uint8Array | undefined,
  data: Uint8Array,
): Promise<VerificationKey | SignatureVerdict> {
  if (signature === undefined) return no("bad-signature-encoding", "the signature is not base64");
  let encoding = true;
  for (const key of keys) {
    const ok = await verifyWith(key, { signature, data });
    if (ok === true) return key;
    if (ok === false) encoding = false;
  }
  return encoding
    ? no("bad-signature-encoding", "the signature is not well-formed for any key")
    : no("wrong-key", "no given key verifies it");
}

function sameName(a: string, b: string): boolean {
  try {
    const x = parseReference(a);
    const y = parseReference(b);
    if (x.name !== y.name) return false;
    // An identity with a tag or digest must match it; a bare name matches any.
    const bare = !/[:@][^/]*$/.test(b.slice(b.lastIndexOf("/") + 1));
    return bare || x.reference === y.reference;
  } catch {
    return false;
  }
}

/**
 * Verifies a legacy cosign signature: the signature (base64 ASN.1 DER, the
 * `dev.cosignproject.cosign/signature` annotation) over the exact payload
 * bytes with one of `keys`, then the payload: type
 * `cosign container image signature`, `docker-manifest-digest` equal to the
 * digest, the identity (normalised as references are) and annotations.
 *
 * @example
 * ```ts
 * import { verifySimpleSigning } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const verdict = await verifySimpleSigning(
 *   { payload: new TextEncoder().encode("{}"), signature: "not base64!" },
 *   [],
 *   { digest: "sha256:" + "0".repeat(64) },
 * );
 * assert.deepEqual(verdict.verified, false);
 * ```
 *
 * @param signed The payload bytes and the annotation's value.
 * @param keys The keys any of which may have signed.
 * @param expect What the signature must bind to.
 * @returns The verdict.
 */
export async function verifySimpleSigning(
  signed: { payload: Uint8Array; signature: string | undefined },
  keys: readonly VerificationKey[],
  expect: Expectations,
): Promise<SignatureVerdict> {
  if (signed.payload.length > MAX_SIGNATURE_BYTES) return no("too-large");
  const key = await byKey(keys, decodeSignature(signed.signature), signed.payload);
  if (!("fingerprint" in key)) return key;
  const payload = parseJson(signed.payload);
  const critical = payload?.critical as Record<string, Record<string, unknown>> | undefined;
  if (
    payload === undefined || typeof critical !== "object" || critical === null ||
    critical.type as unknown !== "cosign container image signature"
  ) {
    return no("bad-payload", "not a cosign container image signature payload");
  }
  if (critical.image?.["docker-manifest-digest"] !== expect.digest) {
    return no("digest-mismatch", `signed ${String(critical.image?.["docker-manifest-digest"])}`);
  }
  if (expect.identity !== undefined) {
    const signedFor = critical.identity?.["docker-reference"];
    if (typeof signedFor !== "string" || !sameName(signedFor, expect.identity)) {
      return no("identity-mismatch", `signed for ${JSON.stringify(signedFor)}`);
    }
  }
  const optional = (payload.optional ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(expect.annotations ?? {})) {
    if (typeof optional !== "object" || optional === null || optional[name] !== value) {
      return no("missing-annotation", `${name}=${value}`);
    }
  }
  return { verified: true, keyFingerprint: key.fingerprint };
}

/**
 * DSSE's pre-authentication encoding:
 * `DSSEv1 <len(type)> <type> <len(body)> <body>`.
 *
 * @param payloadType The envelope's payload type.
 * @param payload The payload bytes.
 * @returns The bytes that are signed.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encoder.encode(payloadType);
  const head = encoder.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/**
 * Verifies a Sigstore bundle (v0.3, DSSE envelope, as cosign v3 writes
 * signatures and attestations) with public keys: the payload type must be
 * `application/vnd.in-toto+json`, a signature must verify over the DSSE
 * pre-authentication encoding, and the in-toto statement's subjects must
 * name the digest. A bundle whose verification material is a certificate
 * (keyless signing) is `keyless`: certificates are not verified.
 *
 * @example
 * ```ts
 * import { verifyBundle } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const verdict = await verifyBundle(new TextEncoder().encode("not json"), [], {
 *   digest: "sha256:" + "0".repeat(64),
 * });
 * assert.equal(verdict.verified === false && verdict.reason, "bad-payload");
 * ```
 *
 * @param bundle The bundle JSON, as stored.
 * @param keys The keys any of which may have signed.
 * @param expect What the statement must be about.
 * @returns The verdict.
 */
export async function verifyBundle(
  bundle: Uint8Array,
  keys: readonly VerificationKey[],
  expect: Expectations,
): Promise<SignatureVerdict> {
  if (bundle.length > MAX_SIGNATURE_BYTES) return no("too-large");
  const json = parseJson(bundle);
  if (json === undefined) return no("bad-payload", "the bundle is not JSON");
  if (
    typeof json.mediaType !== "string" ||
    !/^application\/vnd\.dev\.sigstore\.bundle(\.v0\.[0-9]+)?\+json/.test(json.mediaType)
  ) {
    return no("bad-payload", "not a Sigstore bundle");
  }
  const material = (json.verificationMaterial ?? {}) as Record<string, unknown>;
  if (material.certificate !== undefined || material.x509CertificateChain !== undefined) {
    return no("keyless", "signed with a certificate (keyless): not verified");
  }
  const envelope = json.dsseEnvelope as Record<string, unknown> | undefined;
  if (typeof envelope !== "object" || envelope === null) {
    return no("unsupported-format", "a message-signature bundle, not a DSSE envelope");
  }
  if (envelope.payloadType !== "application/vnd.in-toto+json") {
    return no("bad-payload", `payload type ${JSON.stringify(envelope.payloadType)}`);
  }
  const body = decodeSignature(envelope.payload);
  if (body === undefined) return no("bad-payload", "the payload is not base64");
  const signatures = Array.isArray(envelope.signatures) ? envelope.signatures.slice(0, 16) : [];
  const pae = preAuthEncoding(envelope.payloadType, body);
  let verdict: VerificationKey | SignatureVerdict = no("bad-signature-encoding", "no signature");
  for (const entry of signatures) {
    verdict = await byKey(keys, decodeSignature((entry as Record<string, unknown>)?.sig), pae);
    if ("fingerprint" in verdict) break;
  }
  if (!("fingerprint" in verdict)) return verdict;
  const statement = parseJson(body);
  const subjects = Array.isArray(statement?.subject) ? statement.subject : [];
  const hex = expect.digest.startsWith("sha256:") ? expect.digest.slice(7) : undefined;
  const about = subjects.some((s) =>
    (s as { digest?: Record<string, unknown> })?.digest?.sha256 === hex
  );
  if (!about) return no("digest-mismatch", "the statement is about another digest");
  if (expect.annotations !== undefined && Object.keys(expect.annotations).length > 0) {
    const predicate = (statement?.predicate ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(expect.annotations)) {
      const found = subjects.some((s) =>
        (s as { annotations?: Record<string, unknown> })?.annotations?.[name] === value
      ) || predicate[name] === value;
      if (!found) {
        return no("missing-annotation", `${name}=${value}`);
      }
    }
  }
  return { verified: true, keyFingerprint: verdict.fingerprint };
}
