/**
 * `tags`: every tag of a repository, following `Link` pagination.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { parseRepository } from "../reference.ts";
import { getTagsPage } from "../registry_api.ts";
import type { OperationContext } from "./_context.ts";

/** Most pages followed before pagination is considered endless. */
const MAX_TAG_PAGES = 10_000;

/**
 * Lists every tag of a repository.
 *
 * @param ctx The client's wiring.
 * @param repository The repository, as given (no tag).
 * @returns The tags, in the registry's order.
 * @throws {RegistryError} `INVALID_REFERENCE`, `INVALID_RESPONSE` for pagination
 *   that does not end, and as {@linkcode getTagsPage}.
 */
export async function tags(ctx: OperationContext, repository: string): Promise<string[]> {
  const repo = parseRepository(repository);
  const tags: string[] = [];
  const seen = new Set<string>();
  let page: string | undefined;
  for (let count = 0;; count++) {
    if (count >= MAX_TAG_PAGES || (page !== undefined && seen.has(page))) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `Cannot list tags of ${quote(repository)}: pagination does not end`,
      );
    }
    const answer = await getTagsPage(ctx.transport, repo, {
      what: repository,
      page,
      signal: ctx.signal,
    });
    seen.add(answer.location);
    for (const tag of answer.tags) tags.push(tag);
    if (answer.next === undefined) return tags;
    page = answer.next;
  }
}
