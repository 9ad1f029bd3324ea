import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import { parseDigest, parseReference, parseRepository } from "./reference.ts";

const SHA = "sha256:" + "0123456789abcdef".repeat(4);
const SHA512 = "sha512:" + "0123456789abcdef".repeat(8);

// [input, registry, repository, tag, digest, canonical, familiar, apiHost]
const VALID: Array<[string, string, string, string | undefined, string | undefined, string]> = [
  ["ubuntu", "docker.io", "library/ubuntu", "latest", undefined, "docker.io/library/ubuntu:latest"],
  [
    "ubuntu:latest",
    "docker.io",
    "library/ubuntu",
    "latest",
    undefined,
    "docker.io/library/ubuntu:latest",
  ],
  [
    "ubuntu:24.04",
    "docker.io",
    "library/ubuntu",
    "24.04",
    undefined,
    "docker.io/library/ubuntu:24.04",
  ],
  [
    "library/ubuntu",
    "docker.io",
    "library/ubuntu",
    "latest",
    undefined,
    "docker.io/library/ubuntu:latest",
  ],
  [
    "docker.io/ubuntu",
    "docker.io",
    "library/ubuntu",
    "latest",
    undefined,
    "docker.io/library/ubuntu:latest",
  ],
  [
    "index.docker.io/ubuntu",
    "docker.io",
    "library/ubuntu",
    "latest",
    undefined,
    "docker.io/library/ubuntu:latest",
  ],
  [
    "registry-1.docker.io/library/ubuntu:22.04",
    "docker.io",
    "library/ubuntu",
    "22.04",
    undefined,
    "docker.io/library/ubuntu:22.04",
  ],
  [
    "Docker.IO/ubuntu",
    "docker.io",
    "library/ubuntu",
    "latest",
    undefined,
    "docker.io/library/ubuntu:latest",
  ],
  ["bitnami/redis:7", "docker.io", "bitnami/redis", "7", undefined, "docker.io/bitnami/redis:7"],
  [
    "docker.io/bitnami/redis",
    "docker.io",
    "bitnami/redis",
    "latest",
    undefined,
    "docker.io/bitnami/redis:latest",
  ],
  ["localhost/app", "localhost", "app", "latest", undefined, "localhost/app:latest"],
  ["localhost:5000/app", "localhost:5000", "app", "latest", undefined, "localhost:5000/app:latest"],
  ["localhost:5000/app:1", "localhost:5000", "app", "1", undefined, "localhost:5000/app:1"],
  [
    "127.0.0.1:5000/ns/app:1",
    "127.0.0.1:5000",
    "ns/app",
    "1",
    undefined,
    "127.0.0.1:5000/ns/app:1",
  ],
  ["127.0.0.1/app", "127.0.0.1", "app", "latest", undefined, "127.0.0.1/app:latest"],
  ["[::1]:5000/app:v2", "[::1]:5000", "app", "v2", undefined, "[::1]:5000/app:v2"],
  ["[::1]/app", "[::1]", "app", "latest", undefined, "[::1]/app:latest"],
  ["quay.io/org/app:1.2", "quay.io", "org/app", "1.2", undefined, "quay.io/org/app:1.2"],
  [
    "quay.io/org/sub/app:1.2",
    "quay.io",
    "org/sub/app",
    "1.2",
    undefined,
    "quay.io/org/sub/app:1.2",
  ],
  ["QUAY.io/org/app", "quay.io", "org/app", "latest", undefined, "quay.io/org/app:latest"],
  [
    "ghcr.io/a-b/c_d.e__f:g-H_i.J",
    "ghcr.io",
    "a-b/c_d.e__f",
    "g-H_i.J",
    undefined,
    "ghcr.io/a-b/c_d.e__f:g-H_i.J",
  ],
  [
    "registry.example.com:443/x/y:z",
    "registry.example.com:443",
    "x/y",
    "z",
    undefined,
    "registry.example.com:443/x/y:z",
  ],
  [
    "my-host.example/a---b",
    "my-host.example",
    "a---b",
    "latest",
    undefined,
    "my-host.example/a---b:latest",
  ],
  ["myhost:80/app", "myhost:80", "app", "latest", undefined, "myhost:80/app:latest"],
  [`app@${SHA}`, "docker.io", "library/app", undefined, SHA, `docker.io/library/app@${SHA}`],
  [`quay.io/org/app@${SHA}`, "quay.io", "org/app", undefined, SHA, `quay.io/org/app@${SHA}`],
  [`quay.io/org/app:1.2@${SHA}`, "quay.io", "org/app", "1.2", SHA, `quay.io/org/app:1.2@${SHA}`],
  [
    `localhost:5000/app@${SHA}`,
    "localhost:5000",
    "app",
    undefined,
    SHA,
    `localhost:5000/app@${SHA}`,
  ],
  [
    `quay.io/org/app@${SHA512}`,
    "quay.io",
    "org/app",
    undefined,
    SHA512,
    `quay.io/org/app@${SHA512}`,
  ],
  ["docker://quay.io/org/app:1", "quay.io", "org/app", "1", undefined, "quay.io/org/app:1"],
  [
    "docker://alpine",
    "docker.io",
    "library/alpine",
    "latest",
    undefined,
    "docker.io/library/alpine:latest",
  ],
  [
    "DOCKER://alpine:3",
    "docker.io",
    "library/alpine",
    "3",
    undefined,
    "docker.io/library/alpine:3",
  ],
  ["a/b/c/d/e/f:1", "docker.io", "a/b/c/d/e/f", "1", undefined, "docker.io/a/b/c/d/e/f:1"],
  [
    "x:" + "t".repeat(128),
    "docker.io",
    "library/x",
    "t".repeat(128),
    undefined,
    "docker.io/library/x:" + "t".repeat(128),
  ],
];

