import assert from "node:assert/strict";
import { Semaphore } from "./_semaphore.ts";

Deno.test("Semaphore runs at most count at once, in arrival order, and frees on failure", async () => {
  const semaphore = new Semaphore(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const runs = gates.map((gate, i) =>
    semaphore.run(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await gate.promise;
      running--;
      if (i === 1) throw new Error("fails");
      return i;
    })
  );
  const settled = Promise.allSettled(runs);
  for (const gate of gates) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gate.resolve();
  }
  const results = await settled;
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
  assert.equal(await semaphore.run(() => Promise.resolve("free again")), "free again");
});
