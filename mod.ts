/**
 * regkit: a container-registry client for Deno. It answers "does this image
 * exist, what is its digest, which credentials reach it?" the way podman,
 * skopeo and docker would, with one round trip per check after a registry's
 * first contact.
 *
 * - Credentials come from explicit options, podman's `auth.json`, docker's
 *   `config.json` or a credential helper, in containers-auth.json(5) order,
 *   reading only what Deno's permissions allow.
 * - The Docker token flow is cached and batched; retries, time-outs and
 *   redirects are handled without ever sending a secret where it doesn't belong.
 *
 * @example Parse a reference (runs anywhere)
 * ```ts
 * import { parseReference } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 *
 * const ref = parseReference("ubuntu:24.04");
 * assert.equal(String(ref), "docker.io/library/ubuntu:24.04");
 * assert.equal(ref.apiHost, "registry-1.docker.io");
 * ```
 *
 * @example Check images (defined, not run: it needs a registry)
 * ```ts
 * import { ContainerRegistryClient } from "@regkit/regkit";
 *
 * async function main() {
 *   await using client = new ContainerRegistryClient();
 *   for await (const r of client.existsMany(["quay.io/org/app:1", "quay.io/org/app:2"])) {
 *     console.log(r.status, r.reference, r.status === "present" ? r.digest : "");
 *   }
 * }
 * ```
 *
 * @module
 */

export {
  isRegistryError,
  REGISTRY_ERROR_CODES,
  type RegistryDiagnostic,
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorOptions,
} from "./lib/errors.ts";
export {
  LOG_LEVELS,
  Logger,
  type LogHandler,
  type LogLevel,
  type LogRecord,
  parseLogLevel,
} from "./lib/log.ts";
export {
  DEFAULT_TAG,
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_REGISTRY,
  parseDigest,
  parseReference,
  parseRepository,
  Reference,
  Repository,
} from "./lib/reference.ts";
export {
  AUTH_FILES,
  type CredentialExplanation,
  type CredentialKind,
  type CredentialOptions,
  Credentials,
  type CredentialSource,
  explainCredentials,
  permittedEnv,
  resolveCredentials,
  type ResolvedCredentials,
  type SkippedCandidate,
} from "./lib/credentials.ts";
export { type AuthFileContent, parseAuthFile, type ParseAuthFileOptions } from "./lib/auth_file.ts";
export {
  type AuthFileOptions,
  defaultLoginAuthFile,
  type EnvReader,
  expandPath,
} from "./lib/auth_paths.ts";
export {
  type CredentialHelperOptions,
  type HelperAnswer,
  runCredentialHelper,
} from "./lib/credential_helper.ts";
export {
  type AuthChallenge,
  type Challenge,
  parseChallenges,
  selectChallenge,
} from "./lib/challenge.ts";
export { type Link, parseLinkHeader } from "./lib/link.ts";
export type { RetryOptions } from "./lib/retry.ts";
export { parseRetryAfter } from "./lib/retry_after.ts";
export { AuthTokenWrapper } from "./lib/token.ts";
export type { FetchFunction } from "./lib/http.ts";
export { ContainerRegistryClient } from "./lib/client.ts";
export type { ContainerRegistryClientOptions } from "./lib/client_options.ts";
export type {
  ClientStats,
  ExistsManyOptions,
  ExistsResult,
  ImageInspection,
  ManifestResult,
  OperationOptions,
  PlatformOptions,
} from "./lib/types.ts";
export { parsePlatform, type Platform } from "./lib/platform.ts";
export { MANIFEST_ACCEPT } from "./lib/media_types.ts";
export {
  type LoginEntry,
  removeCredentials,
  storeCredentials,
  type StoreCredentialsOptions,
} from "./lib/auth_store.ts";
export {
  type CaCertificateFault,
  findInvalidCaCertificate,
  type InvalidCaCertificate,
} from "./lib/ca_certs.ts";
export { isValidTag, parseRegistry, type RegistryName } from "./lib/reference.ts";
export type { ImageConfigResult, InspectOptions, TagsOptions } from "./lib/types.ts";
export { VERSION } from "./lib/version.ts";
export {
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  ANNOTATION_COSIGN_SIGNATURE,
  type ArtifactFormat,
  type ArtifactKind,
  type ArtifactSource,
  classifyReferrer,
  COSIGN_SIGN_PREDICATE_TYPE,
  type CosignTags,
  cosignTags,
  type CosignTagsOptions,
  type Descriptor,
  fallbackIndexProblem,
  MEDIA_TYPE_COSIGN_SIMPLE_SIGNING,
  MEDIA_TYPE_DSSE_ENVELOPE,
  MEDIA_TYPE_OCI_EMPTY,
  MEDIA_TYPE_SIGSTORE_BUNDLE_V03,
} from "./lib/cosign.ts";
export type {
  AbsentResult,
  ArtifactsManyOptions,
  ArtifactsOptions,
  ArtifactsResult,
  AttachedArtifact,
  DigestArtifacts,
  DigestSignatures,
  ReferrersOptions,
  ReferrersResult,
  ReferrersSource,
  SignatureFound,
  SignedManyOptions,
  SignedOptions,
  SignedResult,
  UnknownResult,
} from "./lib/types.ts";
export {
  derToRaw,
  type KeyAlgorithm,
  parsePublicKey,
  type VerificationKey,
} from "./lib/signature/keys.ts";
export {
  type Expectations,
  MAX_SIGNATURE_BYTES,
  preAuthEncoding,
  type SignatureVerdict,
  type UnverifiedReason,
  verifyBundle,
  verifySimpleSigning,
} from "./lib/signature/verify.ts";
export type {
  DigestVerification,
  ExaminedSignature,
  VerifyManyOptions,
  VerifyOptions,
  VerifyResult,
} from "./lib/types.ts";
