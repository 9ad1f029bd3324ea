/**
 * "Is this image signed by us, for this name?": the signatures discovery
 * finds (legacy cosign tags, bundles via referrers or their fallback tag),
 * each verified offline with the given keys. A registry that cannot be read
 * is `unknown`, never `unsigned`.
 *
 * @module
 */

import { isRegistryError } from "../errors.ts";
import { parseReference, type Reference } from "../reference.ts";
import { descriptorReference, getBlob, getManifest } from "../registry_api.ts";
import { ANNOTATION_COSIGN_SIGNATURE, MEDIA_TYPE_COSIGN_SIMPLE_SIGNING } from "../cosign.ts";
import { parsePublicKey, type VerificationKey } from "../signature/keys.ts";
import {
  MAX_SIGNATURE_BYTES,
  type SignatureVerdict,
  verifyBundle,
  verifySimpleSigning,
} from "../signature/verify.ts";
import type {
  ArtifactsResult,
  DigestArtifacts,
  DigestVerification,
  ExaminedSignature,
  VerifyManyOptions,
  VerifyOptions,
  VerifyResult,
} from "../types.ts";
import { Discovery, unexpected } from "./_discovery.ts";
import { candidates, examine, examineMany, type Plan, signedPlan, unknown } from "./artifacts.ts";
import type { OperationContext } from "./_context.ts";

interface Checked {
  plan: Plan;
  keys: VerificationKey[];
  identity?: string;
  annotations?: Readonly<Record<string, string>>;
  maxSignatures: number;
}

async function check(options: VerifyOptions): Promise<Checked> {
  const { maxSignatures = 16 } = options;
  if (!Array.isArray(options.keys) || options.keys.length === 0) {
    throw new TypeError(`Cannot use option "keys": give at least one public key`);
  }
  if (!Number.isInteger(maxSignatures) || maxSignatures < 1 || maxSignatures > 1024) {
    throw new RangeError(
      `Cannot use option "maxSignatures": ${maxSignatures} is not an integer from 1 to 1024`,
    );
  }
  const keys = await Promise.all(
    options.keys.map((key, i) =>
      typeof key === "string" ? parsePublicKey(key, { label: `keys[${i}]` }) : key
    ),
  );
  if (options.identity !== undefined) parseReference(options.identity);
  return {
    plan: signedPlan(options),
    keys,
    maxSignatures,
    ...(options.identity === undefined ? {} : { identity: options.identity }),
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
  };
}

function layersOf(manifest: Record<string, unknown>): Record<string, unknown>[] {
  return (Array.isArray(manifest.layers) ? manifest.layers : []).filter((l) =>
    typeof l === "object" && l !== null
  );
}

/** Verdicts for the layers of one signature artifact. */
async function verdicts(
  ctx: OperationContext,
  discovery: Discovery,
  where: Reference,
  artifact: DigestArtifacts["artifacts"][number],
  digest: string,
  checked: Checked,
  budget: { left: number },
): Promise<SignatureVerdict[]> {
  const expect = {
    digest,
    ...(checked.identity === undefined ? {} : { identity: checked.identity }),
    ...(checked.annotations === undefined ? {} : { annotations: checked.annotations }),
  };
  if (artifact.format === "notation") {
    return [{ verified: false, reason: "unsupported-format", detail: "notation signatures" }];
  }
  const manifest = discovery.manifests.get(artifact.digest) ??
    (await getManifest(ctx.transport, descriptorReference(where, artifact.digest), {
      what: String(where),
      signal: ctx.signal,
    })).json;
  const out: SignatureVerdict[] = [];
  for (const layer of layersOf(manifest)) {
    if (budget.left <= 0) break;
    const simple = layer.mediaType === MEDIA_TYPE_COSIGN_SIMPLE_SIGNING;
    const bundle = artifact.format === "sigstore-bundle";
    if (!simple && !bundle) continue;
    budget.left--;
    const size = typeof layer.size === "number" ? layer.size : undefined;
    if (size !== undefined && size > MAX_SIGNATURE_BYTES) {
      out.push({ verified: false, reason: "too-large", detail: `${size} bytes` });
      continue;
    }
    const bytes = await getBlob(ctx.transport, descriptorReference(where, String(layer.digest)), {
      what: String(where),
      signal: ctx.signal,
      maxBytes: MAX_SIGNATURE_BYTES,
      size,
    });
    if (bundle) {
      out.push(await verifyBundle(bytes, checked.keys, expect));
    } else {
      const annotations = (layer.annotations ?? {}) as Record<string, unknown>;
      const signature = annotations[ANNOTATION_COSIGN_SIGNATURE];
      out.push(
        await verifySimpleSigning(
          { payload: bytes, signature: typeof signature === "string" ? signature : undefined },
          checked.keys,
          expect,
        ),
      );
    }
  }
  return out;
}

