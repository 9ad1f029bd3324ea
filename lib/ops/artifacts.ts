/**
 * Attached artifacts: the referrers of a digest, everything attached to an
 * image (signatures, attestations, SBOMs; legacy cosign tags, the referrers
 * API or its fallback tag, BuildKit entries of an index), and "is it
 * signed?", for one image or many. Answers are three-way: a registry that
 * cannot be read is `unknown`, never "nothing attached".
 *
 * @module
 */

import { isRegistryError, quote, RegistryError } from "../errors.ts";
import { parseReference, parseRepository, type Reference, type Repository } from "../reference.ts";
import { descriptorReference, getManifest, headManifest } from "../registry_api.ts";
import { type ArtifactKind, type Descriptor, indexDescriptors } from "../cosign.ts";
import { isIndex, MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_OCI_INDEX } from "../media_types.ts";
import { formatPlatform, parsePlatform, platformMatches } from "../platform.ts";
import type {
  ArtifactsManyOptions,
  ArtifactsOptions,
  ArtifactsResult,
  DigestArtifacts,
  DigestSignatures,
  ReferrersOptions,
  ReferrersResult,
  SignedManyOptions,
  SignedOptions,
  SignedResult,
  UnknownResult,
} from "../types.ts";
import { checkConcurrency, runMany } from "./_bulk.ts";
import { Discovery, unexpected } from "./_discovery.ts";
import type { OperationContext } from "./_context.ts";

const ALL_KINDS: readonly ArtifactKind[] = ["signature", "attestation", "sbom", "other"];
const BUILDKIT_TYPE = "vnd.docker.reference.type";
const BUILDKIT_DIGEST = "vnd.docker.reference.digest";

/** The unknown answer for an input. */
export function unknown(reference: string, error: RegistryError): UnknownResult {
  return { status: "unknown", reference, code: error.code, message: error.message, error };
}

/** Checked options of {@linkcode artifacts} and {@linkcode signed}. */
export interface Plan {
  platforms: "index" | "all" | readonly string[];
  kinds: ReadonlySet<ArtifactKind>;
  signatureRepository?: Repository;
}

export function plan(options: ArtifactsOptions): Plan {
  const { platforms = "index", kinds = ALL_KINDS } = options;
  if (platforms !== "index" && platforms !== "all") {
    if (!Array.isArray(platforms)) {
      throw new TypeError(
        `Cannot use option "platforms": ${String(platforms)} is not "index", "all" or a list`,
      );
    }
    platforms.forEach((p) => parsePlatform(p));
  }
  for (const kind of kinds) {
    if (!ALL_KINDS.includes(kind)) {
      throw new TypeError(`Cannot use option "kinds": ${JSON.stringify(kind)} is not a kind`);
    }
  }
  return {
    platforms,
    kinds: new Set(kinds),
    ...(options.signatureRepository === undefined
      ? {}
      : { signatureRepository: parseRepository(options.signatureRepository) }),
  };
}

/** The attached-artifact candidates each image asks about, for the listing-vs-HEAD choice. */
export function candidates(kinds: ReadonlySet<ArtifactKind>): number {
  return 1 + ["signature", "attestation", "sbom"].filter((k) => kinds.has(k as ArtifactKind))
    .length;
}

function isBuildkitAttestation(d: Descriptor): boolean {
  return d.annotations?.[BUILDKIT_TYPE] === "attestation-manifest";
}

function buildkitArtifact(d: Descriptor, repository: Reference) {
  return {
    kind: "attestation" as const,
    format: "buildkit" as const,
    via: "index" as const,
    digest: d.digest,
    mediaType: d.mediaType,
    repository: repository.name,
  };
}

/** One image to examine: its reference as parsed and as given, and the batch's discovery. */
export interface ExamineTarget {
  /** The batch's (or the call's) discovery. */
  discovery: Discovery;
  /** The reference. */
  ref: Reference;
  /** The reference as given, for results and messages. */
  input: string;
}

