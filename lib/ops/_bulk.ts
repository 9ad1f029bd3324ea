/**
 * Internal: the bulk scheduler every `…Many` operation shares. One result
 * per input, in input order, with bounded concurrency; input is read lazily
 * and looked ahead so token requests can be batched across repositories.
 *
 * @module
 */

import { isRegistryError, type RegistryError } from "../errors.ts";
import { parseReference, type Reference } from "../reference.ts";
import { Semaphore } from "../_semaphore.ts";
import type { OperationContext } from "./_context.ts";

/** How many inputs are looked ahead to batch token requests. */
export const READ_AHEAD = 1024;

/** What a bulk operation does with each input. */
export interface BulkWork<R> {
  /** Answers one parsed input. Must not throw for a registry failure. */
  run(ref: Reference, input: string): Promise<R>;
  /** The answer for an input that does not parse. */
  invalid(input: string, error: RegistryError): R;
  /** Hears the references of each read-ahead window before they are scheduled. */
  plan?(refs: readonly Reference[]): void;
}

/**
 * Checks `concurrency` (an integer from 1 to 1024).
 *
 * @param concurrency The option's value.
 * @returns It.
 * @throws {RangeError} When it is anything else.
 */
export function checkConcurrency(concurrency: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new RangeError(
      `Cannot use option "concurrency": ${concurrency} is not an integer from 1 to 1024`,
    );
  }
  return concurrency;
}

interface Pending {
  input: string;
  ref?: Reference;
  error?: RegistryError;
}

/**
 * Runs `work` over every input: one result per input, in input order.
 *
 * @param ctx The client's wiring.
 * @param inputs References, as an iterable or async iterable.
 * @param concurrency How many run at once (checked by {@linkcode checkConcurrency}).
 * @param work What to do with each.
 * @returns The results, in input order.
 */
export async function* runMany<R>(
  ctx: OperationContext,
  inputs: Iterable<string> | AsyncIterable<string>,
  concurrency: number,
  work: BulkWork<R>,
): AsyncIterableIterator<R> {
  const iterator = Symbol.asyncIterator in inputs
    ? (inputs as AsyncIterable<string>)[Symbol.asyncIterator]()
    : (inputs as Iterable<string>)[Symbol.iterator]();
  // Two horizons: up to `window` inputs are scheduled (results wait in order), while up to
  // READ_AHEAD parsed inputs are looked at to batch token requests (many scopes per request).
  const window = Math.max(concurrency * 4, 64);
  const semaphore = new Semaphore(concurrency);
  const pending: Pending[] = [];
  const queue: Promise<R>[] = [];
  let exhausted = false;
  // The next input, asked for and not yet taken: kept across read-aheads, so an input that
  // trickles in (a queue, `tail -f`) is never lost and never waited for while checks run.
  let upcoming: Promise<IteratorResult<string>> | undefined;
  const TICK = Symbol("tick");
  const nextInput = async (wait: boolean): Promise<IteratorResult<string> | typeof TICK> => {
    upcoming ??= Promise.resolve(iterator.next());
    if (!wait) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<typeof TICK>((resolve) => timer = setTimeout(resolve, 0, TICK));
      const first = await Promise.race([upcoming, tick]);
      clearTimeout(timer);
      if (first === TICK) return TICK;
    }
    const result = await upcoming;
    upcoming = undefined;
    return result;
  };
  const readAhead = async () => {
    const fresh: Reference[] = [];
    while (!exhausted && pending.length < READ_AHEAD) {
      // Wait for input only when nothing else can be done; else take what has arrived.
      const next = await nextInput(pending.length === 0 && queue.length === 0);
      if (next === TICK) break;
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
    if (fresh.length > 0) {
      work.plan?.(fresh);
      await ctx.transport.prepare(fresh, ctx.signal);
    }
  };
  const schedule = ({ input, ref, error }: Pending) => {
    queue.push(
      ref !== undefined
        ? semaphore.run(() => work.run(ref, input))
        : Promise.resolve(work.invalid(input, error!)),
    );
  };
  try {
    for (;;) {
      if (!exhausted && pending.length <= READ_AHEAD / 2) await readAhead();
      while (queue.length < window && pending.length > 0) schedule(pending.shift()!);
      const head = queue.shift();
      if (head === undefined) {
        if (exhausted) break;
        continue; // nothing running: the next read-ahead waits for input
      }
      yield await head;
    }
  } finally {
    if (!exhausted) {
      const closing = iterator.return?.();
      // A source still waiting for its next input may never answer: do not wait for it.
      if (upcoming === undefined) await closing;
      else Promise.resolve(closing).catch(() => {});
    }
    await Promise.allSettled(queue);
  }
}
