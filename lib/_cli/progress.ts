/**
 * The progress line of `exists`: drawn on stderr when it is a terminal,
 * throttled, and cleared before any other output to the same terminal.
 *
 * @module
 */

import type { Output } from "./io.ts";

const CLEAR_LINE = "\r\x1b[2K";

/** How often the line is redrawn at most. */
const REDRAW_MS = 100;

/** Done/total, present/absent/unknown, rate and ETA of a running `exists`. */
export class Progress {
  readonly #stderr: Output;
  readonly #total: number | undefined;
  readonly #start = Date.now();
  readonly #sharedTerminal: boolean;
  #lastDraw = 0;
  #drawn = false;
  #done = 0;
  readonly #counts = new Map<string, number>();
  readonly #labels: readonly string[];

  /**
   * @param stderr Where the line is drawn.
   * @param total How many references there are, when known in advance.
   * @param sharedTerminal Whether stdout goes to the same terminal (then the
   *   line is cleared before each result line).
   * @param labels The statuses counted, in the order shown.
   */
  constructor(
    stderr: Output,
    total: number | undefined,
    sharedTerminal: boolean,
    labels: readonly string[] = ["present", "absent", "unknown"],
  ) {
    this.#labels = labels;
    this.#stderr = stderr;
    this.#total = total;
    this.#sharedTerminal = sharedTerminal;
  }

  /** Clears the line before output to the same terminal. */
  async beforeOutput(): Promise<void> {
    if (this.#drawn && this.#sharedTerminal) await this.clear();
  }

  /** Counts one answer. */
  count(result: { status: string }): void {
    this.#done++;
    this.#counts.set(result.status, (this.#counts.get(result.status) ?? 0) + 1);
  }

  /** Draws the line unless it was drawn less than 100 ms ago, or there is only one reference. */
  async maybeDraw(): Promise<void> {
    const visible = this.#total === undefined ? this.#done > 1 : this.#total > 1;
    const now = Date.now();
    if (!visible || now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    this.#drawn = true;
    await this.#stderr.write(CLEAR_LINE + this.#line(now));
  }

  /** Removes the line, if drawn. */
  async clear(): Promise<void> {
    if (!this.#drawn) return;
    this.#drawn = false;
    await this.#stderr.write(CLEAR_LINE);
  }

  #line(now: number): string {
    const seconds = Math.max((now - this.#start) / 1000, 0.001);
    const rate = this.#done / seconds;
    const done = this.#total === undefined ? `${this.#done}` : `${this.#done}/${this.#total}`;
    const counts = this.#labels.map((label) => `${this.#counts.get(label) ?? 0} ${label}`);
    let line = `regkit: ${done} checked: ${counts.join(", ")}, ${rate.toFixed(1)}/s`;
    if (this.#total !== undefined && rate > 0 && this.#done < this.#total) {
      line += `, ETA ${formatDuration((this.#total - this.#done) / rate)}`;
    }
    return line;
  }
}

/**
 * A short duration for the ETA: `42s`, `3m05s`, `2h07m`.
 *
 * @param seconds The duration.
 * @returns The text.
 */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
