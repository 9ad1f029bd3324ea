/**
 * `tags`: every tag of a repository, page by page (`n=1000`, following
 * `Link`), with the total bounded.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { parseRepository, type Repository } from "../reference.ts";
import { getTagsPage } from "../registry_api.ts";
import type { OperationContext } from "./_context.ts";

/** Tags asked for per page (`?n=`); a registry may send fewer, or (distribution 2.8) all. */
export const TAGS_PER_PAGE = 1000;

/** Most tags listed for one repository by default; more is `RESPONSE_TOO_LARGE`. */
export const DEFAULT_MAX_TAGS = 1_000_000;

/** Most pages followed before pagination is considered endless. */
const MAX_TAG_PAGES = 10_000;

/**
 * Bytes of listing allowed per tag of the cap: a tag is at most 128
 * characters, quoted and separated; what is left over is whitespace.
 */
const BYTES_PER_TAG = 160;

/** One page of tags. */
export interface TagPage {
  /** The page's tags (strings, in the registry's order; not checked against the tag grammar). */
  tags: string[];
  /** Whether no page follows. */
  last: boolean;
}

/** Options for {@linkcode tagPages}. */
export interface TagPagesOptions {
  /** Most tags (and `maxTags` × 160 bytes of listing) before `RESPONSE_TOO_LARGE`. */
  maxTags?: number;
  /** Fewer pages to follow than the limit of 10,000 (for a quick look). */
  maxPages?: number;
  /** The message's subject. */
  what?: string;
}

/**
 * Checks a `maxTags` option.
 *
 * @param maxTags The value given.
 * @returns It, or the default.
 * @throws {RangeError} When it is not a positive safe integer.
 */
export function checkMaxTags(maxTags: unknown): number {
  if (maxTags === undefined) return DEFAULT_MAX_TAGS;
  if (typeof maxTags !== "number" || !Number.isSafeInteger(maxTags) || maxTags < 1) {
    throw new RangeError(
      `Cannot use option "maxTags": expected a positive integer, got ${String(maxTags)}`,
    );
  }
  return maxTags;
}

/**
 * The tags of a repository, one page at a time, as the registry sends them:
 * the first page asks for {@linkcode TAGS_PER_PAGE}, the next pages are the
 * registry's `Link`s (same origin only).
 *
 * @param ctx The client's wiring.
 * @param repository The repository.
 * @param options The bounds.
 * @returns The pages.
 * @throws {RegistryError} `RESPONSE_TOO_LARGE` past `maxTags` (counted, or in
 *   bytes of listing), `INVALID_RESPONSE` for pagination that does not end
 *   (a page seen twice, or 10,000 pages), and as {@linkcode getTagsPage}.
 */
export async function* tagPages(
  ctx: OperationContext,
  repository: Repository,
  options: TagPagesOptions = {},
): AsyncGenerator<TagPage> {
  const what = options.what ?? repository.name;
  const maxTags = checkMaxTags(options.maxTags);
  const maxPages = Math.min(options.maxPages ?? MAX_TAG_PAGES, MAX_TAG_PAGES);
  const maxBytes = maxTags * BYTES_PER_TAG;
  const tooMany = (why: string) =>
    new RegistryError(
      "RESPONSE_TOO_LARGE",
      `Cannot list tags of ${quote(what)}: ${why} (the limit is maxTags, --max-tags: ${maxTags})`,
    );
  const seen = new Set<string>();
  let page: string | undefined = `/v2/${repository.repository}/tags/list?n=${TAGS_PER_PAGE}`;
  let count = 0;
  let bytes = 0;
  for (let pages = 0; page !== undefined; pages++) {
    if (pages >= maxPages || seen.has(page)) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot list tags of ${quote(what)}: pagination does not end (${
          seen.has(page) ? "a page links back" : `${pages} pages`
        })`,
      );
    }
    seen.add(page);
    let answer;
    try {
      answer = await getTagsPage(ctx.transport, repository, {
        what,
        page,
        maxBytes: Math.max(1, maxBytes - bytes),
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      });
    } catch (error) {
      if (error instanceof RegistryError && error.code === "RESPONSE_TOO_LARGE") {
        throw tooMany(`the listing exceeds ${maxBytes} bytes`);
      }
      throw error;
    }
    seen.add(answer.location);
    count += answer.tags.length;
    bytes += answer.bytes;
    if (count > maxTags) throw tooMany(`more than ${maxTags} tags`);
    page = answer.next;
    yield { tags: answer.tags, last: page === undefined };
  }
}

/**
 * The tags of a repository, page by page.
 *
 * @param ctx The client's wiring.
 * @param repository The repository, as given (no tag).
 * @param options The bound on the total.
 * @returns Each page's tags, in the registry's order.
 * @throws {RegistryError} `INVALID_REFERENCE`, and as {@linkcode tagPages}.
 */
export async function* repositoryTags(
  ctx: OperationContext,
  repository: string,
  options: Pick<TagPagesOptions, "maxTags"> = {},
): AsyncGenerator<string[]> {
  const repo = parseRepository(repository);
  for await (const page of tagPages(ctx, repo, { ...options, what: repository })) yield page.tags;
}

/**
 * Lists every tag of a repository.
 *
 * @param ctx The client's wiring.
 * @param repository The repository, as given (no tag).
 * @param options The bound on the total.
 * @returns The tags, in the registry's order.
 * @throws {RegistryError} `INVALID_REFERENCE`, and as {@linkcode tagPages}.
 */
export async function tags(
  ctx: OperationContext,
  repository: string,
  options: Pick<TagPagesOptions, "maxTags"> = {},
): Promise<string[]> {
  const all: string[] = [];
  for await (const page of repositoryTags(ctx, repository, options)) {
    for (const tag of page) all.push(tag);
  }
  return all;
}