async function verifyDigest(
  ctx: OperationContext,
  discovery: Discovery,
  found: DigestArtifacts,
  checked: Checked,
): Promise<DigestVerification> {
  const budget = { left: checked.maxSignatures };
  const signatures: ExaminedSignature[] = [];
  for (const artifact of found.artifacts) {
    if (artifact.kind !== "signature") continue;
    const where = parseReference(`${artifact.repository}@${artifact.digest}`);
    const base = {
      format: artifact.format,
      via: artifact.via,
      digest: artifact.digest,
      repository: artifact.repository,
      ...(artifact.tag === undefined ? {} : { tag: artifact.tag }),
    };
    for (
      const v of await verdicts(ctx, discovery, where, artifact, found.digest, checked, budget)
    ) {
      signatures.push(
        v.verified ? { ...base, verified: true, keyFingerprint: v.keyFingerprint } : {
          ...base,
          verified: false,
          reason: v.reason,
          ...(v.detail ? { detail: v.detail } : {}),
        },
      );
    }
  }
  const anySignature = found.artifacts.some((a) => a.kind === "signature");
  return {
    status: signatures.some((s) => s.verified)
      ? "verified"
      : anySignature
      ? "unverified"
      : "unsigned",
    digest: found.digest,
    ...(found.platform === undefined ? {} : { platform: found.platform }),
    signatures,
  };
}

/** The verification of what {@linkcode examine} found for one input. */
async function verifyFound(
  ctx: OperationContext,
  discovery: Discovery,
  found: ArtifactsResult,
  checked: Checked,
): Promise<VerifyResult> {
  if (found.status !== "present") return found;
  const input = found.reference;
  try {
    const top = await verifyDigest(ctx, discovery, found, checked);
    if (found.platforms === undefined) return { reference: input, ...top };
    const platforms = await Promise.all(
      found.platforms.map((p) => verifyDigest(ctx, discovery, p, checked)),
    );
    const all = [top, ...platforms];
    const status = all.every((d) => d.status === "verified")
      ? "verified"
      : all.some((d) => d.status === "unverified")
      ? "unverified"
      : "unsigned";
    return { reference: input, ...top, status, platforms };
  } catch (error) {
    if (isRegistryError(error)) return unknown(input, error);
    return unknown(input, unexpected(input, error));
  }
}

/**
 * Verifies that one image is signed by one of `keys` for its digest (and
 * identity, annotations): `verified`, `unverified` (signatures exist, none
 * verifies; each with its reason), `unsigned`, `absent` or `unknown`.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options Keys, identity, annotations, platforms, signature repository.
 * @returns The answer.
 * @throws {RegistryError} `INVALID_CONFIG` for a key that is not a supported
 *   PEM public key; `INVALID_REFERENCE`.
 * @throws {TypeError} For missing keys or bad options.
 */
export async function verify(
  ctx: OperationContext,
  imageReference: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const checked = await check(options);
  const ref = parseReference(imageReference);
  const discovery = new Discovery(ctx, candidates(checked.plan.kinds));
  const found = await examine(ctx, { discovery, ref, input: imageReference }, checked.plan);
  return await verifyFound(ctx, discovery, found, checked);
}

/**
 * {@linkcode verify} for many images: one result per input, in input order.
 *
 * @param ctx The client's wiring.
 * @param inputs References.
 * @param options As {@linkcode verify}, and concurrency.
 * @returns The results, in input order.
 * @throws {RegistryError} `INVALID_CONFIG` for a bad key (when iteration starts).
 */
export async function* verifyMany(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  options: VerifyManyOptions,
): AsyncIterableIterator<VerifyResult> {
  const checked = await check(options);
  yield* examineMany(ctx, inputs, {
    concurrency: options.concurrency,
    plan: checked.plan,
    finish: (found, discovery) => verifyFound(ctx, discovery, found, checked),
  });
}