/** Examines one image (see `artifacts`). */
export async function examine(
  ctx: OperationContext,
  target: ExamineTarget,
  options: Plan,
): Promise<ArtifactsResult> {
  const { discovery, ref, input } = target;
  try {
    const where = options.signatureRepository ?? ref.repo;
    let digest = ref.digest;
    let mediaType: string | undefined;
    if (digest === undefined) {
      const head = await headManifest(ctx.transport, ref, { what: input, signal: ctx.signal });
      if (head.kind === "absent") return { status: "absent", reference: input };
      if (head.kind === "failed") return unknown(input, head.error);
      digest = head.digest;
      mediaType = head.mediaType;
    }
    const maybeIndex = mediaType === undefined || mediaType === MEDIA_TYPE_OCI_INDEX ||
      mediaType === MEDIA_TYPE_DOCKER_LIST;
    const wantIndex = maybeIndex &&
      (options.platforms !== "index" ||
        (options.kinds.has("attestation") && mediaType !== undefined));
    let entries: Descriptor[] | undefined;
    if (wantIndex) {
      let manifest;
      try {
        manifest = await getManifest(ctx.transport, descriptorReference(ref, digest), {
          what: input,
          signal: ctx.signal,
        });
      } catch (error) {
        if (isRegistryError(error, "MANIFEST_UNKNOWN")) {
          return { status: "absent", reference: input };
        }
        throw error;
      }
      mediaType = manifest.mediaType;
      if (isIndex(manifest.json)) entries = indexDescriptors(manifest.json);
    }
    const children = (entries ?? []).filter((d) => !isBuildkitAttestation(d));
    const buildkit = (entries ?? []).filter(isBuildkitAttestation);
    const top = await discovery.attached({
      repository: where,
      digest,
      kinds: options.kinds,
      subjectChildren: children.map((c) => c.digest),
      what: input,
    });
    const result: ArtifactsResult = {
      status: "present",
      reference: input,
      digest,
      ...(mediaType === undefined ? {} : { mediaType }),
      artifacts: top.artifacts,
      referrers: top.referrers,
    };
    const wantBuildkit = options.kinds.has("attestation");
    if (options.platforms === "index" || entries === undefined) {
      if (wantBuildkit) result.artifacts.push(...buildkit.map((d) => buildkitArtifact(d, ref)));
      return result;
    }
    const wanted = options.platforms === "all"
      ? children
      : children.filter((c) =>
        (options.platforms as readonly string[]).some((p) =>
          platformMatches(parsePlatform(p), c.platform)
        )
      );
    result.platforms = await Promise.all(wanted.map(async (child): Promise<DigestArtifacts> => {
      const found = await discovery.attached({
        repository: where,
        digest: child.digest,
        kinds: options.kinds,
        what: `${input} (${formatPlatform(child.platform)})`,
      });
      if (wantBuildkit) {
        found.artifacts.push(
          ...buildkit.filter((d) => d.annotations?.[BUILDKIT_DIGEST] === child.digest)
            .map((d) => buildkitArtifact(d, ref)),
        );
      }
      return { digest: child.digest, platform: formatPlatform(child.platform), ...found };
    }));
    return result;
  } catch (error) {
    if (isRegistryError(error)) return unknown(input, error);
    return unknown(input, unexpected(input, error));
  }
}

function toSigned(result: ArtifactsResult): SignedResult {
  if (result.status !== "present") return result;
  const summarise = (d: DigestArtifacts): DigestSignatures => {
    const signatures = d.artifacts.filter((a) => a.kind === "signature").map((a) => ({
      format: a.format,
      via: a.via,
      digest: a.digest,
      repository: a.repository,
      ...(a.tag === undefined ? {} : { tag: a.tag }),
    }));
    return {
      status: signatures.length > 0 ? "signed" : "unsigned",
      digest: d.digest,
      ...(d.platform === undefined ? {} : { platform: d.platform }),
      signatures,
    };
  };
  const top = summarise(result);
  if (result.platforms === undefined) return { reference: result.reference, ...top };
  const platforms = result.platforms.map(summarise);
  const all = top.status === "signed" && platforms.every((p) => p.status === "signed");
  return { reference: result.reference, ...top, status: all ? "signed" : "unsigned", platforms };
}

/**
 * Everything attached to one image.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options Platforms, kinds and the signature repository.
 * @returns The three-way answer.
 * @throws {RegistryError} `INVALID_REFERENCE` for an unparsable reference or signature repository.
 * @throws {TypeError} For options that are not what they must be.
 */
export async function artifacts(
  ctx: OperationContext,
  imageReference: string,
  options: ArtifactsOptions = {},
): Promise<ArtifactsResult> {
  const checked = plan(options);
  const ref = parseReference(imageReference);
  const discovery = new Discovery(ctx, candidates(checked.kinds));
  return await examine(ctx, { discovery, ref, input: imageReference }, checked);
}

/**
 * Everything attached to many images: one result per input, in input order.
 *
 * @param ctx The client's wiring.
 * @param inputs References.
 * @param options As {@linkcode artifacts}, and concurrency.
 * @returns The results, in input order.
 * @throws {RangeError} At once, for a bad `concurrency`.
 */
