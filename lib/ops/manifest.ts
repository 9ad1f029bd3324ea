/**
 * Manifests and digests, resolving an index to a platform when asked.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { isIndex } from "../media_types.ts";
import { formatPlatform, parsePlatform, type Platform, platformMatches } from "../platform.ts";
import { parseReference, type Reference } from "../reference.ts";
import { descriptorReference, getManifest, headManifest } from "../registry_api.ts";
import type { ManifestResult, PlatformOptions } from "../types.ts";
import type { OperationContext } from "./_context.ts";

/** The manifest a reference names, with the parsed reference and platform. */
export interface TopManifest {
  /** The parsed reference. */
  ref: Reference;
  /** The platform asked for, parsed. */
  platform?: Platform | undefined;
  /** The manifest or index the reference names. */
  top: ManifestResult;
}

/**
 * Parses the reference and platform, then fetches the manifest the reference names.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The platform.
 * @returns The reference, the platform and the manifest.
 * @throws {RegistryError} `INVALID_REFERENCE`, `INVALID_PLATFORM`, and as {@linkcode getManifest}.
 */
export async function topManifest(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<PlatformOptions, "platform"> = {},
): Promise<TopManifest> {
  const ref = parseReference(imageReference);
  const platform = typeof options.platform === "string"
    ? parsePlatform(options.platform)
    : options.platform;
  const top = await getManifest(ctx.transport, ref, { what: imageReference, signal: ctx.signal });
  return { ref, platform, top };
}

/**
 * Fetches the manifest an index lists for `platform`.
 *
 * @param ctx The client's wiring.
 * @param index The index (or manifest list), as fetched for `imageReference`.
 * @param options The reference it was fetched for and the platform wanted.
 * @returns The platform's manifest.
 * @throws {RegistryError} `PLATFORM_NOT_FOUND` naming what is available, and as {@linkcode getManifest}.
 */
export async function resolvePlatform(
  ctx: OperationContext,
  index: ManifestResult,
  options: { ref: Reference; imageReference: string; platform: Platform },
): Promise<ManifestResult> {
  const { ref, imageReference, platform } = options;
  const manifests = (index.json.manifests as unknown[]).filter((m): m is Record<string, unknown> =>
    typeof m === "object" && m !== null && typeof (m as { digest?: unknown }).digest === "string"
  );
  const match = manifests.find((m) => platformMatches(platform, m.platform));
  if (match === undefined) {
    const available = manifests.map((m) => formatPlatform(m.platform));
    throw new RegistryError(
      "PLATFORM_NOT_FOUND",
      `Cannot find platform ${quote(formatPlatform(platform))} in ${
        quote(imageReference)
      }: available ${available.join(", ") || "none"}`,
    );
  }
  const child = descriptorReference(ref, match.digest as string);
  return await getManifest(ctx.transport, child, { what: imageReference, signal: ctx.signal });
}

/**
 * Fetches a manifest as served; with `platform`, an index is resolved to that
 * platform's manifest.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The platform.
 * @returns The manifest (with `indexDigest` when an index was resolved).
 * @throws {RegistryError} As {@linkcode topManifest} and {@linkcode resolvePlatform}.
 */
export async function manifest(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<PlatformOptions, "platform"> = {},
): Promise<ManifestResult> {
  const { ref, platform, top } = await topManifest(ctx, imageReference, options);
  if (platform === undefined || !isIndex(top.json)) return top;
  return {
    ...await resolvePlatform(ctx, top, { ref, imageReference, platform }),
    indexDigest: top.digest,
  };
}

/**
 * The digest a reference resolves to: one `HEAD`, or with `platform` the
 * platform manifest's digest.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @param options The platform.
 * @returns The digest.
 * @throws {RegistryError} `MANIFEST_UNKNOWN` when absent, and as {@linkcode manifest}.
 */
export async function digest(
  ctx: OperationContext,
  imageReference: string,
  options: Pick<PlatformOptions, "platform"> = {},
): Promise<string> {
  if (options.platform !== undefined) return (await manifest(ctx, imageReference, options)).digest;
  const ref = parseReference(imageReference);
  const answer = await headManifest(ctx.transport, ref, {
    what: imageReference,
    action: "get the digest of",
    signal: ctx.signal,
  });
  if (answer.kind === "present") return answer.digest;
  if (answer.kind === "failed") throw answer.error;
  throw new RegistryError(
    "MANIFEST_UNKNOWN",
    `Cannot get the digest of ${quote(imageReference)}: registry answered 404`,
    { status: 404 },
  );
}
