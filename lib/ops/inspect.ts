/**
 * `inspect`: image details like `skopeo inspect`, from the manifest (resolved
 * to a platform for an index) and its config blob; and the config blob itself.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { isIndex } from "../media_types.ts";
import { hostPlatform } from "../platform.ts";
import { isValidTag, type Reference } from "../reference.ts";
import { descriptorReference, getBlob, MAX_BLOB_BYTES } from "../registry_api.ts";
import type {
  ImageConfigResult,
  ImageInspection,
  InspectOptions,
  ManifestResult,
  PlatformOptions,
} from "../types.ts";
import type { OperationContext } from "./_context.ts";
import { resolvePlatform, topManifest } from "./manifest.ts";
import { tags } from "./tags.ts";

interface LoadedConfig {
  ref: Reference;
  /** The manifest the reference names (an index for an index). */
  top: ManifestResult;
  /** The platform manifest. */
  manifest: ManifestResult;
  config: ImageConfigResult;
}

/** The manifest (resolved to `platform`, or to the host's for an index) and its config blob. */
async function loadConfig(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<PlatformOptions, "platform">,
): Promise<LoadedConfig> {
  const { ref, platform, top } = await topManifest(ctx, imageReference, options);
  const manifest = isIndex(top.json)
    ? await resolvePlatform(ctx, top, {
      ref,
      imageReference,
      platform: platform ?? hostPlatform(),
    })
    : top;
  const descriptor = manifest.json.config as Record<string, unknown> | undefined;
  if (typeof descriptor?.digest !== "string") {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot inspect ${quote(imageReference)}: the manifest has no config descriptor`,
    );
  }
  const bytes = await getBlob(ctx.transport, descriptorReference(ref, descriptor.digest), {
    what: imageReference,
    action: "read the config of",
    maxBytes: MAX_BLOB_BYTES,
    signal: ctx.signal,
  });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new TypeError();
  } catch {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot inspect ${quote(imageReference)}: the config blob is not a JSON object`,
    );
  }
  const config: ImageConfigResult = {
    digest: descriptor.digest,
    mediaType: typeof descriptor.mediaType === "string" ? descriptor.mediaType : "",
    bytes,
    json,
    manifestDigest: manifest.digest,
  };
  return { ref, top, manifest, config };
}

/**
 * The config blob of an image, as served: the manifest is resolved to
 * `platform` (or the host's platform for an index).
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The platform.
 * @returns The config blob, its digest and parsed JSON.
 * @throws {RegistryError} As {@linkcode topManifest}, plus `BLOB_UNKNOWN` and
 *   `INVALID_RESPONSE` for a missing or bad config blob.
 */
export async function imageConfig(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<PlatformOptions, "platform"> = {},
): Promise<ImageConfigResult> {
  return (await loadConfig(ctx, imageReference, options)).config;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * Inspects an image: the manifest (resolved to `platform`, or to the host's
 * platform for an index), its config blob and, with `tags`, the repository's tags.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The platform, and whether to list the repository's tags.
 * @returns The inspection.
 * @throws {RegistryError} As {@linkcode topManifest}, plus `BLOB_UNKNOWN` and
 *   `INVALID_RESPONSE` for a bad config blob; with `tags`, as {@linkcode tags}.
 */
export async function inspect(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<InspectOptions, "platform" | "tags"> = {},
): Promise<ImageInspection> {
  const { ref, top, manifest, config } = await loadConfig(ctx, imageReference, options);
  const image = config.json;
  const settings = image.config as Record<string, unknown> | undefined;
  const labels: Record<string, string> = {};
  const labelsRaw = settings?.Labels;
  if (typeof labelsRaw === "object" && labelsRaw !== null) {
    for (const [k, v] of Object.entries(labelsRaw)) if (typeof v === "string") labels[k] = v;
  }
  const layers = Array.isArray(manifest.json.layers)
    ? (manifest.json.layers as Array<Record<string, unknown>>).flatMap((l) =>
      typeof l?.digest === "string" ? [l.digest] : []
    )
    : [];
  const result: ImageInspection = {
    Name: ref.name,
    Digest: top.digest,
    Architecture: typeof image.architecture === "string" ? image.architecture : "",
    Os: typeof image.os === "string" ? image.os : "",
    Labels: labels,
    Layers: layers,
    MediaType: manifest.mediaType,
    Env: strings(settings?.Env),
  };
  if (options.tags) result.RepoTags = (await tags(ctx, ref.name)).filter(isValidTag);
  if (ref.tag !== undefined) result.Tag = ref.tag;
  if (typeof image.created === "string") result.Created = image.created;
  if (typeof image.variant === "string") result.Variant = image.variant;
  return result;
}