export function artifactsMany(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  options: ArtifactsManyOptions = {},
): AsyncIterableIterator<ArtifactsResult> {
  return examineMany(ctx, inputs, {
    concurrency: options.concurrency,
    plan: plan(options),
    finish: (found) => found,
  });
}

/** Options for {@linkcode examineMany}. */
export interface ExamineManyOptions<R> {
  /** Checks at once (checked here). @default {8} */
  concurrency: number | undefined;
  /** The checked plan. */
  plan: Plan;
  /** What to make of one image's examination. */
  finish: (found: ArtifactsResult, discovery: Discovery) => R | Promise<R>;
}

/**
 * Runs `finish` over the examination of every input, sharing one
 * {@linkcode Discovery} (tag listings, the per-repository choice) for the batch.
 *
 * @param ctx The client's wiring.
 * @param inputs References.
 * @param options Concurrency, the checked plan, and what to make of each image.
 * @returns The results, in input order.
 * @throws {RangeError} At once, for a bad `concurrency`.
 */
export function examineMany<R>(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  options: ExamineManyOptions<R>,
): AsyncIterableIterator<R | UnknownResult> {
  const { concurrency, plan: checked, finish } = options;
  const n = checkConcurrency(concurrency ?? 8);
  const discovery = new Discovery(ctx, candidates(checked.kinds));
  return runMany<R | UnknownResult>(ctx, inputs, n, {
    run: async (ref, input) =>
      await finish(await examine(ctx, { discovery, ref, input }, checked), discovery),
    invalid: unknown,
    plan: (refs) => {
      for (const ref of refs) discovery.expect(checked.signatureRepository ?? ref.repo);
    },
  });
}

/** The plan of a signature question: `platforms` is `"index"` or `"all"`, kinds signatures only. */
export function signedPlan(options: SignedOptions): Plan {
  const { platforms = "index" } = options;
  if (platforms !== "index" && platforms !== "all") {
    throw new TypeError(
      `Cannot use option "platforms": ${String(platforms)} is not "index" or "all"`,
    );
  }
  return plan({ ...options, platforms, kinds: ["signature"] });
}

/**
 * Whether one image is signed: at least one signature artifact is attached
 * to its digest (and, with `platforms: "all"`, to every child of an index).
 * This does not verify anything; see the verification API for that.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options Platforms and the signature repository.
 * @returns `signed`, `unsigned`, `absent` or `unknown`.
 * @throws {RegistryError} `INVALID_REFERENCE`.
 */
export async function signed(
  ctx: OperationContext,
  imageReference: string,
  options: SignedOptions = {},
): Promise<SignedResult> {
  const checked = signedPlan(options);
  const ref = parseReference(imageReference);
  const discovery = new Discovery(ctx, candidates(checked.kinds));
  return toSigned(await examine(ctx, { discovery, ref, input: imageReference }, checked));
}

/**
 * Whether many images are signed: one result per input, in input order.
 *
 * @param ctx The client's wiring.
 * @param inputs References.
 * @param options As {@linkcode signed}, and concurrency.
 * @returns The results, in input order.
 * @throws {RangeError} At once, for a bad `concurrency`.
 */
export function signedMany(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  options: SignedManyOptions = {},
): AsyncIterableIterator<SignedResult> {
  return examineMany(ctx, inputs, {
    concurrency: options.concurrency,
    plan: signedPlan(options),
    finish: toSigned,
  });
}

/**
 * The referrers of an image's digest: the referrers API where the registry
 * has it, else the fallback tag. Resolving a tag costs one `HEAD`.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The artifact-type filter.
 * @returns The subject's digest, the descriptors and where they came from.
 * @throws {RegistryError} `MANIFEST_UNKNOWN` for a missing image, and any
 *   registry failure (never an empty list for an unreadable registry).
 */
export async function referrers(
  ctx: OperationContext,
  imageReference: string,
  options: ReferrersOptions = {},
): Promise<ReferrersResult> {
  const ref = parseReference(imageReference);
  let digest = ref.digest;
  if (digest === undefined) {
    const head = await headManifest(ctx.transport, ref, {
      what: imageReference,
      signal: ctx.signal,
      action: "list referrers of",
    });
    if (head.kind === "failed") throw head.error;
    if (head.kind === "absent") {
      throw new RegistryError(
        "MANIFEST_UNKNOWN",
        `Cannot list referrers of ${quote(imageReference)}: no such image`,
        { status: 404 },
      );
    }
    digest = head.digest;
  }
  const found = await new Discovery(ctx, 1).referrers(ref.repo, digest, {
    what: imageReference,
    ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }),
  });
  return {
    subject: digest,
    descriptors: found.descriptors,
    filterApplied: found.filterApplied,
    ...found.source,
  };
}
