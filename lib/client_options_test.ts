import assert from "node:assert/strict";
import { ContainerRegistryClient } from "./client.ts";
import type { ContainerRegistryClientOptions } from "./client_options.ts";

/** option (as a partial options object), the error class, what the message must name. */
const BAD: Array<[string, unknown, typeof TypeError | typeof RangeError, string[]]> = [
  ["helperTimeoutMs: -1", { helperTimeoutMs: -1 }, RangeError, ['"helperTimeoutMs"', "-1"]],
  ["helperTimeoutMs: NaN", { helperTimeoutMs: NaN }, RangeError, ['"helperTimeoutMs"', "NaN"]],
  ["helperTimeoutMs: '5'", { helperTimeoutMs: "5" }, TypeError, ['"helperTimeoutMs"', '"5"']],
  ["timeoutMs: 0", { timeoutMs: 0 }, RangeError, ['"timeoutMs"', "0"]],
  ["timeoutMs: 2147484 s", { timeoutMs: 2147484 * 1000 }, RangeError, [
    '"timeoutMs"',
    "2147484000",
  ]],
  ["timeoutMs: 1e300", { timeoutMs: 1e300 }, RangeError, ['"timeoutMs"', "1e+300"]],
  ["timeoutMs: Infinity", { timeoutMs: Infinity }, RangeError, ['"timeoutMs"', "Infinity"]],
  ["insecureRegistries: [42]", { insecureRegistries: [42] }, TypeError, [
    '"insecureRegistries[0]"',
    "42",
  ]],
  ["insecureRegistries: 'a.io'", { insecureRegistries: "a.io" }, TypeError, [
    '"insecureRegistries"',
  ]],
  ["insecureRegistries: ['bogus::::']", { insecureRegistries: ["bogus::::"] }, RangeError, [
    '"insecureRegistries[0]"',
    '"bogus::::"',
  ]],
  ["caCerts: [1]", { caCerts: [1] }, TypeError, ['"caCerts[0]"', "1"]],
  ["backoff.random: 5", { backoff: { random: 5 } }, TypeError, ['"random"', "5"]],
  ["backoff.maxDelayMs: 1e300", { backoff: { maxDelayMs: 1e300 } }, RangeError, [
    '"maxDelayMs"',
    "1e+300",
  ]],
  ["backoff.baseDelayMs: -1", { backoff: { baseDelayMs: -1 } }, RangeError, [
    '"baseDelayMs"',
    "-1",
  ]],
  ["backoff: 3", { backoff: 3 }, TypeError, ['"backoff"', "3"]],
  ["userAgent: 'a\\nb'", { userAgent: "a\nb" }, RangeError, ['"userAgent"', '"a\\nb"']],
  ["userAgent: 'a€'", { userAgent: "a€" }, RangeError, ['"userAgent"']],
  ["userAgent: 1", { userAgent: 1 }, TypeError, ['"userAgent"', "1"]],
  ["fetch: 'x'", { fetch: "x" }, TypeError, ['"fetch"', '"x"']],
  ["onLog: {}", { onLog: {} }, TypeError, ['"onLog"']],
  ["env: 1", { env: 1 }, TypeError, ['"env"']],
  ["signal: {}", { signal: {} }, TypeError, ['"signal"']],
  ["authFile: 1", { authFile: 1 }, TypeError, ['"authFile"', "1"]],
  ["retries: -1", { retries: -1 }, RangeError, ['"retries"', "-1"]],
  ["retries: 1.5", { retries: 1.5 }, RangeError, ['"retries"', "1.5"]],
  ["logLevel: LOUD", { logLevel: "LOUD" }, RangeError, ['"LOUD"']],
  ["username alone", { username: "u" }, TypeError, ['"username"', '"password"']],
];

Deno.test("ContainerRegistryClient rejects each bad option at once, naming it and its value", async (t) => {
  for (const [name, options, type, named] of BAD) {
    await t.step(name, () => {
      assert.throws(
        () => new ContainerRegistryClient(options as ContainerRegistryClientOptions),
        (e: unknown) => {
          assert.ok(e instanceof type, `${name}: ${e}`);
          for (const part of named) assert.ok(e.message.includes(part), `${e.message} ∌ ${part}`);
          return true;
        },
      );
    });
  }
});

Deno.test("ContainerRegistryClient never shows a bad username or password", () => {
  for (
    const options of [{ username: "u", password: 42 }, { username: ["secret-user"], password: "p" }]
  ) {
    assert.throws(
      () => new ContainerRegistryClient(options as unknown as ContainerRegistryClientOptions),
      (e: unknown) =>
        e instanceof TypeError && !e.message.includes("42") && !e.message.includes("secret-user"),
    );
  }
});

Deno.test("ContainerRegistryClient accepts the good values at the edges", () => {
  const good: ContainerRegistryClientOptions[] = [
    {},
    { timeoutMs: 1, helperTimeoutMs: 2 ** 31 - 1 },
    { insecureRegistries: ["registry.local", "registry.local:5000", "[::1]:5000", "10.0.0.1"] },
    { backoff: { baseDelayMs: 0, maxDelayMs: 0, random: () => 0.5 } },
    { userAgent: "regkit/0.1.0 (ci; Linux)\tx" },
    { signal: new AbortController().signal, fetch: globalThis.fetch, onLog: () => {} },
  ];
  for (const options of good) new ContainerRegistryClient(options).close();
});
