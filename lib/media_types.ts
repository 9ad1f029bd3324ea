/**
 * Manifest media types, the `Accept` list sent for manifests, and telling an
 * index from an image manifest. Pure values.
 *
 * @module
 */

/** OCI image index media type. */
export const MEDIA_TYPE_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** OCI image manifest media type. */
export const MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** Docker manifest list media type. */
export const MEDIA_TYPE_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** Docker image manifest (schema 2) media type. */
export const MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/**
 * The `Accept` header sent for manifests: every current manifest and index type.
 *
 * @example
 * ```ts
 * import { MANIFEST_ACCEPT } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * assert.ok(MANIFEST_ACCEPT.includes("application/vnd.oci.image.index.v1+json"));
 * ```
 */
export const MANIFEST_ACCEPT: string = [
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_DOCKER_LIST,
  MEDIA_TYPE_DOCKER_MANIFEST,
].join(", ");

/**
 * Whether a parsed manifest is an index (OCI index or Docker manifest list):
 * it has a `manifests` array, whatever its `mediaType` says, as registries
 * and clients decide in practice.
 *
 * @param manifest The parsed manifest JSON.
 * @returns `true` for an index.
 */
export function isIndex(manifest: Record<string, unknown>): boolean {
  return Array.isArray(manifest.manifests);
}

/**
 * The media type of a `Content-Type` value, without parameters.
 *
 * @param contentType The header value, if any.
 * @returns The media type, or `undefined` when there is none.
 */
export function mediaTypeOf(contentType: string | null | undefined): string | undefined {
  const essence = contentType?.split(";")[0].trim();
  return essence ? essence : undefined;
}

/**
 * The media type of a fetched manifest: its own `mediaType` field, else the
 * answer's `Content-Type`, else `""`.
 *
 * @param manifest The parsed manifest JSON.
 * @param contentType The answer's `Content-Type`.
 * @returns The media type.
 */
export function manifestMediaType(
  manifest: Record<string, unknown>,
  contentType: string | null | undefined,
): string {
  return (typeof manifest.mediaType === "string" ? manifest.mediaType : undefined) ??
    mediaTypeOf(contentType) ?? "";
}
