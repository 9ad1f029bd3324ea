/**
 * Internal: finding what is attached to a digest, cheaply, for one image or
 * a batch. Per repository it lists the tags once (then every
 * `sha256-<hex>.sig` question is a set lookup) or, when that would cost more
 * than the questions, asks with a `HEAD` per tag. Whether a repository has
 * the referrers API is learnt from its first real answer and remembered by
 * the client; without it, the referrers fallback tag is read and validated.
 *
 * @module
 */

import { isRegistryError, quote, RegistryError } from "../errors.ts";
import { parseReference, type Repository } from "../reference.ts";
import { descriptorReference, getManifest, headManifest } from "../registry_api.ts";
import { getReferrers } from "../referrers_api.ts";
import {
  type ArtifactKind,
  classifyReferrer,
  cosignTags,
  type Descriptor,
  fallbackIndexProblem,
  indexDescriptors,
  MEDIA_TYPE_COSIGN_SIMPLE_SIGNING,
  MEDIA_TYPE_DSSE_ENVELOPE,
  referrerDetails,
} from "../cosign.ts";
import type { AttachedArtifact, ReferrersSource } from "../types.ts";
import type { OperationContext, ReferrersCapability } from "./_context.ts";
import { tagPages } from "./tags.ts";

/** Most tag pages read for one repository before asking per tag instead. */
const MAX_TAG_PAGES = 1000;
/** The legacy tags kept from a listing: cosign's `<alg>-<hex>[.suffix]` forms. */
const DIGEST_TAG = /[a-z0-9]+-[0-9a-f]{32,}/;

/** The legacy cosign tag suffix for each kind. */
const LEGACY: ReadonlyArray<[ArtifactKind, "signature" | "attestation" | "sbom"]> = [
  ["signature", "signature"],
  ["attestation", "attestation"],
  ["sbom", "sbom"],
];

/** Referrers of one digest, and how they were found. */
export interface FoundReferrers {
  /** Their descriptors (filtered by artifact type when asked). */
  descriptors: Descriptor[];
  /** How they were found. */
  source: ReferrersSource;
  /** Whether the registry applied the artifact-type filter. */
  filterApplied: boolean;
}

/** What {@linkcode Discovery.attached} is asked. */
export interface AttachedQuery {
  /** The repository that holds the artifacts. */
  repository: Repository;
  /** The digest they are attached to. */
  digest: string;
  /** The kinds wanted. */
  kinds: ReadonlySet<ArtifactKind>;
  /** The subject's own children, when it is an index (to reject a bogus fallback index). */
  subjectChildren?: readonly string[];
  /** What the question is for, in messages. */
  what: string;
}

/** One batch's view of the registries: tag sets and the per-repository strategy. */
export class Discovery {
  readonly #ctx: OperationContext;
  readonly #capabilities: Map<string, Promise<ReferrersCapability>>;
  readonly #expected = new Map<string, number>();
  readonly #tagSets = new Map<string, Promise<ReadonlySet<string> | "head">>();
  readonly #candidates: number;
  /** Signature manifests read so far, by digest (verification reads their layers). */
  readonly manifests = new Map<string, Record<string, unknown>>();

  /**
   * @param ctx The client's wiring.
   * @param candidates Tags asked per image (the strategy weighs a listing against them).
   */
  constructor(ctx: OperationContext, candidates: number) {
    this.#ctx = ctx;
    this.#capabilities = ctx.referrers ?? new Map();
    this.#candidates = candidates;
  }

  /**
   * Says that `count` more images of a batch will ask about `repository`.
   *
   * @param repository The repository the artifacts are in.
   * @param count How many images.
   */
  expect(repository: Repository, count = 1): void {
    this.#expected.set(repository.name, (this.#expected.get(repository.name) ?? 0) + count);
  }

