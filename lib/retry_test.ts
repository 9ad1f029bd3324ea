import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import { backoffDelay, retryPolicy, sleep } from "./retry.ts";
import { parseRetryAfter } from "./retry_after.ts";

Deno.test("parseRetryAfter() reads seconds and HTTP dates", async (t) => {
  const now = Date.parse("2026-12-01T00:00:00Z");
  const cases: Array<[string | null, number | undefined]> = [
    ["1", 1000],
    [" 30 ", 30_000],
    ["0", 0],
    ["Tue, 01 Dec 2026 00:00:05 GMT", 5000],
    ["Mon, 30 Nov 2026 00:00:00 GMT", 0],
    ["-1", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    [null, undefined],
  ];
  for (const [value, expected] of cases) {
    await t.step(String(value), () => assert.equal(parseRetryAfter(value, now), expected));
  }
});

Deno.test("backoffDelay() uses full jitter over a capped exponential window", () => {
  const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, policy)), [
    99,
    199,
    399,
    799,
    999,
    999,
  ]);
  const zero = retryPolicy({ random: () => 0 });
  assert.equal(backoffDelay(3, zero), 0);
});

Deno.test("backoffDelay() honours Retry-After up to the cap", () => {
  const policy = retryPolicy({ maxRetryAfterMs: 5000 });
  assert.equal(backoffDelay(0, policy, { retryAfterMs: 2000 }), 2000);
  assert.equal(backoffDelay(0, policy, { retryAfterMs: 6000 }), undefined);
});

Deno.test("retryPolicy() rejects bad numbers with RangeError naming the option", () => {
  assert.throws(() => retryPolicy({ retries: -1 }), /"retries": -1/);
  assert.throws(() => retryPolicy({ retries: 1.5 }), /"retries": 1.5/);
  assert.throws(() => retryPolicy({ baseDelayMs: Number.NaN }), RangeError);
});

Deno.test("sleep() stops with ABORTED when the signal aborts", async () => {
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  controller.abort();
  await assert.rejects(pending, (e: unknown) => isRegistryError(e, "ABORTED"));
});
