/**
 * Seeds test images into a {@linkcode RegistryFixture} through the registry HTTP API with
 * `fetch`: blobs (monolithic upload), then manifests. Digests are `sha256:` of the exact bytes
 * PUT.
 *
 * @module
 */

import type { RegistryFixture } from "./_registry.ts";

/** OCI image manifest. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** OCI image index. */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** OCI image config. */
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
/** OCI gzip layer. */
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
/** Docker image manifest v2 schema 2. */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** Docker manifest list. */
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** Docker image config. */
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
/** Docker gzip layer. */
export const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** Every manifest media type, for `Accept`. */
export const ALL_MANIFEST_TYPES: readonly string[] = [
  OCI_INDEX,
  OCI_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST,
];

/** A platform, as in an image index. */
export interface Platform {
  /** e.g. `linux`. */
  os: string;
  /** e.g. `amd64`. */
  architecture: string;
  /** e.g. `v8`. */
  variant?: string;
}

/** Options of {@linkcode pushImage}. */
export interface PushImageOptions {
  /** Manifest flavour. @default "oci" */
  format?: "oci" | "docker";
  /** Platform written into the config. @default { os: "linux", architecture: "amd64" } */
  platform?: Platform;
  /** `config.Labels`. @default {} */
  labels?: Record<string, string>;
  /** `created` (RFC 3339). @default "2024-01-01T00:00:00Z" */
  created?: string;
  /** `config.Env`, when given. @default undefined */
  env?: string[];
}

/** A layer descriptor. */
export interface LayerInfo {
  /** `sha256:…` of the blob. */
  digest: string;
  /** Blob size in bytes. */
  size: number;
  /** Layer media type. */
  mediaType: string;
}

/** An image as built (and, after a push, stored). */
export interface PushedImage {
  /** `sha256:…` of {@linkcode PushedImage.manifest}. */
  digest: string;
  /** Manifest media type. */
  mediaType: string;
  /** The exact manifest bytes PUT. */
  manifest: Uint8Array;
  /** Manifest size in bytes. */
  size: number;
  /** `sha256:…` of the config blob. */
  configDigest: string;
  /** The config blob. */
  config: Uint8Array;
  /** The layers. */
  layers: LayerInfo[];
  /** The platform in the config. */
  platform: Platform;
  /** Every blob (config and layers) by digest. */
  blobs: Map<string, Uint8Array>;
}

/** A child of {@linkcode pushIndex}. */
export interface IndexChild extends PushImageOptions {
  /** The platform (required for an index entry). */
  platform: Platform;
}

/** An image index as pushed. */
export interface PushedIndex {
  /** `sha256:…` of {@linkcode PushedIndex.manifest}. */
  digest: string;
  /** `application/vnd.oci.image.index.v1+json` or the Docker manifest list type. */
  mediaType: string;
  /** The exact index bytes PUT. */
  manifest: Uint8Array;
  /** Index size in bytes. */
  size: number;
  /** The children, in index order. */
  children: PushedImage[];
}

/** What {@linkcode seedStandardImages} pushed. */
export interface StandardImages {
  /** `test/oci:v1`: OCI manifest, linux/amd64. */
  oci: PushedImage;
  /** `test/docker:v1`: Docker v2 schema 2, linux/amd64. */
  docker: PushedImage;
  /** `test/index:v1`: OCI index with linux/amd64 and linux/arm64/v8. */
  index: PushedIndex;
  /** `public/oci:v1`: the same image as `oci` (same digest). */
  publicOci: PushedImage;
  /** `denied/oci:v1`: the same image as `oci` (same digest). */
  deniedOci: PushedImage;
}

const encoder = new TextEncoder();

