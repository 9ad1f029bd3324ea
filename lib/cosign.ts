/**
 * What is attached to an image, as pure values: cosign's tag names for a
 * digest, the OCI referrers fallback tag, the media types signers use, and
 * the classification of a descriptor (signature, attestation, SBOM) by its
 * artifact type and annotations. No network.
 *
 * @module
 */

import { quote, RegistryError } from "./errors.ts";
import { isDigest } from "./digest.ts";
import { isIndex } from "./media_types.ts";

/** A legacy cosign simple-signing layer (`.sig` images). */
export const MEDIA_TYPE_COSIGN_SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
/** A DSSE envelope layer (legacy `.att` images). */
export const MEDIA_TYPE_DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json";
/** A Sigstore bundle v0.3, cosign v3's default signature and attestation format. */
export const MEDIA_TYPE_SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json";
/** The OCI empty descriptor media type (config of artifact manifests). */
export const MEDIA_TYPE_OCI_EMPTY = "application/vnd.oci.empty.v1+json";
/** The annotation of a legacy cosign layer that holds its base64 signature. */
export const ANNOTATION_COSIGN_SIGNATURE = "dev.cosignproject.cosign/signature";
/** The annotation of a cosign v3 bundle manifest that names the statement's predicate type. */
export const ANNOTATION_BUNDLE_PREDICATE_TYPE = "dev.sigstore.bundle.predicateType";
/** The predicate type of a cosign v3 signature (any other is an attestation). */
export const COSIGN_SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1";

const CREATED = "org.opencontainers.image.created";
const TAG_CHARACTER = /[^A-Za-z0-9_.-]/g;

/** The tag names derived from one digest (see {@linkcode cosignTags}). */
export interface CosignTags {
  /** cosign's legacy signature tag, `sha256-<hex>.sig`. */
  signature: string;
  /** cosign's legacy attestation tag, `sha256-<hex>.att`. */
  attestation: string;
  /** cosign's legacy SBOM tag, `sha256-<hex>.sbom`. */
  sbom: string;
  /**
   * The OCI 1.1 referrers fallback tag, `sha256-<hex>` with no suffix, where
   * clients keep the referrers index on registries without the referrers API
   * (and where cosign v3 puts its bundles there).
   */
  referrers: string;
}

/** Options for {@linkcode cosignTags}. */
export interface CosignTagsOptions {
  /**
   * cosign's `--attachment-tag-prefix`, put before the legacy tags (not before
   * the referrers tag, which the distribution spec fixes).
   * @default {""}
   */
  prefix?: string;
}

/**
 * The tags cosign and the OCI referrers fallback derive from a digest, as
 * `cosign triangulate` prints them and the distribution spec defines the
 * fallback tag: the algorithm truncated to 32 characters, the encoded part to
 * 64, joined by `-`, characters a tag may not hold replaced by `-`.
 *
 * @example
 * ```ts
 * import { cosignTags } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * const tags = cosignTags("sha256:" + "ab".repeat(32));
 * assert.equal(tags.signature, "sha256-" + "ab".repeat(32) + ".sig");
 * assert.equal(tags.referrers, "sha256-" + "ab".repeat(32));
 * ```
 *
 * @param digest A manifest digest (`algorithm:encoded`).
 * @param options The legacy tags' prefix.
 * @returns The four tag names.
 * @throws {RegistryError} `INVALID_REFERENCE` when `digest` is not a digest, or
 *   the prefix makes a tag that is not valid.
 */
export function cosignTags(digest: string, options: CosignTagsOptions = {}): CosignTags {
  const { prefix = "" } = options;
  if (!isDigest(digest)) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `Cannot name tags for ${quote(digest)}: not a digest`,
    );
  }
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const legacy = `${prefix}${algorithm}-${encoded}`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(`${legacy}.sbom`)) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `Cannot name tags for ${quote(digest)} with prefix ${quote(prefix)}: not a valid tag`,
    );
  }
  const referrers = `${algorithm.slice(0, 32)}-${encoded.slice(0, 64)}`.replace(TAG_CHARACTER, "-");
  return {
    signature: `${legacy}.sig`,
    attestation: `${legacy}.att`,
    sbom: `${legacy}.sbom`,
    referrers,
  };
}

/** What an attached artifact is. */
export type ArtifactKind = "signature" | "attestation" | "sbom" | "other";

/** How an attached artifact is encoded. */
export type ArtifactFormat =
  | "cosign"
  | "sigstore-bundle"
  | "cosign-oci11"
  | "notation"
  | "in-toto"
  | "buildkit"
  | "spdx"
  | "cyclonedx"
  | "syft"
  | "unknown";

/** Where an attached artifact was found. */
export type ArtifactSource = "referrers-api" | "referrers-tag" | "cosign-tag" | "index";

/** An OCI descriptor as found in an index (only what regkit reads). */
export interface Descriptor {
  /** The media type of the manifest it points to. */
  mediaType: string;
  /** Its digest. */
  digest: string;
  /** Its size in bytes. */
  size: number;
  /** The artifact type (referrers descriptors carry it), if any. */
  artifactType?: string;
  /** Its annotations (referrers descriptors carry the manifest's). */
  annotations?: Record<string, string>;
  /** The platform, for an image index's children. */
  platform?: { os: string; architecture: string; variant?: string };
}

const SBOM_TYPES: ReadonlyArray<[RegExp, ArtifactFormat]> = [
  [/spdx/i, "spdx"],
  [/cyclonedx/i, "cyclonedx"],
  [/syft/i, "syft"],
];

