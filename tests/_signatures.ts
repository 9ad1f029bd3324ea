/**
 * Pushes what signers attach to images, in the layouts they use, into a
 * {@linkcode RegistryFixture}: cosign's legacy `.sig`/`.att` images (simple
 * signing layers with the signature annotation; DSSE layers), cosign v3
 * bundle referrers (a manifest with `subject`, plus the referrers fallback
 * index, kept as the spec asks of a client when the registry sends no
 * `OCI-Subject`), notation- and SBOM-shaped referrers, and BuildKit
 * attestation entries in an index. Signatures are made with `crypto.subtle`
 * as cosign makes them (ECDSA P-256, SHA-256, ASN.1 DER).
 *
 * @module
 */

import { encodeBase64 } from "@std/encoding/base64";
import { preAuthEncoding } from "../mod.ts";
import type { RegistryFixture } from "./_registry.ts";
import {
  OCI_INDEX,
  OCI_MANIFEST,
  pushHeaders,
  putManifest,
  sha256,
  uploadBlob,
} from "./_images.ts";

const encoder = new TextEncoder();
/** The OCI empty descriptor's blob. */
const EMPTY = encoder.encode("{}");
const EMPTY_TYPE = "application/vnd.oci.empty.v1+json";
/** cosign's layer media types. */
export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const DSSE = "application/vnd.dsse.envelope.v1+json";
export const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const COSIGN_SIGN = "https://sigstore.dev/cosign/sign/v1";

/** A descriptor as pushed. */
export interface Pushed {
  /** The manifest's digest. */
  digest: string;
  /** Its media type. */
  mediaType: string;
  /** Its size. */
  size: number;
  /** Its bytes. */
  manifest: Uint8Array;
}

/** A layer to push. */
export interface LayerSpec {
  mediaType: string;
  bytes: Uint8Array;
  annotations?: Record<string, string>;
}

/** A subject, as a descriptor. */
export interface Subject {
  digest: string;
  mediaType: string;
  size: number;
}

/** Options for {@linkcode pushArtifact}. */
export interface ArtifactSpec {
  layers: LayerSpec[];
  artifactType?: string;
  /** The config's media type (default: the OCI empty type, with `{}`). */
  configType?: string;
  subject?: Subject;
  annotations?: Record<string, string>;
}

/** Pushes an OCI artifact manifest (blobs first) under `tag`, or by digest when `null`. */
export async function pushArtifact(
  registry: RegistryFixture,
  repository: string,
  tag: string | null,
  spec: ArtifactSpec,
): Promise<Pushed> {
  const headers = await pushHeaders(registry, repository);
  const configType = spec.configType ?? EMPTY_TYPE;
  await uploadBlob(registry, repository, await sha256(EMPTY), EMPTY, headers);
  const layers = [];
  for (const layer of spec.layers) {
    const digest = await sha256(layer.bytes);
    await uploadBlob(registry, repository, digest, layer.bytes, headers);
    layers.push({
      mediaType: layer.mediaType,
      digest,
      size: layer.bytes.length,
      ...(layer.annotations ? { annotations: layer.annotations } : {}),
    });
  }
  const manifest = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(spec.artifactType ? { artifactType: spec.artifactType } : {}),
    config: { mediaType: configType, digest: await sha256(EMPTY), size: EMPTY.length },
    layers,
    ...(spec.subject ? { subject: spec.subject } : {}),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  }));
  const digest = await sha256(manifest);
  await putManifest(registry, repository, tag ?? digest, OCI_MANIFEST, manifest, headers);
  return { digest, mediaType: OCI_MANIFEST, size: manifest.length, manifest };
}

/** The referrers fallback tag of a digest. */
export function fallbackTag(digest: string): string {
  return digest.replace(":", "-");
}

/**
 * Adds `referrer` to the fallback index of `subject` (creating it), as a client does for a
 * registry that sent no `OCI-Subject`: pull the index (404 → empty), append, push it back.
 */
export async function addToFallbackIndex(
  registry: RegistryFixture,
  repository: string,
  subject: string,
  referrer: Pushed & { artifactType?: string; annotations?: Record<string, string> },
): Promise<void> {
  const headers = await pushHeaders(registry, repository);
  const tag = fallbackTag(subject);
  const current = await registry.fetch(`/v2/${repository}/manifests/${tag}`, {
    headers: { ...headers, accept: OCI_INDEX },
  });
  const index = current.status === 200
    ? await current.json()
    : (await current.body?.cancel(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
  index.manifests.push({
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.size,
    ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}),
    ...(referrer.annotations ? { annotations: referrer.annotations } : {}),
  });
  await putManifest(
    registry,
    repository,
    tag,
    OCI_INDEX,
    encoder.encode(JSON.stringify(index)),
    headers,
  );
}

/** A P-256 key pair as cosign uses, and its public key as `cosign.pub` PEM. */
export interface TestKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  pem: string;
}

/** Generates a P-256 signing key. */
export async function generateKey(): Promise<TestKey> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const body = encodeBase64(spki).replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    pem: `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`,
  };
}

function derInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const pad = trimmed[0] & 0x80 ? 1 : 0;
  const out = new Uint8Array(2 + pad + trimmed.length);
  out[0] = 0x02;
  out[1] = pad + trimmed.length;
  out.set(trimmed, 2 + pad);
  return out;
}

/** Signs `data` with ECDSA P-256/SHA-256 and returns the ASN.1 DER signature, as cosign does. */
export async function signDer(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, data as BufferSource),
  );
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  const out = new Uint8Array(2 + r.length + s.length);
  out[0] = 0x30;
  out[1] = r.length + s.length;
  out.set(r, 2);
  out.set(s, 2 + r.length);
  return out;
}

/** A cosign simple-signing payload, as cosign serialises it. */
export function simpleSigningPayload(
  dockerReference: string,
  digest: string,
  optional: Record<string, string> | null = null,
): Uint8Array {
  return encoder.encode(JSON.stringify({
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    },
    optional,
  }));
}

/** One legacy signature layer: the payload bytes and the base64 DER signature over them. */
export interface SignatureLayer {
  payload: Uint8Array;
  signature: string;
}

/** Makes a signature layer for `digest` with `key`. */
export async function signLayer(
  key: TestKey,
  dockerReference: string,
  digest: string,
  optional: Record<string, string> | null = null,
): Promise<SignatureLayer> {
  const payload = simpleSigningPayload(dockerReference, digest, optional);
  return { payload, signature: encodeBase64(await signDer(key.privateKey, payload)) };
}

/** Pushes cosign's legacy `sha256-<hex>.sig` image for `digest` with these layers. */
export async function pushCosignSignature(
  registry: RegistryFixture,
  repository: string,
  digest: string,
  layers: SignatureLayer[],
): Promise<Pushed> {
  return await pushArtifact(registry, repository, `${fallbackTag(digest)}.sig`, {
    configType: "application/vnd.oci.image.config.v1+json",
    layers: layers.map((l) => ({
      mediaType: SIMPLE_SIGNING,
      bytes: l.payload,
      annotations: { "dev.cosignproject.cosign/signature": l.signature },
    })),
  });
}

/** Pushes cosign's legacy `sha256-<hex>.att` image for `digest` (one DSSE layer). */
export async function pushCosignAttestation(
  registry: RegistryFixture,
  repository: string,
  digest: string,
  predicateType: string,
): Promise<Pushed> {
  const envelope = encoder.encode(JSON.stringify({
    payloadType: "application/vnd.in-toto+json",
    payload: encodeBase64(statement(digest, predicateType)),
    signatures: [],
  }));
  return await pushArtifact(registry, repository, `${fallbackTag(digest)}.att`, {
    configType: "application/vnd.oci.image.config.v1+json",
    layers: [{ mediaType: DSSE, bytes: envelope, annotations: { predicateType } }],
  });
}

/** An in-toto statement about `digest`. */
export function statement(digest: string, predicateType: string): Uint8Array {
  return encoder.encode(JSON.stringify({
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ digest: { sha256: digest.slice("sha256:".length) } }],
    predicateType,
    predicate: {},
  }));
}

/** A Sigstore bundle v0.3 with a DSSE envelope signed by `key`, as cosign v3 writes it. */
export async function makeBundle(
  key: TestKey,
  digest: string,
  predicateType = COSIGN_SIGN,
): Promise<Uint8Array> {
  const body = statement(digest, predicateType);
  const payloadType = "application/vnd.in-toto+json";
  const sig = encodeBase64(await signDer(key.privateKey, preAuthEncoding(payloadType, body)));
  return encoder.encode(JSON.stringify({
    mediaType: BUNDLE,
    verificationMaterial: { publicKey: { hint: "test" } },
    dsseEnvelope: { payload: encodeBase64(body), payloadType, signatures: [{ sig }] },
  }));
}

/**
 * Pushes a referrer of `subject` (by digest, with `subject`) and records it in the fallback
 * index, as cosign v3 does on a registry without the referrers API.
 */
export async function pushReferrer(
  registry: RegistryFixture,
  repository: string,
  subject: Subject,
  spec: { artifactType: string; layers: LayerSpec[]; annotations?: Record<string, string> },
  options: { fallback?: boolean } = {},
): Promise<Pushed> {
  const pushed = await pushArtifact(registry, repository, null, { ...spec, subject });
  if (options.fallback !== false) {
    await addToFallbackIndex(registry, repository, subject.digest, {
      ...pushed,
      artifactType: spec.artifactType,
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    });
  }
  return pushed;
}

/** Pushes a cosign v3 bundle referrer (a signature unless `predicateType` says otherwise). */
export async function pushBundleReferrer(
  registry: RegistryFixture,
  repository: string,
  subject: Subject,
  bundle: Uint8Array,
  predicateType = COSIGN_SIGN,
): Promise<Pushed> {
  return await pushReferrer(registry, repository, subject, {
    artifactType: BUNDLE,
    layers: [{ mediaType: BUNDLE, bytes: bundle }],
    annotations: {
      "dev.sigstore.bundle.content": "dsse-envelope",
      "dev.sigstore.bundle.predicateType": predicateType,
      "org.opencontainers.image.created": "2026-12-01T00:00:00Z",
    },
  });
}
