/**
 * `inspect`: image details like `skopeo inspect`, from the manifest (resolved
 * to a platform for an index) and its config blob.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { isIndex } from "../media_types.ts";
import { hostPlatform } from "../platform.ts";
import { descriptorReference, getBlob, MAX_BLOB_BYTES } from "../registry_api.ts";
import type { ImageInspection, PlatformOptions } from "../types.ts";
import type { OperationContext } from "./_context.ts";
import { resolvePlatform, topManifest } from "./manifest.ts";

/**
 * Inspects an image: the manifest (resolved to `platform`, or to the host's
 * platform for an index) and its config blob.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The platform.
 * @returns The inspection.
 * @throws {RegistryError} As {@linkcode topManifest}, plus `BLOB_UNKNOWN` and
 *   `INVALID_RESPONSE` for a bad config blob.
 */
export async function inspect(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<PlatformOptions, "platform"> = {},
): Promise<ImageInspection> {
  const { ref, platform, top } = await topManifest(ctx, imageReference, options);
  const manifest = isIndex(top.json)
    ? await resolvePlatform(ctx, top, {
      ref,
      imageReference,
      platform: platform ?? hostPlatform(),
    })
    : top;
  const config = manifest.json.config as Record<string, unknown> | undefined;
  if (typeof config?.digest !== "string") {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot inspect ${quote(imageReference)}: the manifest has no config descriptor`,
    );
  }
  const body = await getBlob(ctx.transport, descriptorReference(ref, config.digest), {
    what: imageReference,
    action: "read the config of",
    maxBytes: MAX_BLOB_BYTES,
    signal: ctx.signal,
  });
  let image: Record<string, unknown>;
  try {
    image = JSON.parse(new TextDecoder().decode(body));
    if (typeof image !== "object" || image === null) throw new TypeError();
  } catch {
    throw new RegistryError(
      "INVALID_RESPONSE",
      `Cannot inspect ${quote(imageReference)}: the config blob is not JSON`,
    );
  }
  const labelsRaw = (image.config as Record<string, unknown> | undefined)?.Labels;
  const labels: Record<string, string> = {};
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
  };
  if (ref.tag !== undefined) result.Tag = ref.tag;
  if (typeof image.created === "string") result.Created = image.created;
  if (typeof image.variant === "string") result.Variant = image.variant;
  return result;
}