/** `sha256:<hex>` of `bytes`. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return "sha256:" + Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A one-file tar archive (ustar), uncompressed. */
function tarOf(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(encoder.encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, content.length.toString(8).padStart(11, "0") + "\0");
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  const checksum = header.reduce((sum, b) => sum + b, 0);
  put(148, checksum.toString(8).padStart(6, "0") + "\0 ");
  const padded = Math.ceil(content.length / 512) * 512;
  const tar = new Uint8Array(512 + padded + 1024);
  tar.set(header, 0);
  tar.set(content, 512);
  return tar;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Builds an image (one random small gzip tar layer, a config, a manifest) without pushing it.
 *
 * @param options Format, platform, labels and creation time.
 * @returns The image with its exact bytes and digests.
 */
export async function buildImage(options: PushImageOptions = {}): Promise<PushedImage> {
  const {
    format = "oci",
    platform = { os: "linux", architecture: "amd64" },
    labels = {},
    created = "2024-01-01T00:00:00Z",
    env,
  } = options;
  if (format !== "oci" && format !== "docker") {
    throw new TypeError(`Cannot build image: format must be "oci" or "docker", got "${format}"`);
  }
  const random = Array.from(
    crypto.getRandomValues(new Uint8Array(24)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const tar = tarOf("regkit-test.txt", encoder.encode(`regkit test layer ${random}\n`));
  const layerBytes = await gzip(tar);
  const diffId = await sha256(tar);
  const layer: LayerInfo = {
    digest: await sha256(layerBytes),
    size: layerBytes.length,
    mediaType: format === "oci" ? OCI_LAYER : DOCKER_LAYER,
  };
  const config = encoder.encode(JSON.stringify({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    config: { Labels: labels, ...(env === undefined ? {} : { Env: env }) },
    rootfs: { type: "layers", diff_ids: [diffId] },
  }));
  const configDigest = await sha256(config);
  const mediaType = format === "oci" ? OCI_MANIFEST : DOCKER_MANIFEST;
  const manifest = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: format === "oci" ? OCI_CONFIG : DOCKER_CONFIG,
      digest: configDigest,
      size: config.length,
    },
    layers: [layer],
  }));
  return {
    digest: await sha256(manifest),
    mediaType,
    manifest,
    size: manifest.length,
    configDigest,
    config,
    layers: [layer],
    platform,
    blobs: new Map([[configDigest, config], [layer.digest, layerBytes]]),
  };
}

/** Authorization header that lets the rig push to `repository`. */
/** Authorization for pushing to `repository` of the fixture (admin user). */
export async function pushHeaders(
  registry: RegistryFixture,
  repository: string,
): Promise<Record<string, string>> {
  if (registry.auth === "htpasswd") {
    const password = registry.users.admin;
    if (password === undefined) throw new Error("Cannot push test image: no admin user");
    const bytes = encoder.encode(`admin:${password}`);
    return { authorization: `Basic ${btoa(String.fromCharCode(...bytes))}` };
  }
  if (registry.auth === "token") {
    const token = await registry.tokenServer!.mintToken(
      [`repository:${repository}:pull,push`],
      "admin",
    );
    return { authorization: `Bearer ${token}` };
  }
  return {};
}

async function expectStatus(response: Response, expected: number[], what: string) {
  if (expected.includes(response.status)) {
    await response.body?.cancel();
    return;
  }
  const body = await response.text().catch(() => "");
  throw new Error(`Cannot push test image: ${what} answered ${response.status}: ${body}`);
}

/** Uploads one blob (skipped when the registry has it). */
export async function uploadBlob(
  registry: RegistryFixture,
  repository: string,
  digest: string,
  bytes: Uint8Array,
  headers: Record<string, string>,
): Promise<void> {
  const head = await registry.fetch(`/v2/${repository}/blobs/${digest}`, {
    method: "HEAD",
    headers,
  });
  await head.body?.cancel();
  if (head.status === 200) return;
  const start = await registry.fetch(`/v2/${repository}/blobs/uploads/`, {
    method: "POST",
    headers,
  });
  await expectStatus(start, [202], `POST /v2/${repository}/blobs/uploads/`);
  const location = start.headers.get("location");
  if (!location) throw new Error("Cannot push test image: upload has no Location");
  const target = new URL(location, registry.url);
  target.searchParams.set("digest", digest);
  const put = await registry.fetch(target, {
    method: "PUT",
    headers: {
      ...headers,
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
    },
    body: bytes as BodyInit,
  });
  await expectStatus(put, [201], `PUT blob ${digest}`);
}

