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

// Inputs from distribution/reference's own tables (normalize_test.go
// TestValidateReferenceName and TestValidateRemoteName, reference_test.go
// TestReferenceParse), with what ParseNormalizedNamed answers for them.
const HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
const FFFF = "sha256:" + "f".repeat(64);
const DISTRIBUTION_VALID: Array<[string, string]> = [
  ["docker/docker", "docker.io/docker/docker:latest"],
  ["library/debian", "docker.io/library/debian:latest"],
  ["debian", "docker.io/library/debian:latest"],
  ["localhost/library/debian", "localhost/library/debian:latest"],
  ["localhost/debian", "localhost/debian:latest"],
  ["docker.io/docker/docker", "docker.io/docker/docker:latest"],
  ["docker.io/library/debian", "docker.io/library/debian:latest"],
  ["docker.io/debian", "docker.io/library/debian:latest"],
  ["index.docker.io/docker/docker", "docker.io/docker/docker:latest"],
  ["index.docker.io/library/debian", "docker.io/library/debian:latest"],
  ["index.docker.io/debian", "docker.io/library/debian:latest"],
  ["127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker:latest"],
  ["127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian:latest"],
  ["127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest"],
  ["192.168.0.1", "docker.io/library/192.168.0.1:latest"],
  ["192.168.0.1:80", "docker.io/library/192.168.0.1:80"],
  ["192.168.0.1:8/debian", "192.168.0.1:8/debian:latest"],
  ["192.168.0.2:25000/debian", "192.168.0.2:25000/debian:latest"],
  [
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
  ],
  ["[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest"],
  ["[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker:latest"],
  ["[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest"],
  [`docker.io/${HEX64}`, `docker.io/library/${HEX64}:latest`],
  ["docker-rules/docker", "docker.io/docker-rules/docker:latest"],
  ["docker---rules/docker", "docker.io/docker---rules/docker:latest"],
  ["doc/docker", "docker.io/doc/docker:latest"],
  ["d/docker", "docker.io/d/docker:latest"],
  ["jess/t", "docker.io/jess/t:latest"],
  ["dock__er/docker", "docker.io/dock__er/docker:latest"],
  ["test_com", "docker.io/library/test_com:latest"],
  ["test.com:tag", "docker.io/library/test.com:tag"],
  ["test.com:5000", "docker.io/library/test.com:5000"],
  ["test.com/repo:tag", "test.com/repo:tag"],
  ["test:5000/repo", "test:5000/repo:latest"],
  [`test:5000/repo@${FFFF}`, `test:5000/repo@${FFFF}`],
  [`test:5000/repo:tag@${FFFF}`, `test:5000/repo:tag@${FFFF}`],
  ["lowercase:Uppercase", "docker.io/library/lowercase:Uppercase"],
  [
    "a/".repeat(127) + "a:tag-puts-this-over-max",
    `docker.io/${"a/".repeat(127)}a:tag-puts-this-over-max`,
  ],
  ["sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"],
  [
    "b.gcr.io/test.example.com/my-app:test.example.com",
    "b.gcr.io/test.example.com/my-app:test.example.com",
  ],
  ["xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"],
  [`xn--7o8h.com/myimage:xn--7o8h.com@${FFFF}`, `xn--7o8h.com/myimage:xn--7o8h.com@${FFFF}`],
  ["foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"],
  ["foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080"],
  ["192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050"],
  ["[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"],
  ["[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo:tag"],
  [`[2001:db8::1]:5000/repo:tag@${FFFF}`, `[2001:db8::1]:5000/repo:tag@${FFFF}`],
  ["[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo:latest"],
  ["[::1]:5000/repo", "[::1]:5000/repo:latest"],
  ["example.com/" + "a".repeat(255) + ":tag", `example.com/${"a".repeat(255)}:tag`],
  // 63 hex characters are a name like any other.
  [HEX64.slice(1), `docker.io/library/${HEX64.slice(1)}:latest`],
];
const DISTRIBUTION_INVALID: string[] = [
  "https://github.com/docker/docker",
  "docker/Docker",
  "-docker",
  "-docker/docker",
  "-docker.io/docker/docker",
  "docker///docker",
  "docker.io/docker/Docker",
  "docker.io/docker///docker",
  "[fc00::1]",
  "[fc00::1]:5000",
  "fc00::1:5000/debian",
  "[fe80::1%eth0]:5000/debian",
  "[2001:db8:3:4::192.0.2.33]:5000/debian",
  HEX64,
  "docker-/docker",
  "-docker-/docker",
  "____/____",
  "_docker/_docker",
  "dock..er/docker",
  "dock_.er/docker",
  "dock-.er/docker",
  "docker/",
  "",
  ":justtag",
  `@${FFFF}`,
  "repo@sha256:ffffffffffffffffffffffffffffffffff",
  `validname@invaliddigest:${"f".repeat(64)}`,
  "Uppercase:tag",
  "test:5000/Uppercase/lowercase:tag",
  "domain/" + "a".repeat(256) + ":tag",
  "aa/asdf$$^/aa",
  "[2001:db8::1]",
  "[2001:db8::1]:5000",
  "[2001:db8::1]:tag",
  "[fe80::1%eth0]:5000/repo",
  "[fe80::1%@invalidzone]:5000/repo",
];