  /**
   * Whether `repository` has tag `tag`: a set lookup after one listing, or a
   * `HEAD` when listing would cost more requests than asking.
   */
  async hasTag(repository: Repository, tag: string, what: string): Promise<boolean> {
    let set = this.#tagSets.get(repository.name);
    if (set === undefined) {
      const budget = Math.max(1, this.#expected.get(repository.name) ?? 1) * this.#candidates;
      set = budget <= 1 ? Promise.resolve("head") : this.#list(repository, budget, what);
      this.#tagSets.set(repository.name, set);
      set.catch(() => this.#tagSets.delete(repository.name)); // a failure is not remembered
    }
    const tags = await set;
    if (tags !== "head") return tags.has(tag);
    const answer = await headManifest(
      this.#ctx.transport,
      parseReference(`${repository.name}:${tag}`),
      { what, action: "look for attached artifacts of", signal: this.#ctx.signal },
    );
    if (answer.kind === "failed") throw answer.error;
    return answer.kind === "present";
  }

  /** Lists the digest-named tags of a repository, or gives up ("head") past `budget` pages. */
  async #list(
    repository: Repository,
    budget: number,
    what: string,
  ): Promise<ReadonlySet<string> | "head"> {
    const tags = new Set<string>();
    let pages = 0;
    try {
      for await (const page of tagPages(this.#ctx, repository, { what })) {
        for (const tag of page.tags) if (DIGEST_TAG.test(tag)) tags.add(tag);
        if (++pages >= Math.min(budget, MAX_TAG_PAGES) && !page.last) return "head";
      }
    } catch (error) {
      // A signature repository that does not exist holds no signatures.
      if (isRegistryError(error, "NAME_UNKNOWN") && pages === 0) return tags;
      throw error;
    }
    return tags;
  }

  /**
   * The referrers of `digest` in `repository`: from the referrers API where
   * the registry has it, else from the fallback tag (validated).
   */
  async referrers(
    repository: Repository,
    digest: string,
    options: { what: string; artifactType?: string; subjectChildren?: readonly string[] },
  ): Promise<FoundReferrers> {
    const subject = descriptorReference(repository, digest);
    const ask = () =>
      getReferrers(this.#ctx.transport, subject, {
        what: options.what,
        signal: this.#ctx.signal,
        ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }),
      });
    let known = this.#capabilities.get(repository.name);
    let answer: Awaited<ReturnType<typeof ask>> | undefined;
    if (known === undefined) {
      const first = ask();
      known = first.then((a) =>
        a.kind === "api" ? { api: true } : { api: false, reason: a.reason }
      );
      this.#capabilities.set(repository.name, known);
      known.catch(() => this.#capabilities.delete(repository.name)); // learn from a real answer
      answer = await first;
    } else {
      const capability = await known.catch(() => undefined);
      if (capability === undefined || capability.api) answer = await ask();
      else answer = { kind: "unsupported", reason: capability.reason ?? "no referrers API" };
    }
    if (answer.kind === "api") {
      const descriptors = options.artifactType === undefined || answer.filterApplied
        ? answer.descriptors
        : answer.descriptors.filter((d) => d.artifactType === options.artifactType);
      return { descriptors, source: { source: "api" }, filterApplied: answer.filterApplied };
    }
    return await this.#fallback(repository, digest, answer.reason, options);
  }

  async #fallback(
    repository: Repository,
    digest: string,
    reason: string,
    options: { what: string; artifactType?: string; subjectChildren?: readonly string[] },
  ): Promise<FoundReferrers> {
    const tag = cosignTags(digest).referrers;
    const none = (why: string): FoundReferrers => ({
      descriptors: [],
      source: { source: "tag", reason: why },
      filterApplied: false,
    });
    if (!(await this.hasTag(repository, tag, options.what))) return none(reason);
    const manifest = await getManifest(
      this.#ctx.transport,
      parseReference(`${repository.name}:${tag}`),
      {
        what: options.what,
        action: "read the referrers fallback tag of",
        signal: this.#ctx.signal,
      },
    );
    const problem = fallbackIndexProblem(manifest.json, {
      digest: manifest.digest,
      subject: digest,
      ...(options.subjectChildren === undefined
        ? {}
        : { subjectChildren: options.subjectChildren }),
    });
    if (problem !== undefined) return none(`${reason}; ${problem}`);
    const all = indexDescriptors(manifest.json);
    const descriptors = options.artifactType === undefined
      ? all
      : all.filter((d) => d.artifactType === options.artifactType);
    return { descriptors, source: { source: "tag", reason }, filterApplied: false };
  }

