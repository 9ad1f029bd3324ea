/**
 * The OCI 1.1 referrers API over the transport:
 * `GET /v2/<name>/referrers/<digest>`, every page, and the answers that mean
 * a registry has no such API. A wire module beside `registry_api.ts`, under
 * the same rule: nothing above it builds these paths or reads these statuses.
 *
 * @module
 */

import { quote, RegistryError, statusError } from "./errors.ts";
import { nextLink } from "./link.ts";
import { MEDIA_TYPE_OCI_INDEX, mediaTypeOf } from "./media_types.ts";
import { type Descriptor, indexDescriptors } from "./cosign.ts";
import type { Reference } from "./reference.ts";
import type { Transport } from "./transport.ts";
import { type ApiOptions, common, MAX_MANIFEST_BYTES, requireDigest } from "./registry_api.ts";

/** Largest referrers index page accepted. */
export const MAX_REFERRERS_PAGE_BYTES = MAX_MANIFEST_BYTES;
/** Most referrers pages followed for one subject. */
export const MAX_REFERRERS_PAGES = 64;

/** Options for {@linkcode getReferrers}. */
export interface ReferrersOptions extends ApiOptions {
  /**
   * Ask the registry to filter by this artifact type (`?artifactType=`).
   * @default {undefined}
   */
  artifactType?: string | undefined;
}

/**
 * The answer of the referrers API: the descriptors (all pages), or why the
 * registry has no usable referrers API, so the caller falls back to the tag
 * schema.
 */
export type ReferrersAnswer =
  | {
    kind: "api";
    /** The referrers' descriptors, every page. */
    descriptors: Descriptor[];
    /** Whether the registry applied the `artifactType` filter (`OCI-Filters-Applied`). */
    filterApplied: boolean;
    /** Pages fetched. */
    pages: number;
  }
  | {
    kind: "unsupported";
    /** Why the API is not used, e.g. `404 (no referrers API)`. */
    reason: string;
  };

/** Statuses that mean "no referrers API here" (the spec's 404, and quirks seen in the wild). */
const NO_REFERRERS_API: ReadonlyMap<number, string> = new Map([
  [404, "404 (no referrers API)"],
  [400, "400 (the registry does not know the endpoint)"],
  [405, "405 (method not allowed)"],
  [406, "406 (not acceptable)"],
  [501, "501 (not implemented)"],
]);

/**
 * Lists the referrers of a manifest with the OCI 1.1 referrers API:
 * `GET /v2/<name>/referrers/<digest>`, every `Link` page (same origin,
 * bounded). A 404, and the answers registries give instead of one (400, 405,
 * 406, 501, a 401 without a challenge, a 200 that is not an index, a
 * redirect to another host), mean the API is not there: the answer says so,
 * with the reason, and the caller uses the fallback tag. Any other failure
 * (5xx, 403, a refused login, network) is thrown: it is not "no referrers".
 *
 * @param transport The transport.
 * @param subject The subject's reference, with its digest.
 * @param options Messages, signal and the artifact type filter.
 * @returns The descriptors, or why the API is not usable.
 * @throws {RegistryError} As {@linkcode statusError}; `RESPONSE_TOO_LARGE`;
 *   `INVALID_RESPONSE` for a page that is not JSON or too many pages.
 */
export async function getReferrers(
  transport: Transport,
  subject: Reference,
  options: ReferrersOptions = {},
): Promise<ReferrersAnswer> {
  const what = options.what ?? String(subject);
  const digest = requireDigest(subject, what);
  const query = options.artifactType === undefined
    ? ""
    : `?artifactType=${encodeURIComponent(options.artifactType)}`;
  let path: string | undefined = `/v2/${subject.repository}/referrers/${digest}${query}`;
  const descriptors: Descriptor[] = [];
  let filterApplied = true;
  let pages = 0;
  while (path !== undefined) {
    if (++pages > MAX_REFERRERS_PAGES) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot list referrers of ${quote(what)}: more than ${MAX_REFERRERS_PAGES} pages`,
      );
    }
    const response = await transport.request(subject, {
      method: "GET",
      path,
      accept: MEDIA_TYPE_OCI_INDEX,
      maxBytes: MAX_REFERRERS_PAGE_BYTES,
      ...common(subject, { ...options, what }),
    });
    if (response.url.host !== subject.apiHost) {
      // GHCR sends /referrers/ to github.com (then 429); Artifact Registry to a login page.
      if (pages === 1) {
        return { kind: "unsupported", reason: `redirected to another host (${response.url.host})` };
      }
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot list referrers of ${quote(what)}: page ${pages} was redirected to another host`,
      );
    }
    const unsupported = NO_REFERRERS_API.get(response.status);
    if (pages === 1 && unsupported !== undefined) {
      return { kind: "unsupported", reason: unsupported };
    }
    if (response.status === 401 && pages === 1 && !response.headers.has("www-authenticate")) {
      // Harbor 2.7 answers the endpoint with a 401 that has no challenge.
      return { kind: "unsupported", reason: "401 without a challenge" };
    }
    if (response.status !== 200) {
      throw statusError(response, { action: "list referrers of", what, context: "manifest" });
    }
    const type = mediaTypeOf(response.headers.get("content-type"));
    let index: Record<string, unknown> | undefined;
    try {
      const parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(response.body));
      if (typeof parsed === "object" && parsed !== null && Array.isArray(parsed.manifests)) {
        index = parsed;
      }
    } catch { /* not JSON: below */ }
    if (index === undefined || (type !== MEDIA_TYPE_OCI_INDEX && type !== "application/json")) {
      if (pages === 1) {
        return {
          kind: "unsupported",
          reason: `200 that is not an image index (${type ?? "no Content-Type"})`,
        };
      }
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot list referrers of ${quote(what)}: page ${pages} is not an image index`,
        { status: 200 },
      );
    }
    descriptors.push(...indexDescriptors(index));
    const applied = (response.headers.get("oci-filters-applied") ?? "").split(",").map((s) =>
      s.trim()
    );
    if (!applied.includes("artifactType")) filterApplied = false;
    const next = nextLink(response.headers.get("link"));
    if (next === undefined) break;
    const target = new URL(next, response.url);
    if (target.origin !== response.url.origin) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot list referrers of ${
          quote(what)
        }: the next page is on another host (${target.host})`,
        { status: 200 },
      );
    }
    path = target.pathname + target.search;
  }
  return {
    kind: "api",
    descriptors,
    filterApplied: options.artifactType !== undefined && filterApplied,
    pages,
  };
}