Deno.test("parseReference() agrees with distribution/reference's test tables", async (t) => {
  for (const [input, canonical] of DISTRIBUTION_VALID) {
    await t.step(`accepts ${input.slice(0, 60)}`, () => {
      assert.equal(String(parseReference(input)), canonical);
    });
  }
  for (const input of DISTRIBUTION_INVALID) {
    await t.step(`rejects ${JSON.stringify(input).slice(0, 60)}`, () => {
      assert.throws(
        () => parseReference(input),
        (e: unknown) => isRegistryError(e, "INVALID_REFERENCE"),
      );
    });
  }
});

Deno.test("parseReference() rejects a bare 64-hex string as an image ID", async (t) => {
  for (const input of [HEX64, `docker://${HEX64}`, "f".repeat(64)]) {
    await t.step(input.slice(0, 20), () => {
      for (const parse of [parseReference, parseRepository]) {
        assert.throws(
          () => parse(input),
          (e: unknown) => isRegistryError(e, "INVALID_REFERENCE") && /image ID/.test(e.message),
        );
      }
    });
  }
  await t.step("a registry, a namespace, a tag or upper case make it a name", () => {
    assert.equal(parseReference(`docker.io/${HEX64}`).repository, `library/${HEX64}`);
    assert.equal(parseReference(`me/${HEX64}`).repository, `me/${HEX64}`);
    assert.equal(parseReference(`${HEX64}:1`).tag, "1");
    assert.throws(() => parseReference(HEX64.toUpperCase()), /lowercase/);
  });
});

Deno.test("parseReference() rejects IPv6 zone identifiers at parse time", async (t) => {
  for (const input of ["[fe80::1%eth0]:5000/repo", "[fe80::1%25eth0]/repo", "[fe80::1%1]/repo:1"]) {
    await t.step(input, () => {
      assert.throws(
        () => parseReference(input),
        (e: unknown) =>
          isRegistryError(e, "INVALID_REFERENCE") && /zone identifier/.test(e.message),
      );
    });
  }
  assert.equal(parseReference("[fe80::1]:5000/repo").registry, "[fe80::1]:5000");
});

Deno.test("parseReference() counts the 255-character limit on the normalised path", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["a".repeat(247), true], // library/ + 247 = 255
    ["a".repeat(248), false], // library/ + 248 = 256: both peers reject it
    ["a".repeat(255), false],
    ["docker.io/library/" + "a".repeat(247), true],
    ["docker.io/library/" + "a".repeat(248), false],
    ["ns/" + "a".repeat(252), true],
    ["ns/" + "a".repeat(253), false],
    ["quay.io/" + "a".repeat(255), true], // the host is not counted, as in distribution
    ["quay.io/" + "a".repeat(256), false],
  ];
  for (const [input, ok] of cases) {
    await t.step(`${input.length} characters: ${input.slice(0, 20)}…`, () => {
      for (const parse of [parseReference, parseRepository]) {
        if (ok) {
          assert.ok(parse(input).repository.length <= 255);
        } else {
          assert.throws(
            () => parse(input),
            (e: unknown) =>
              isRegistryError(e, "INVALID_REFERENCE") && /longer than 255/.test(e.message),
          );
        }
      }
    });
  }
  assert.throws(() => parseReference("a".repeat(250)), /once "library\/" is added/);
});

Deno.test("parseReference() keeps its documented differences from distribution", async (t) => {
  await t.step("host names are lower-cased (distribution keeps Docker/docker's case)", () => {
    assert.equal(parseReference("Docker/docker").registry, "docker");
    assert.equal(parseReference("LOCALDOMAIN/library/debian").registry, "localdomain");
  });
  await t.step("ports above 65535 are rejected (distribution takes any digits)", () => {
    assert.throws(() => parseReference("example.com:65536/app"), /port "65536"/);
    assert.equal(parseReference("example.com:65535/app").registry, "example.com:65535");
  });
  await t.step("tag and digest together are kept, as ParseNormalizedNamed keeps them", () => {
    const ref = parseReference(`busybox:latest@${FFFF}`);
    assert.equal(ref.tag, "latest");
    assert.equal(ref.digest, FFFF);
    assert.equal(ref.reference, FFFF);
  });
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