  /** Every artifact of the wanted kinds attached to `query.digest`. */
  async attached(
    query: AttachedQuery,
  ): Promise<{ artifacts: AttachedArtifact[]; referrers: ReferrersSource }> {
    const { repository, digest, kinds, what } = query;
    const tags = cosignTags(digest);
    const [found, legacy] = await Promise.all([
      this.referrers(repository, digest, {
        what,
        ...(query.subjectChildren === undefined ? {} : { subjectChildren: query.subjectChildren }),
      }),
      Promise.all(
        LEGACY.filter(([kind]) => kinds.has(kind)).map(([kind, key]) =>
          this.#legacy(repository, tags[key], kind, what)
        ),
      ),
    ]);
    const via = found.source.source === "api" ? "referrers-api" as const : "referrers-tag" as const;
    const artifacts: AttachedArtifact[] = [];
    for (const descriptor of found.descriptors) {
      let annotations = descriptor.annotations;
      let { kind, format } = classifyReferrer(descriptor);
      if (kind === "other" && format === "sigstore-bundle" && kinds.has("signature")) {
        // A bundle whose descriptor lacks the predicate annotation: the manifest has it.
        const manifest = await getManifest(
          this.#ctx.transport,
          descriptorReference(repository, descriptor.digest),
          { what, signal: this.#ctx.signal },
        );
        this.manifests.set(manifest.digest, manifest.json); // verification reads its layers
        annotations = stringValues(manifest.json.annotations);
        ({ kind, format } = classifyReferrer({ ...descriptor, annotations }));
      }
      if (!kinds.has(kind)) continue;
      artifacts.push({
        kind,
        format,
        via,
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        repository: repository.name,
        ...(descriptor.artifactType === undefined ? {} : { artifactType: descriptor.artifactType }),
        ...referrerDetails(annotations),
      });
    }
    for (const artifact of legacy) {
      if (artifact !== undefined && kinds.has(artifact.kind)) artifacts.push(artifact);
    }
    return { artifacts, referrers: found.source };
  }

  /** A legacy cosign `.sig`/`.att`/`.sbom` image, read when its tag exists. */
  async #legacy(
    repository: Repository,
    tag: string,
    kind: ArtifactKind,
    what: string,
  ): Promise<AttachedArtifact | undefined> {
    if (!(await this.hasTag(repository, tag, what))) return undefined;
    const manifest = await getManifest(
      this.#ctx.transport,
      parseReference(`${repository.name}:${tag}`),
      { what, action: "read the cosign tag of", signal: this.#ctx.signal },
    );
    this.manifests.set(manifest.digest, manifest.json);
    const layers = Array.isArray(manifest.json.layers) ? manifest.json.layers : [];
    const layerType = kind === "signature"
      ? MEDIA_TYPE_COSIGN_SIMPLE_SIGNING
      : kind === "attestation"
      ? MEDIA_TYPE_DSSE_ENVELOPE
      : undefined;
    const count = layerType === undefined
      ? layers.length
      : layers.filter((l) => (l as Record<string, unknown>)?.mediaType === layerType).length;
    return {
      kind: count > 0 ? kind : "other",
      format: "cosign",
      via: "cosign-tag",
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      repository: repository.name,
      tag,
      layers: count,
    };
  }
}

function stringValues(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/**
 * The error for an input that failed in an unexpected way (not a registry error).
 *
 * @param input The input.
 * @param error What was thrown.
 * @returns An `INVALID_RESPONSE` error naming the input.
 */
export function unexpected(input: string, error: unknown): RegistryError {
  return new RegistryError(
    "INVALID_RESPONSE",
    `Cannot examine ${quote(input)}: ${error instanceof Error ? error.name : "unexpected failure"}`,
    { cause: error },
  );
}
