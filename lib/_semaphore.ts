/**
 * Internal: a counting semaphore for bounding concurrent work.
 *
 * @module
 */

/** Runs at most `count` functions at once; the rest wait in arrival order. */
export class Semaphore {
  #free: number;
  #waiting: Array<() => void> = [];

  /** @param count How many may run at once. */
  constructor(count: number) {
    this.#free = count;
  }

  /**
   * Runs `fn` once a slot is free.
   *
   * @param fn The work.
   * @returns What `fn` returns.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}
