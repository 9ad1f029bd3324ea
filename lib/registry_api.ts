/**
 * The distribution-spec wire operations every feature shares, over the
 * transport: manifest HEAD and GET (with their digest checks), blob HEAD and
 * GET (bounded, digest verified), and one page of tags. This is the one
 * module that builds API paths and reads statuses; operations above it get
 * typed answers or a `RegistryError` from {@linkcode statusError}.
 *
 * A new wire call is one more function of the same shape, here or, for a
 * separate API, beside it (`GET /v2/<name>/referrers/<digest>` is
 * `referrers_api.ts`).
 *
 * @module
 */

import { quote, RegistryError, statusError } from "./errors.ts";
import { isCheckableDigest, verifyDigest } from "./digest.ts";
import { nextLink } from "./link.ts";
import { MANIFEST_ACCEPT, manifestMediaType, mediaTypeOf } from "./media_types.ts";
import { parseReference, type Reference, type Repository } from "./reference.ts";
import type { HttpResponse } from "./http.ts";
import type { RegistryRequest, Transport } from "./transport.ts";
import type { ManifestResult } from "./types.ts";

/** Largest manifest accepted (the distribution spec's recommended limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest blob {@linkcode getBlob} reads unless told otherwise (image configs). */
export const MAX_BLOB_BYTES = 8 * 1024 * 1024;
/** Largest page of tags accepted. */
export const MAX_TAGS_PAGE_BYTES = MAX_MANIFEST_BYTES;