/** PUTs a manifest under `reference` (a tag or its digest). */
export async function putManifest(
  registry: RegistryFixture,
  repository: string,
  reference: string,
  mediaType: string,
  manifest: Uint8Array,
  headers: Record<string, string>,
): Promise<void> {
  const response = await registry.fetch(`/v2/${repository}/manifests/${reference}`, {
    method: "PUT",
    headers: { ...headers, "content-type": mediaType },
    body: manifest as BodyInit,
  });
  await expectStatus(response, [201], `PUT /v2/${repository}/manifests/${reference}`);
}

/**
 * Uploads an already built image (its blobs, then its manifest) under `reference`
 * (a tag, or its digest when `reference` is null).
 */
export async function uploadImage(
  registry: RegistryFixture,
  repository: string,
  reference: string | null,
  image: PushedImage,
): Promise<PushedImage> {
  const headers = await pushHeaders(registry, repository);
  for (const [digest, bytes] of image.blobs) {
    await uploadBlob(registry, repository, digest, bytes, headers);
  }
  await putManifest(
    registry,
    repository,
    reference ?? image.digest,
    image.mediaType,
    image.manifest,
    headers,
  );
  return image;
}

/**
 * Builds and pushes an image.
 *
 * @param registry The registry fixture.
 * @param repository e.g. `test/oci`.
 * @param tag The tag, or null to push by digest only.
 * @param options Format, platform, labels, creation time.
 * @returns What was pushed (exact bytes and digests).
 */
export async function pushImage(
  registry: RegistryFixture,
  repository: string,
  tag: string | null,
  options: PushImageOptions = {},
): Promise<PushedImage> {
  return await uploadImage(registry, repository, tag, await buildImage(options));
}

/**
 * Pushes each child by digest, then an image index (OCI, or a Docker manifest list with
 * `format: "docker"`) listing them with their platforms under `tag`.
 */
export async function pushIndex(
  registry: RegistryFixture,
  repository: string,
  tag: string | null,
  children: IndexChild[],
  options: { format?: "oci" | "docker" } = {},
): Promise<PushedIndex> {
  const { format = "oci" } = options;
  const pushed: PushedImage[] = [];
  for (const child of children) {
    pushed.push(await pushImage(registry, repository, null, { format, ...child }));
  }
  const mediaType = format === "oci" ? OCI_INDEX : DOCKER_MANIFEST_LIST;
  const manifest = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: pushed.map((image) => ({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.size,
      platform: {
        architecture: image.platform.architecture,
        os: image.platform.os,
        ...(image.platform.variant ? { variant: image.platform.variant } : {}),
      },
    })),
  }));
  const digest = await sha256(manifest);
  const headers = await pushHeaders(registry, repository);
  await putManifest(registry, repository, tag ?? digest, mediaType, manifest, headers);
  return { digest, mediaType, manifest, size: manifest.length, children: pushed };
}

/**
 * Pushes the standard test images: `test/oci:v1`, `test/docker:v1`, `test/index:v1`
 * (linux/amd64 + linux/arm64/v8), and the `test/oci` image again as `public/oci:v1` and
 * `denied/oci:v1`.
 */
export async function seedStandardImages(registry: RegistryFixture): Promise<StandardImages> {
  const oci = await pushImage(registry, "test/oci", "v1", {
    format: "oci",
    labels: { "org.opencontainers.image.title": "regkit test oci" },
  });
  const docker = await pushImage(registry, "test/docker", "v1", {
    format: "docker",
    labels: { "org.opencontainers.image.title": "regkit test docker" },
  });
  const index = await pushIndex(registry, "test/index", "v1", [
    { platform: { os: "linux", architecture: "amd64" } },
    { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
  ]);
  const publicOci = await uploadImage(registry, "public/oci", "v1", oci);
  const deniedOci = await uploadImage(registry, "denied/oci", "v1", oci);
  return { oci, docker, index, publicOci, deniedOci };
}
