/**
 * The public result and option types of the client's operations. Types only.
 *
 * @module
 */

import type { RegistryError, RegistryErrorCode } from "./errors.ts";
import type { Platform } from "./platform.ts";
import type { ArtifactFormat, ArtifactKind, ArtifactSource, Descriptor } from "./cosign.ts";
import type { VerificationKey } from "./signature/keys.ts";
import type { UnverifiedReason } from "./signature/verify.ts";

/** An answer that could not be determined: never "absent" or "unsigned" when unsure. */
export interface UnknownResult {
  /** The answer could not be determined. */
  status: "unknown";
  /** The input, as given. */
  reference: string;
  /** Why, as a stable code. */
  code: RegistryErrorCode;
  /** What went wrong; never a secret. */
  message: string;
  /** The error. */
  error: RegistryError;
}

/** The image a question was about does not exist. */
export interface AbsentResult {
  /** The image does not exist. */
  status: "absent";
  /** The input, as given. */
  reference: string;
}

/** The answer of an existence check. */
export type ExistsResult =
  | {
    /** The image exists. */
    status: "present";
    /** The input, as given. */
    reference: string;
    /** The manifest digest the registry reported. */
    digest: string;
    /** The manifest media type, when the registry said. */
    mediaType?: string;
  }
  | {
    /** The registry says the manifest or repository does not exist. */
    status: "absent";
    /** The input, as given. */
    reference: string;
  }
  | UnknownResult;

