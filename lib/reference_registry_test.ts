import assert from "node:assert/strict";
import { parseRegistry } from "./reference.ts";
import { RegistryError } from "./errors.ts";

Deno.test("parseRegistry() normalizes login keys", async (t) => {
  const cases: Array<[string, string, string, string]> = [
    // input, registry, namespace, key
    ["quay.io", "quay.io", "", "quay.io"],
    ["https://quay.io", "quay.io", "", "quay.io"],
    ["HTTP://quay.io//", "quay.io", "", "quay.io"],
    ["quay.io/org", "quay.io", "org", "quay.io/org"],
    ["https://quay.io/org/team/", "quay.io", "org/team", "quay.io/org/team"],
    ["Quay.IO", "quay.io", "", "quay.io"],
    ["localhost", "localhost", "", "localhost"],
    ["localhost:5000", "localhost:5000", "", "localhost:5000"],
    ["127.0.0.1:5000/ns", "127.0.0.1:5000", "ns", "127.0.0.1:5000/ns"],
    ["[::1]:5000", "[::1]:5000", "", "[::1]:5000"],
    ["docker.io", "docker.io", "", "docker.io"],
    ["index.docker.io", "docker.io", "", "docker.io"],
    ["registry-1.docker.io/org", "docker.io", "org", "docker.io/org"],
  ];
  for (const [input, registry, namespace, key] of cases) {
    await t.step(input, () => {
      assert.deepEqual({ ...parseRegistry(input) }, { registry, namespace, key });
    });
  }
});

Deno.test("parseRegistry() rejects what is not host[:port][/namespace]", async (t) => {
  const bad = [
    "",
    "https://",
    "ubuntu",
    "org/app",
    "quay.io/Org",
    "quay.io/org:1",
    "quay.io/org@sha256:abc",
    "quay.io:0",
    "quay.io:99999",
    "bad host.io",
    "quay..io",
    "ftp://quay.io",
    "quay.io\n",
  ];
  for (const input of bad) {
    await t.step(JSON.stringify(input), () => {
      assert.throws(
        () => parseRegistry(input),
        (e: unknown) =>
          e instanceof RegistryError && e.code === "INVALID_REFERENCE" &&
          e.message.startsWith(`Cannot parse registry ${JSON.stringify(input)}: `),
      );
    });
  }
  assert.throws(() => parseRegistry(42 as unknown as string), RegistryError);
});
