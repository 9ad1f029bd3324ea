/**
 * Existence checks: one reference, and many with bounded concurrency, input
 * read lazily and token requests batched across repositories.
 *
 * @module
 */

import { isRegistryError, quote, RegistryError } from "../errors.ts";
import { parseReference, type Reference } from "../reference.ts";
import { headManifest } from "../registry_api.ts";
import type { ExistsManyOptions, ExistsResult } from "../types.ts";
import { Semaphore } from "../_semaphore.ts";
import type { OperationContext } from "./_context.ts";

/** How many inputs `existsMany` looks ahead to batch token requests. */
const READ_AHEAD = 1024;

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
  const { concurrency = 8 } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new RangeError(
      `Cannot use option "concurrency": ${concurrency} is not an integer from 1 to 1024`,
    );
  }
  return checkAll(ctx, inputs, concurrency);
}

interface Pending {
  input: string;
  ref?: Reference;
  error?: RegistryError;
}

async function* checkAll(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  concurrency: number,
): AsyncIterableIterator<ExistsResult> {
  const iterator = Symbol.asyncIterator in inputs
    ? (inputs as AsyncIterable<string>)[Symbol.asyncIterator]()
    : (inputs as Iterable<string>)[Symbol.iterator]();
  // Two horizons: up to `window` checks are scheduled (results wait in order), while up to
  // READ_AHEAD parsed inputs are looked at to batch token requests (many scopes per request).
  const window = Math.max(concurrency * 4, 64);
  const semaphore = new Semaphore(concurrency);
  const pending: Pending[] = [];
  const queue: Promise<ExistsResult>[] = [];
  let exhausted = false;
  const readAhead = async () => {
    const fresh: Reference[] = [];
    while (!exhausted && pending.length < READ_AHEAD) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const input = String(next.value);
      try {
        const ref = parseReference(input);
        pending.push({ input, ref });
        fresh.push(ref);
      } catch (error) {
        if (!isRegistryError(error)) throw error;
        pending.push({ input, error });
      }
    }
    if (fresh.length > 0) await ctx.transport.prepare(fresh, ctx.signal);
  };
  const schedule = ({ input, ref, error }: Pending) => {
    queue.push(
      ref !== undefined
        ? semaphore.run(() => check(ctx, ref, input))
        : Promise.resolve(unknown(input, error!)),
    );
  };
  try {
    for (;;) {
      if (!exhausted && pending.length <= READ_AHEAD / 2) await readAhead();
      while (queue.length < window && pending.length > 0) schedule(pending.shift()!);
      const head = queue.shift();
      if (head === undefined) break;
      yield await head;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
    await Promise.allSettled(queue);
  }
}