/** Options for a single operation. */
export interface OperationOptions {
  /**
   * Aborts the operation.
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.tags} and `tagPages`. */
export interface TagsOptions extends OperationOptions {
  /**
   * Most tags listed: more (or more than 160 bytes of listing per allowed
   * tag) is `RESPONSE_TOO_LARGE`, so a registry that never stops paging
   * cannot exhaust memory.
   * @default {1000000}
   */
  maxTags?: number;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.existsMany}. */
export interface ExistsManyOptions extends OperationOptions {
  /**
   * Checks running at once.
   * @default {8}
   */
  concurrency?: number;
}

/** Options for operations that can resolve a platform in an index. */
export interface PlatformOptions extends OperationOptions {
  /**
   * Resolve an index or manifest list to this platform (`os/arch[/variant]`).
   * @default {undefined}
   */
  platform?: string | Platform;
}

/** A manifest as served. */
export interface ManifestResult {
  /** The digest of `bytes` (verified against the registry's header and the reference). */
  digest: string;
  /** The media type (`Content-Type` or the manifest's `mediaType`). */
  mediaType: string;
  /** The raw bytes as served. */
  bytes: Uint8Array;
  /** The parsed JSON. */
  json: Record<string, unknown>;
  /** When an index was resolved through `platform`, the index's digest. */
  indexDigest?: string;
}

/** What {@linkcode ContainerRegistryClient.prototype.inspect} returns, shaped like `skopeo inspect`. */
export interface ImageInspection {
  /** The repository, canonical (`docker.io/library/alpine`). */
  Name: string;
  /** The digest the reference resolves to (the index digest for an index). */
  Digest: string;
  /** The tag, if the reference had one. */
  Tag?: string;
  /** The image's creation time, if recorded. */
  Created?: string;
  /** CPU architecture. */
  Architecture: string;
  /** Operating system. */
  Os: string;
  /** CPU variant, if any. */
  Variant?: string;
  /** Image labels. */
  Labels: Record<string, string>;
  /** Layer digests, in order. */
  Layers: string[];
  /** The media type of the platform manifest. */
  MediaType: string;
  /** The repository's tags (valid tags only), when asked for with `tags: true`. */
  RepoTags?: string[];
  /** The environment the image sets (`KEY=value`), from the config blob; empty when none. */
  Env: string[];
}

/** Options for {@linkcode ContainerRegistryClient.prototype.inspect}. */
export interface InspectOptions extends PlatformOptions {
  /**
   * Also list the repository's tags (`RepoTags`): one more request per page of tags.
   * @default {false}
   */
  tags?: boolean;
}

/** An image's config blob as served, from {@linkcode ContainerRegistryClient.prototype.config}. */
export interface ImageConfigResult {
  /** The config blob's digest (verified against `bytes`). */
  digest: string;
  /** The media type the manifest gives the config (`""` when it gives none). */
  mediaType: string;
  /** The raw bytes as served. */
  bytes: Uint8Array;
  /** The parsed JSON. */
  json: Record<string, unknown>;
  /** The digest of the (platform) manifest that names this config. */
  manifestDigest: string;
}

/** Counts of what a client has sent. */
export interface ClientStats {
  /** HTTP exchanges on the wire (retries and redirect hops included). */
  requests: number;
  /** Retries after temporary failures. */
  retries: number;
  /** Token requests. */
  tokenRequests: number;
}

/** An artifact attached to an image: a signature, attestation, SBOM or other. */
export interface AttachedArtifact {
  /** What it is. */
  kind: ArtifactKind;
  /** How it is encoded. */
  format: ArtifactFormat;
  /** Where it was found. */
  via: ArtifactSource;
  /** The artifact manifest's digest. */
  digest: string;
  /** Its media type. */
  mediaType: string;
  /** The repository that holds it (`registry/path`). */
  repository: string;
  /** Its artifact type, when it has one (referrers). */
  artifactType?: string;
  /** The tag it was found under (`sha256-<hex>.sig`, …), for cosign tags. */
  tag?: string;
  /** The in-toto predicate type, when the annotations say. */
  predicateType?: string;
  /** When it was made (`org.opencontainers.image.created`), when the annotations say. */
  created?: string;
  /** For a legacy cosign `.sig` image: how many signature layers it holds. */
  layers?: number;
}

/** How referrers were found for a digest. */
export interface ReferrersSource {
  /** `api`: the registry's referrers API; `tag`: the fallback tag schema. */
  source: "api" | "tag";
  /** Why the fallback was used, or why the fallback tag was not a referrers index. */
  reason?: string;
}

/** The artifacts attached to one manifest (an image, or one platform of an index). */
export interface DigestArtifacts {
  /** The manifest's digest. */
  digest: string;
  /** Its platform (`os/arch[/variant]`), for a child of an index. */
  platform?: string;
  /** What is attached to it. */
  artifacts: AttachedArtifact[];
  /** How its referrers were found. */
  referrers: ReferrersSource;
}

/** The answer of {@linkcode ContainerRegistryClient.prototype.artifacts}. */
export type ArtifactsResult =
  | ({
    /** The image exists and was examined. */
    status: "present";
    /** The input, as given. */
    reference: string;
    /** The image's media type, when known. */
    mediaType?: string;
    /** With `platforms` other than `"index"` on an index: each child examined. */
    platforms?: DigestArtifacts[];
  } & DigestArtifacts)
  | AbsentResult
  | UnknownResult;

/** Options for {@linkcode ContainerRegistryClient.prototype.artifacts}. */
export interface ArtifactsOptions extends OperationOptions {
  /**
   * Which manifests to examine: `"index"` the digest the reference names;
   * `"all"` also every child of an index; or a list of platforms
   * (`os/arch[/variant]`) whose children are examined with the index.
   * @default {"index"}
   */
  platforms?: "index" | "all" | readonly string[];
  /**
   * Which kinds to report.
   * @default {["signature", "attestation", "sbom", "other"]}
   */
  kinds?: readonly ArtifactKind[];
  /**
   * The repository signatures are kept in, when not the image's (cosign's
   * `COSIGN_REPOSITORY`), e.g. `quay.io/org/signatures`.
   * @default {undefined}
   */
  signatureRepository?: string;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.artifactsMany}. */
export interface ArtifactsManyOptions extends ArtifactsOptions {
  /**
   * Images examined at once.
   * @default {8}
   */
  concurrency?: number;
}

/** A signature found for a digest (without a key: that one exists). */
export interface SignatureFound {
  /** How it is encoded. */
  format: ArtifactFormat;
  /** Where it was found. */
  via: ArtifactSource;
  /** The signature artifact's manifest digest. */
  digest: string;
  /** The repository that holds it. */
  repository: string;
  /** The tag, for a legacy cosign signature. */
  tag?: string;
}

/** Whether one manifest (an image, or one platform of an index) is signed. */
export interface DigestSignatures {
  /** `signed`: at least one signature artifact is attached. */
  status: "signed" | "unsigned";
  /** The manifest's digest. */
  digest: string;
  /** Its platform, for a child of an index. */
  platform?: string;
  /** The signatures found. */
  signatures: SignatureFound[];
}

/** The answer of {@linkcode ContainerRegistryClient.prototype.signed}. */
export type SignedResult =
  | ({
    /** The input, as given. */
    reference: string;
    /** With `platforms: "all"` on an index: each child; the image is signed only when all are. */
    platforms?: DigestSignatures[];
  } & DigestSignatures)
  | AbsentResult
  | UnknownResult;

/** Options for {@linkcode ContainerRegistryClient.prototype.signed}. */
export interface SignedOptions extends OperationOptions {
  /**
   * `"index"`: the digest the reference names must be signed; `"all"`: for an
   * index, every child too.
   * @default {"index"}
   */
  platforms?: "index" | "all";
  /**
   * The repository signatures are kept in, when not the image's.
   * @default {undefined}
   */
  signatureRepository?: string;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.signedMany}. */
export interface SignedManyOptions extends SignedOptions {
  /**
   * Images checked at once.
   * @default {8}
   */
  concurrency?: number;
}

/** The answer of {@linkcode ContainerRegistryClient.prototype.referrers}. */
export interface ReferrersResult extends ReferrersSource {
  /** The subject's digest. */
  subject: string;
  /** The referrers' descriptors. */
  descriptors: Descriptor[];
  /** Whether the registry applied the `artifactType` filter (else regkit did). */
  filterApplied: boolean;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.referrers}. */
export interface ReferrersOptions extends OperationOptions {
  /**
   * Only referrers of this artifact type.
   * @default {undefined}
   */
  artifactType?: string;
}

/** One signature examined with keys. */
export interface ExaminedSignature extends SignatureFound {
  /** Whether it verifies and binds to the digest (identity, annotations). */
  verified: boolean;
  /** The fingerprint (SHA-256 of the SPKI, hex) of the key that verified it. */
  keyFingerprint?: string;
  /** Why it does not count. */
  reason?: UnverifiedReason;
  /** More words on why. */
  detail?: string;
}

/** The verification of one manifest (an image, or one platform of an index). */
export interface DigestVerification {
  /**
   * `verified`: a signature verifies with a given key for this digest;
   * `unverified`: signatures exist, none verifies; `unsigned`: none exists.
   */
  status: "verified" | "unverified" | "unsigned";
  /** The manifest's digest. */
  digest: string;
  /** Its platform, for a child of an index. */
  platform?: string;
  /** Every signature examined. */
  signatures: ExaminedSignature[];
}

/** The answer of {@linkcode ContainerRegistryClient.prototype.verify}. */
export type VerifyResult =
  | ({
    /** The input, as given. */
    reference: string;
    /** With `platforms: "all"`: each child; the image is verified only when all are. */
    platforms?: DigestVerification[];
  } & DigestVerification)
  | AbsentResult
  | UnknownResult;

/** Options for {@linkcode ContainerRegistryClient.prototype.verify}. */
export interface VerifyOptions extends SignedOptions {
  /** Public keys: PEM text (`cosign.pub`) or keys from `parsePublicKey`. */
  keys: ReadonlyArray<string | VerificationKey>;
  /**
   * The image name a legacy signature must be for (`docker-reference`), e.g.
   * `quay.io/org/app`; a tag or digest in it must match too.
   * @default {undefined}
   */
  identity?: string;
  /**
   * Annotations the payload must carry (pubtools-sign puts `tag=T`).
   * @default {undefined}
   */
  annotations?: Readonly<Record<string, string>>;
  /**
   * Most signatures examined per manifest (a hostile `.sig` image may hold thousands).
   * @default {16}
   */
  maxSignatures?: number;
}

/** Options for {@linkcode ContainerRegistryClient.prototype.verifyMany}. */
export interface VerifyManyOptions extends VerifyOptions {
  /**
   * Images checked at once.
   * @default {8}
   */
  concurrency?: number;
}
