import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import {
  effectiveVariant,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  type Platform,
  platformMatches,
} from "./platform.ts";

Deno.test("parsePlatform() reads os/arch[/variant]", async (t) => {
  const cases: Array<[string, Platform]> = [
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["windows/amd64", { os: "windows", architecture: "amd64" }],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["Linux/PPC64LE", { os: "Linux", architecture: "PPC64LE" }],
  ];
  for (const [input, expected] of cases) {
    await t.step(input, () => assert.deepEqual(parsePlatform(input), expected));
  }
});

Deno.test("parsePlatform() rejects anything else with INVALID_PLATFORM", async (t) => {
  for (
    const input of ["", "linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", "linux/amd64\n"]
  ) {
    await t.step(JSON.stringify(input), () => {
      assert.throws(
        () => parsePlatform(input),
        (e: unknown) => isRegistryError(e, "INVALID_PLATFORM") && e.message.startsWith("Cannot "),
      );
    });
  }
});

Deno.test("platformMatches() normalises arm64 to v8 and ignores an unwanted variant", async (t) => {
  const arm64: Platform = { os: "linux", architecture: "arm64" };
  const arm64v8: Platform = { os: "linux", architecture: "arm64", variant: "v8" };
  const cases: Array<[string, Platform, unknown, boolean]> = [
    ["exact", arm64v8, { os: "linux", architecture: "arm64", variant: "v8" }, true],
    ["arm64 without a variant is v8", arm64v8, { os: "linux", architecture: "arm64" }, true],
    ["v8 is not v9", arm64v8, { os: "linux", architecture: "arm64", variant: "v9" }, false],
    ["no variant wanted: any", arm64, { os: "linux", architecture: "arm64", variant: "v9" }, true],
    ["arm without a variant is not v7", { os: "linux", architecture: "arm", variant: "v7" }, {
      os: "linux",
      architecture: "arm",
    }, false],
    ["other os", arm64, { os: "windows", architecture: "arm64" }, false],
    ["other architecture", arm64, { os: "linux", architecture: "amd64" }, false],
    ["no platform", arm64, undefined, false],
    ["null platform", arm64, null, false],
    ["not an object", arm64, "linux/arm64", false],
  ];
  for (const [name, want, have, expected] of cases) {
    await t.step(name, () => assert.equal(platformMatches(want, have), expected));
  }
});

Deno.test("effectiveVariant() is the variant named, or v8 for arm64", () => {
  assert.equal(effectiveVariant({ architecture: "arm64" }), "v8");
  assert.equal(effectiveVariant({ architecture: "arm64", variant: "v9" }), "v9");
  assert.equal(effectiveVariant({ architecture: "amd64" }), undefined);
});

Deno.test("formatPlatform() writes os/arch[/variant], skipping what is not text", () => {
  assert.equal(
    formatPlatform({ os: "linux", architecture: "arm64", variant: "v8" }),
    "linux/arm64/v8",
  );
  assert.equal(formatPlatform({ os: "linux", architecture: "amd64", variant: 3 }), "linux/amd64");
  assert.equal(formatPlatform(undefined), "unknown");
  assert.equal(formatPlatform(null), "unknown");
});

Deno.test("hostPlatform() is Linux on the host's CPU", () => {
  assert.deepEqual(hostPlatform("aarch64"), { os: "linux", architecture: "arm64" });
  assert.deepEqual(hostPlatform("x86_64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(
    hostPlatform(),
    { os: "linux", architecture: Deno.build.arch === "aarch64" ? "arm64" : "amd64" },
  );
});