const INVALID: Array<[string, RegExp]> = [
  ["", /empty/],
  ["Ubuntu", /lowercase/],
  ["quay.io/Org/app", /lowercase/],
  ["quay.io//app", /empty component/],
  ["quay.io/org/", /empty component/],
  ["/app", /empty component|not a valid host/],
  ["app:", /tag is empty/],
  ["app:-bad", /tag "-bad"/],
  ["app:bad!", /tag "bad!"/],
  ["app:" + "t".repeat(129), /longer than 128/],
  ["a/" + "b".repeat(260), /longer than 255/],
  ["app@", /digest is empty/],
  ["app@sha256:abc", /64 lowercase hex/],
  ["app@sha256:" + "A".repeat(64), /64 lowercase hex/],
  ["app@md5:" + "a".repeat(32), /not supported/],
  ["app@sha256", /algorithm>:<hex/],
  ["app@:abc", /algorithm>:<hex/],
  ["app @x", /whitespace/],
  [" app", /whitespace/],
  ["app\t", /whitespace/],
  ["app\u0000", /control/],
  ["https://quay.io/org/app", /scheme "https:\/\/"/],
  ["oci://foo", /scheme "oci:\/\/"/],
  ["quay.io:99999/app", /port "99999"/],
  ["quay.io:0/app", /port "0"/],
  ["quay.io:abc/app", /port "abc"/],
  ["-bad.io/app", /not a valid host/],
  ["bad-.io/app", /not a valid host/],
  ["[::1/app", /not a valid host|malformed/],
  ["a..b/app", /invalid characters|not a valid host/],
  ["app/.hidden", /invalid characters/],
  ["app/a__-b", /invalid characters/],
  ["_/x", /invalid characters/],
];

Deno.test("parseReference() accepts and normalizes valid references", async (t) => {
  for (const [input, registry, repository, tag, digest, canonical] of VALID) {
    await t.step(input.length > 60 ? input.slice(0, 60) + "…" : input, () => {
      const ref = parseReference(input);
      assert.equal(ref.registry, registry);
      assert.equal(ref.repository, repository);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
      assert.equal(String(ref), canonical);
      // round trip
      const again = parseReference(String(ref));
      assert.equal(String(again), canonical);
      assert.equal(again.tag, tag);
    });
  }
});

Deno.test("parseReference() rejects invalid references with INVALID_REFERENCE naming the part", async (t) => {
  for (const [input, pattern] of INVALID) {
    await t.step(JSON.stringify(input).slice(0, 60), () => {
      assert.throws(
        () => parseReference(input),
        (error: unknown) =>
          isRegistryError(error, "INVALID_REFERENCE") && pattern.test(error.message),
      );
    });
  }
});

Deno.test("parseReference() fixes the seed's reference bugs", async (t) => {
  // The seed did rsplit(":") and split("/", 1): these broke.
  await t.step("localhost:5000/app has no tag: default latest, port kept", () => {
    const ref = parseReference("localhost:5000/app");
    assert.equal(ref.apiHost, "localhost:5000");
    assert.equal(ref.reference, "latest");
  });
  await t.step("a digest reference fetches the digest", () => {
    assert.equal(parseReference(`app@${SHA}`).reference, SHA);
    assert.equal(parseReference(`app:1@${SHA}`).reference, SHA);
    assert.equal(parseReference(`app:1@${SHA}`).familiar, `app:1@${SHA}`);
  });
  await t.step("ubuntu:latest means docker.io/library/ubuntu on registry-1.docker.io", () => {
    const ref = parseReference("ubuntu:latest");
    assert.equal(ref.name, "docker.io/library/ubuntu");
    assert.equal(ref.apiHost, "registry-1.docker.io");
    assert.equal(ref.familiar, "ubuntu:latest");
    assert.equal(ref.scope(), "repository:library/ubuntu:pull");
  });
});

Deno.test("Reference.familiar gives docker's short form", () => {
  assert.equal(parseReference("docker.io/library/alpine:3").familiar, "alpine:3");
  assert.equal(parseReference("docker.io/bitnami/redis").familiar, "bitnami/redis:latest");
  assert.equal(parseReference("quay.io/org/app:1").familiar, "quay.io/org/app:1");
  // docker prints "a.b/c", which reads back as registry "a.b": regkit keeps the prefix.
  assert.equal(parseReference("docker.io/a.b/c:1").familiar, "docker.io/a.b/c:1");
  assert.equal(parseReference("docker.io/localhost/c").familiar, "docker.io/localhost/c:latest");
  for (const input of ["docker.io/a.b/c:1", "alpine", "bitnami/redis:7", "docker.io/x.y/z/w"]) {
    assert.equal(
      String(parseReference(parseReference(input).familiar)),
      String(parseReference(input)),
    );
  }
});

Deno.test("parseRepository() takes bare names only", () => {
  assert.equal(parseRepository("quay.io/org/app").name, "quay.io/org/app");
  assert.equal(parseRepository("alpine").name, "docker.io/library/alpine");
  assert.throws(
    () => parseRepository("alpine:3"),
    (e: unknown) => isRegistryError(e, "INVALID_REFERENCE"),
  );
  assert.throws(
    () => parseRepository(`alpine@${SHA}`),
    (e: unknown) => isRegistryError(e, "INVALID_REFERENCE"),
  );
});

Deno.test("parseDigest() checks algorithm and length", () => {
  assert.deepEqual(parseDigest(SHA), { algorithm: "sha256", hex: SHA.slice(7) });
  assert.throws(
    () => parseDigest("sha256:xyz"),
    (e: unknown) => isRegistryError(e, "INVALID_REFERENCE"),
  );
});
