/**
 * The public result and option types of the client's operations. Types only.
 *
 * @module
 */

import type { RegistryError, RegistryErrorCode } from "./errors.ts";
import type { Platform } from "./platform.ts";

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
  | {
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
  };

/** Options for a single operation. */
export interface OperationOptions {
  /**
   * Aborts the operation.
   * @default {undefined}
   */
  signal?: AbortSignal;
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