/**
 * What a referrer is, from its artifact type and annotations: a cosign v3
 * bundle is a signature when its `dev.sigstore.bundle.predicateType` is
 * cosign's signing predicate and an attestation otherwise; cosign's
 * experimental OCI 1.1 types, notation and in-toto statements and SBOM types
 * are recognised by their artifact type.
 *
 * @example
 * ```ts
 * import { classifyReferrer } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   classifyReferrer({
 *     artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
 *     annotations: { "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1" },
 *   }),
 *   { kind: "signature", format: "sigstore-bundle" },
 * );
 * ```
 *
 * @param descriptor The referrer's artifact type and annotations.
 * @returns Its kind and format (`other`/`unknown` when not recognised).
 */
export function classifyReferrer(
  descriptor: Pick<Descriptor, "artifactType" | "annotations">,
): { kind: ArtifactKind; format: ArtifactFormat } {
  const type = descriptor.artifactType ?? "";
  if (/^application\/vnd\.dev\.sigstore\.bundle\.v0\.[0-9]+\+json$/.test(type)) {
    const predicate = descriptor.annotations?.[ANNOTATION_BUNDLE_PREDICATE_TYPE];
    if (predicate === undefined) return { kind: "other", format: "sigstore-bundle" };
    return {
      kind: predicate === COSIGN_SIGN_PREDICATE_TYPE ? "signature" : "attestation",
      format: "sigstore-bundle",
    };
  }
  const cosign = /^application\/vnd\.dev\.cosign\.artifact\.(sig|att|sbom)\.v1\+json$/.exec(type);
  if (cosign) {
    const kind = ({ sig: "signature", att: "attestation", sbom: "sbom" } as const)[
      cosign[1] as "sig" | "att" | "sbom"
    ];
    return { kind, format: "cosign-oci11" };
  }
  if (type === "application/vnd.cncf.notary.signature") {
    return { kind: "signature", format: "notation" };
  }
  if (type === "application/vnd.in-toto+json" || type === MEDIA_TYPE_DSSE_ENVELOPE) {
    return { kind: "attestation", format: "in-toto" };
  }
  for (const [pattern, format] of SBOM_TYPES) {
    if (pattern.test(type)) return { kind: "sbom", format };
  }
  return { kind: "other", format: "unknown" };
}

/**
 * The creation time and predicate type a referrer's annotations name.
 *
 * @param annotations The descriptor's annotations.
 * @returns `created` (`org.opencontainers.image.created`) and `predicateType`, when present.
 */
export function referrerDetails(
  annotations: Record<string, string> | undefined,
): { created?: string; predicateType?: string } {
  const created = annotations?.[CREATED];
  const predicateType = annotations?.[ANNOTATION_BUNDLE_PREDICATE_TYPE] ??
    annotations?.["in-toto.io/predicate-type"] ?? annotations?.predicateType;
  return {
    ...(created === undefined ? {} : { created }),
    ...(predicateType === undefined ? {} : { predicateType }),
  };
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") out[key] = entry;
  }
  return out;
}

/**
 * The descriptors of an index body, keeping only well-formed ones (a digest,
 * a media type and a size).
 *
 * @param index The parsed index.
 * @returns Its descriptors.
 */
export function indexDescriptors(index: Record<string, unknown>): Descriptor[] {
  const manifests = Array.isArray(index.manifests) ? index.manifests : [];
  const out: Descriptor[] = [];
  for (const entry of manifests) {
    if (typeof entry !== "object" || entry === null) continue;
    const { mediaType, digest, size, artifactType, annotations, platform } = entry as Record<
      string,
      unknown
    >;
    if (typeof mediaType !== "string" || !isDigest(digest as string)) continue;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) continue;
    const descriptor: Descriptor = { mediaType, digest: digest as string, size };
    if (typeof artifactType === "string") descriptor.artifactType = artifactType;
    const record = stringRecord(annotations);
    if (record !== undefined) descriptor.annotations = record;
    const p = stringRecord(platform);
    if (p?.os !== undefined && p.architecture !== undefined) {
      descriptor.platform = {
        os: p.os,
        architecture: p.architecture,
        ...(p.variant === undefined ? {} : { variant: p.variant }),
      };
    }
    out.push(descriptor);
  }
  return out;
}

/**
 * Why a manifest found at a referrers fallback tag is not a referrers index,
 * or `undefined` when it is one. It must be an index, must not be the subject
 * itself (GitLab resolves `sha256-<hex>` to the image), and must not list the
 * subject's own children as if they were referrers.
 *
 * @example
 * ```ts
 * import { fallbackIndexProblem } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * const subject = "sha256:" + "1".repeat(64);
 * assert.equal(fallbackIndexProblem({ manifests: [] }, { digest: "sha256:" + "2".repeat(64), subject }), undefined);
 * assert.match(fallbackIndexProblem({ manifests: [] }, { digest: subject, subject })!, /image itself/);
 * ```
 *
 * @param manifest The parsed manifest at the fallback tag.
 * @param context Its digest, the subject's digest and the subject's children, if an index.
 * @returns The reason it is invalid, or `undefined`.
 */
export function fallbackIndexProblem(
  manifest: Record<string, unknown>,
  context: { digest: string; subject: string; subjectChildren?: readonly string[] },
): string | undefined {
  if (context.digest === context.subject) {
    return "the fallback tag resolves to the image itself, not to a referrers index";
  }
  if (!isIndex(manifest)) return "the fallback tag holds an image manifest, not an index";
  const children = new Set(context.subjectChildren ?? []);
  const descriptors = indexDescriptors(manifest);
  if (descriptors.length > 0 && descriptors.every((d) => children.has(d.digest))) {
    return "the fallback tag lists the image's own platform manifests, not referrers";
  }
  if (descriptors.length > 0 && descriptors.every((d) => d.platform !== undefined)) {
    return "the fallback tag holds a platform index, not a referrers index";
  }
  return undefined;
}
