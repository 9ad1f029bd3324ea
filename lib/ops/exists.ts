/**
 * Existence checks: one reference, and many with bounded concurrency (the
 * shared bulk scheduler, `_bulk.ts`).
 *
 * @module
 */

import { isRegistryError, quote, RegistryError } from "../errors.ts";
import { parseReference, type Reference } from "../reference.ts";
import { headManifest } from "../registry_api.ts";
import type { ExistsManyOptions, ExistsResult } from "../types.ts";
import { checkConcurrency, runMany } from "./_bulk.ts";
import type { OperationContext } from "./_context.ts";

function unknown(input: string, error: RegistryError): ExistsResult {
  return { status: "unknown", reference: input, code: error.code, message: error.message, error };
}

async function check(ctx: OperationContext, ref: Reference, input: string): Promise<ExistsResult> {
  try {
    const answer = await headManifest(ctx.transport, ref, { what: input, signal: ctx.signal });
    if (answer.kind === "absent") return { status: "absent", reference: input };
    if (answer.kind === "failed") return unknown(input, answer.error);
    return answer.mediaType === undefined
      ? { status: "present", reference: input, digest: answer.digest }
      : { status: "present", reference: input, digest: answer.digest, mediaType: answer.mediaType };
  } catch (error) {
    if (isRegistryError(error)) return unknown(input, error);
    return unknown(
      input,
      new RegistryError(
        "INVALID_RESPONSE",
        `Cannot check ${quote(input)}: ${
          error instanceof Error ? error.name : "unexpected failure"
        }`,
        { cause: error },
      ),
    );
  }
}

/**
 * Checks one image: `present` with its digest, `absent`, or `unknown` with a
 * typed reason.
 *
 * @param ctx The client's wiring.
 * @param imageReference The reference, as given.
 * @returns The three-way answer.
 * @throws {RegistryError} `INVALID_REFERENCE` for an unparsable reference.
 */
export async function exists(ctx: OperationContext, imageReference: string): Promise<ExistsResult> {
  return await check(ctx, parseReference(imageReference), imageReference);
}

/**
 * Checks many images: exactly one result per input, in input order, with up
 * to `concurrency` checks at once.
 *
 * @param ctx The client's wiring.
 * @param inputs References, as an iterable or async iterable.
 * @param options Concurrency.
 * @returns The results, in input order.
 * @throws {RangeError} At once, when `concurrency` is not an integer from 1 to 1024.
 */
export function existsMany(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  options: Pick<ExistsManyOptions, "concurrency"> = {},
): AsyncIterableIterator<ExistsResult> {
  const concurrency = checkConcurrency(options.concurrency ?? 8);
  return runMany(ctx, inputs, concurrency, {
    run: (ref, input) => check(ctx, ref, input),
    invalid: unknown,
  });
}