/** What every wire call takes. */
export interface ApiOptions {
  /**
   * What the request is for, in messages (e.g. the reference as given).
   * @default {String(reference)}
   */
  what?: string;
  /**
   * Aborts the request.
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
}

/** Options for {@linkcode headManifest}. */
export interface HeadManifestOptions extends ApiOptions {
  /**
   * What could not be done when the answer is a failure, as in `Cannot <action> "<what>"`.
   * @default {"check"}
   */
  action?: string;
  /**
   * The seed's contract: send exactly this `Authorization` first (`null`:
   * none) instead of the cached token; a 401 is then answered by the
   * transport's handshake as any other.
   * @default {undefined}
   */
  firstAuthorization?: string | null | undefined;
  /**
   * Hears the `Authorization` a 401 was answered with (seed mode).
   * @default {undefined}
   */
  onAuthorization?: ((authorization: string) => void) | undefined;
}

/**
 * The answer of a manifest HEAD: `present` with the digest, `absent` (404),
 * or `failed` with the mapped error and the (bounded) body, which the seed's
 * contract quotes.
 */
export type ManifestHead =
  | { kind: "present"; digest: string; mediaType?: string }
  | { kind: "absent" }
  | { kind: "failed"; error: RegistryError; body: Uint8Array };

/** Options for {@linkcode getManifest}. */
export interface GetManifestOptions extends ApiOptions {
  /**
   * What could not be done on a failure, as in `Cannot <action> "<what>"`.
   * @default {"get the manifest of"}
   */
  action?: string;
}

/** Options for {@linkcode getBlob}. */
export interface GetBlobOptions extends ApiOptions {
  /**
   * What could not be done on a failure.
   * @default {"get the blob of"}
   */
  action?: string;
  /**
   * Largest body read; more is `RESPONSE_TOO_LARGE`.
   * @default {MAX_BLOB_BYTES}
   */
  maxBytes?: number;
  /**
   * The size the descriptor names; a body of another size is `DIGEST_MISMATCH`.
   * @default {undefined}
   */
  size?: number | undefined;
}

/** A blob the registry has, from {@linkcode headBlob}. */
export interface BlobHead {
  /** Its digest (the one asked for, confirmed by the registry when it said). */
  digest: string;
  /** Its size in bytes, when the registry said. */
  size?: number;
}

/** Options for {@linkcode getTagsPage}. */
export interface TagsPageOptions extends ApiOptions {
  /**
   * The page to fetch: a previous page's `next`; the first page when absent.
   * @default {undefined}
   */
  page?: string | undefined;
  /**
   * Largest page body accepted; more is `RESPONSE_TOO_LARGE`. A registry that
   * ignores `n` (distribution 2.8) sends every tag in one page.
   * @default {MAX_TAGS_PAGE_BYTES}
   */
  maxBytes?: number;
}

/** One page of a repository's tags. */
export interface TagsPage {
  /** The tags on this page that are strings, in the registry's order. */
  tags: string[];
  /** Where this page was fetched from (to detect pagination loops). */
  location: string;
  /** The next page (pass it as `page`), or `undefined` on the last one. */
  next?: string;
  /** The size of the page's body in bytes. */
  bytes: number;
}

function manifestPath(ref: Reference): string {
  return `/v2/${ref.repository}/manifests/${ref.reference}`;
}

function blobPath(ref: Reference): string {
  return `/v2/${ref.repository}/blobs/${ref.digest}`;
}

/**
 * The `what` and `signal` of a wire call's request.
 *
 * @param ref What the request is about.
 * @param options The call's options.
 * @returns The request's `what` and `signal`.
 */
export function common(
  ref: Repository,
  options: ApiOptions,
): Pick<RegistryRequest, "what" | "signal"> {
  return {
    what: options.what ?? String(ref),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}

/**
 * Checks a manifest with one `HEAD`. A registry that refuses HEAD (405, 501)
 * or sends no `Docker-Content-Digest` gets one `GET`, whose body is hashed.
 *
 * @param transport The transport.
 * @param ref The reference (tag or digest).
 * @param options Messages, signal, and the seed's authorization.
 * @returns `present`, `absent` or `failed`.
 * @throws {RegistryError} `INVALID_RESPONSE` for a missing or malformed digest,
 *   `DIGEST_MISMATCH`, and whatever the transport throws (`NETWORK`, `TIMEOUT`, ...).
 */
export async function headManifest(
  transport: Transport,
  ref: Reference,
  options: HeadManifestOptions = {},
): Promise<ManifestHead> {
  const { action = "check", onAuthorization } = options;
  const what = options.what ?? String(ref);
  let first = options.firstAuthorization;
  const request = (method: "HEAD" | "GET"): RegistryRequest => ({
    method,
    path: manifestPath(ref),
    accept: MANIFEST_ACCEPT,
    maxBytes: MAX_MANIFEST_BYTES,
    ...common(ref, options),
    ...(first === undefined ? {} : {
      firstAuthorization: first,
      onAuthorization: (authorization: string) => {
        first = authorization; // a fallback GET sends what answered the HEAD's 401
        onAuthorization?.(authorization);
      },
    }),
  });
  let response = await transport.request(ref, request("HEAD"));
  let digest = response.headers.get("docker-content-digest") ?? undefined;
  if (
    response.status === 405 || response.status === 501 ||
    (response.status === 200 && digest === undefined)
  ) {
    // HEAD not allowed, or no digest header: GET once and hash the body, once it is known to
    // be a manifest (an SSO login page or a proxy's HTML answers 200 too).
    response = await transport.request(ref, request("GET"));
    if (response.status === 200) {
      const problem = notAManifest(response);
      if (problem !== undefined) {
        throw new RegistryError(
          "INVALID_RESPONSE",
          `Cannot ${action} ${quote(what)}: the registry answered 200 with ${problem}`,
          { status: 200 },
        );
      }
      digest = await verifiedDigest(ref, what, response);
    }
  }
  if (response.status === 404) return { kind: "absent" };
  if (response.status !== 200) {
    return { kind: "failed", error: statusError(response, { action, what }), body: response.body };
  }
  if (!isCheckableDigest(digest)) {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot check ${quote(what)}: the registry sent no valid Docker-Content-Digest` +
        (digest === undefined ? "" : ` (${quote(String(digest).slice(0, 80))})`),
      { status: 200 },
    );
  }
  if (ref.digest !== undefined && digest !== ref.digest) {
    throw new RegistryError(
      "DIGEST_MISMATCH",
      `Cannot trust ${quote(what)}: the registry answered with digest ${quote(digest)}`,
      { status: 200 },
    );
  }
  const mediaType = mediaTypeOf(response.headers.get("content-type"));
  return mediaType === undefined ? { kind: "present", digest } : {
    kind: "present",
    digest,
    mediaType,
  };
}

/**
 * Fetches a manifest and checks its bytes against the reference's digest and
 * the registry's header.
 *
 * @param transport The transport.
 * @param ref The reference (tag or digest).
 * @param options Messages and signal.
 * @returns The manifest as served, parsed.
 * @throws {RegistryError} As {@linkcode statusError} for a non-200 answer,
 *   `DIGEST_MISMATCH`, `INVALID_RESPONSE` for a body that is not a JSON object.
 */
export async function getManifest(
  transport: Transport,
  ref: Reference,
  options: GetManifestOptions = {},
): Promise<ManifestResult> {
  const { action = "get the manifest of" } = options;
  const what = options.what ?? String(ref);
  const response = await transport.request(ref, {
    method: "GET",
    path: manifestPath(ref),
    accept: MANIFEST_ACCEPT,
    maxBytes: MAX_MANIFEST_BYTES,
    ...common(ref, options),
  });
  if (response.status !== 200) throw statusError(response, { action, what });
  const digest = await verifiedDigest(ref, what, response);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(response.body));
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new TypeError();
  } catch {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot read the manifest of ${quote(what)}: not a JSON object`,
      { status: 200 },
    );
  }
  const mediaType = manifestMediaType(json, response.headers.get("content-type"));
  return { digest, mediaType, bytes: response.body, json };
}

/**
 * Checks a blob with one `HEAD`.
 *
 * @param transport The transport.
 * @param ref The blob's reference: `name@digest`.
 * @param options Messages and signal.
 * @returns The blob's digest and size, or `undefined` when the registry has none (404).
 * @throws {RegistryError} As {@linkcode statusError} for another non-200 answer;
 *   `DIGEST_MISMATCH` when the registry names another digest.
 */
export async function headBlob(
  transport: Transport,
  ref: Reference,
  options: ApiOptions = {},
): Promise<BlobHead | undefined> {
  const what = options.what ?? String(ref);
  const digest = requireDigest(ref, what);
  const response = await transport.request(ref, {
    method: "HEAD",
    path: blobPath(ref),
    maxBytes: 0,
    ...common(ref, options),
  });
  if (response.status === 404) return undefined;
  if (response.status !== 200) {
    throw statusError(response, { action: "check the blob of", what, context: "blob" });
  }
  const header = response.headers.get("docker-content-digest");
  if (header !== null && header !== digest) {
    throw new RegistryError(
      "DIGEST_MISMATCH",
      `Cannot trust ${quote(what)}: the registry answered with digest ${quote(header)}`,
      { status: 200 },
    );
  }
  const size = Number(response.headers.get("content-length") ?? NaN);
  return Number.isSafeInteger(size) && size >= 0 ? { digest, size } : { digest };
}

/**
 * Reads a blob, bounded, and checks it against its digest (and size, when given).
 *
 * @param transport The transport.
 * @param ref The blob's reference: `name@digest`.
 * @param options Messages, signal, the size limit and the descriptor's size.
 * @returns The blob's bytes.
 * @throws {RegistryError} As {@linkcode statusError} for a non-200 answer,
 *   `RESPONSE_TOO_LARGE`, `DIGEST_MISMATCH`.
 */
export async function getBlob(
  transport: Transport,
  ref: Reference,
  options: GetBlobOptions = {},
): Promise<Uint8Array> {
  const { action = "get the blob of", maxBytes = MAX_BLOB_BYTES, size } = options;
  const what = options.what ?? String(ref);
  const digest = requireDigest(ref, what);
  const response = await transport.request(ref, {
    method: "GET",
    path: blobPath(ref),
    maxBytes,
    ...common(ref, options),
  });
  if (response.status !== 200) throw statusError(response, { action, what, context: "blob" });
  // A blob's header (if any) came from wherever the redirect led: only the descriptor counts.
  await verifyDigest(response.body, { digest, size, what, status: response.status });
  return response.body;
}

/**
 * Fetches one page of a repository's tags.
 *
 * @param transport The transport.
 * @param repository The repository.
 * @param options Messages, signal and the page (a previous page's `next`).
 * @returns The page's tags and the next page, if any.
 * @throws {RegistryError} As {@linkcode statusError} for a non-200 answer (`NAME_UNKNOWN`, ...),
 *   `INVALID_RESPONSE` for a body that is not JSON.
 */
export async function getTagsPage(
  transport: Transport,
  repository: Repository,
  options: TagsPageOptions = {},
): Promise<TagsPage> {
  const what = options.what ?? repository.name;
  const location = options.page ?? `/v2/${repository.repository}/tags/list`;
  const response = await transport.request(repository, {
    method: "GET",
    path: location,
    accept: "application/json",
    maxBytes: options.maxBytes ?? MAX_TAGS_PAGE_BYTES,
    ...common(repository, { ...options, what }),
  });
  if (response.status !== 200) {
    throw statusError(response, { action: "list tags of", what, context: "tags" });
  }
  let body: { tags?: unknown };
  try {
    body = JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot list tags of ${quote(what)}: the answer is not JSON`,
    );
  }
  const tags = Array.isArray(body?.tags)
    ? body.tags.filter((tag): tag is string => typeof tag === "string")
    : [];
  const next = nextLink(response.headers.get("link"));
  const bytes = response.body.byteLength;
  return next === undefined ? { tags, location, bytes } : { tags, location, next, bytes };
}

/**
 * The reference of a descriptor in the same repository as `ref`: `name@digest`.
 *
 * @param ref Any reference in the repository.
 * @param digest The descriptor's digest.
 * @returns The reference.
 * @throws {RegistryError} `INVALID_REFERENCE` for a malformed digest.
 */
export function descriptorReference(ref: Repository, digest: string): Reference {
  return parseReference(`${ref.name}@${digest}`);
}

/**
 * The digest of a by-digest reference.
 *
 * @param ref The reference.
 * @param what The subject of the message.
 * @returns The digest.
 * @throws {RegistryError} `INVALID_REFERENCE` when the reference has none.
 */
export function requireDigest(ref: Reference, what: string): string {
  if (ref.digest === undefined) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `Cannot fetch a blob of ${quote(what)}: no digest`,
    );
  }
  return ref.digest;
}

const MANIFEST_TYPES: ReadonlySet<string> = new Set(MANIFEST_ACCEPT.split(", "));

/**
 * Why a 200 answer to a manifest `GET` is not a manifest, or `undefined`: its
 * `Content-Type` must be a manifest type (or JSON, or absent, as some
 * registries send) and its body a JSON object with `schemaVersion` 2 and
 * `layers` or `manifests`.
 */
function notAManifest(response: HttpResponse): string | undefined {
  const type = mediaTypeOf(response.headers.get("content-type"));
  if (type !== undefined && !MANIFEST_TYPES.has(type) && type !== "application/json") {
    return `${quote(type.slice(0, 80))}, not a manifest`;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(response.body));
  } catch {
    return "a body that is not JSON";
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "no JSON object";
  const manifest = json as Record<string, unknown>;
  if (
    manifest.schemaVersion !== 2 ||
    !(Array.isArray(manifest.layers) || Array.isArray(manifest.manifests))
  ) {
    return "JSON that is not an image manifest or index";
  }
  return undefined;
}

/** A manifest body's digest, checked against the reference and the registry's header. */
function verifiedDigest(ref: Reference, what: string, response: HttpResponse): Promise<string> {
  return verifyDigest(response.body, {
    digest: ref.digest,
    header: response.headers.get("docker-content-digest") ?? undefined,
    what,
    status: response.status,
  });
}
