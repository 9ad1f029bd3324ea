/**
 * The client against real `docker-registry` processes: the seed's defects,
 * existence answers for every manifest kind, and exact request counts.
 */
import assert from "node:assert/strict";
import {
  AuthTokenWrapper,
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  type ExistsResult,
  isRegistryError,
} from "../mod.ts";
import { type RegistryAuth, type RegistryFixture, startRegistry } from "./_registry.ts";
import { pushImage, seedStandardImages, type StandardImages } from "./_images.ts";
import { getTestCerts } from "./_certs.ts";
import { serveTls1 } from "./_http1.ts";

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
}

/** A temp HOME with `.docker/config.json` holding `user`'s credentials for the registry. */
async function homeWithDockerConfig(registry: RegistryFixture, user: string, password: string) {
  const home = await Deno.makeTempDir({ prefix: "regkit-home-" });
  await Deno.mkdir(`${home}/.docker`);
  await Deno.writeTextFile(
    `${home}/.docker/config.json`,
    JSON.stringify({ auths: { [registry.host]: { auth: b64(`${user}:${password}`) } } }),
  );
  return home;
}

function clientFor(
  registry: RegistryFixture,
  options: ContainerRegistryClientOptions = {},
): ContainerRegistryClient {
  return new ContainerRegistryClient({
    env: () => undefined, // no ambient credentials
    ...(registry.caCert === undefined ? {} : { caCerts: [registry.caCert] }),
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

function status(result: ExistsResult): string {
  return result.status === "unknown" ? `unknown ${result.code}` : result.status;
}

for (const auth of ["none", "htpasswd", "token"] as RegistryAuth[]) {
  Deno.test(`ContainerRegistryClient against the real registry (${auth})`, async (t) => {
    await using registry = await startRegistry({ auth });
    const images: StandardImages = await seedStandardImages(registry);
    const home = await homeWithDockerConfig(registry, "alice", registry.users.alice);
    const env = (name: string) => name === "HOME" ? home : undefined;
    await using client = clientFor(registry, { env });
    const h = registry.host;

    await t.step(
      "OCI image, Docker image and OCI index are present by tag and by digest",
      async () => {
        const cases: Array<[string, string]> = [
          [`${h}/test/oci:v1`, images.oci.digest],
          [`${h}/test/docker:v1`, images.docker.digest],
          [`${h}/test/index:v1`, images.index.digest],
          [`${h}/test/oci@${images.oci.digest}`, images.oci.digest],
          [`${h}/test/docker@${images.docker.digest}`, images.docker.digest],
          [`${h}/test/index@${images.index.digest}`, images.index.digest],
          [`${h}/test/index:v1@${images.index.digest}`, images.index.digest],
          [`docker://${h}/test/oci:v1`, images.oci.digest],
        ];
        for (const [ref, digest] of cases) {
          const result = await client.exists(ref);
          assert.equal(result.status, "present", `${ref}: ${status(result)}`);
          assert.equal(result.status === "present" && result.digest, digest, ref);
          assert.equal(result.reference, ref);
        }
      },
    );

    await t.step("a missing tag, digest and repository are absent", async () => {
      const missingDigest = `sha256:${"0".repeat(64)}`;
      for (
        const ref of [`${h}/test/oci:nope`, `${h}/test/oci@${missingDigest}`, `${h}/no/such:v1`]
      ) {
        assert.equal(status(await client.exists(ref)), "absent", ref);
      }
    });

    await t.step("digest(), manifest(), inspect() and tags() read what was pushed", async () => {
      assert.equal(await client.digest(`${h}/test/docker:v1`), images.docker.digest);
      const manifest = await client.manifest(`${h}/test/oci:v1`);
      assert.deepEqual(manifest.bytes, images.oci.manifest);
      assert.equal(manifest.mediaType, images.oci.mediaType);
      const arm = images.index.children.find((c) => c.platform.architecture === "arm64")!;
      const resolved = await client.manifest(`${h}/test/index:v1`, { platform: "linux/arm64/v8" });
      assert.equal(resolved.digest, arm.digest);
      assert.equal(resolved.indexDigest, images.index.digest);
      assert.equal(
        await client.digest(`${h}/test/index:v1`, { platform: "linux/arm64" }),
        arm.digest,
      );
      const info = await client.inspect(`${h}/test/index:v1`, { platform: "linux/arm64" });
      assert.equal(info.Digest, images.index.digest);
      assert.equal(info.Architecture, "arm64");
      assert.equal(info.Variant, "v8");
      assert.deepEqual(info.Layers, arm.layers.map((l) => l.digest));
      assert.deepEqual(await client.tags(`${h}/test/oci`), ["v1"]);
      await assert.rejects(
        client.manifest(`${h}/test/index:v1`, { platform: "windows/amd64" }),
        (e: unknown) =>
          isRegistryError(e, "PLATFORM_NOT_FOUND") && /linux\/arm64\/v8/.test(e.message),
      );
      await assert.rejects(
        client.digest(`${h}/test/oci:nope`),
        (e: unknown) => isRegistryError(e, "MANIFEST_UNKNOWN"),
      );
    });

    await t.step("seed API: checkContainerImageExists keeps its contract", async () => {
      const holder = new AuthTokenWrapper();
      assert.deepEqual(await client.checkContainerImageExists(`${h}/test/oci:v1`, holder), [
        true,
        "",
      ]);
      assert.deepEqual(await client.checkContainerImageExists(`${h}/test/oci:nope`, holder), [
        false,
        "",
      ]);
      if (auth === "token") {
        // The token was refreshed in place after the 401, and is reused for the same repository.
        assert.notEqual(holder.token, "");
        const before = registry.tokenServer!.stats.tokenRequests;
        assert.deepEqual(await client.checkContainerImageExists(`${h}/test/oci:v1`, holder), [
          true,
          "",
        ]);
        assert.equal(registry.tokenServer!.stats.tokenRequests, before);
      }
    });

    if (auth !== "none") {
      await t.step(
        "credentials come from the auth file in HOME; ':' and UTF-8 in passwords survive",
        async () => {
          // Seed defect 1: split(":") cut "pa:ss wörd:1" to "pa".
          assert.deepEqual(await client.resolveAuthentication(`${h}/test/oci:v1`), [
            "alice",
            registry.users.alice,
          ]);
          const why = await client.explainCredentials(`${h}/test/oci:v1`);
          assert.equal(why.source.type, "file");
          assert.equal(why.source.path, `${home}/.docker/config.json`);
          assert.ok(!JSON.stringify(why).includes(registry.users.alice));
        },
      );

      await t.step("wrong credentials are an error, not absent (seed defect 8)", async () => {
        const badHome = await homeWithDockerConfig(registry, "alice", "wrong:password");
        await using bad = clientFor(registry, { env: (n) => n === "HOME" ? badHome : undefined });
        for (const ref of [`${h}/test/oci:v1`, `${h}/test/oci:nope`]) {
          const result = await bad.exists(ref);
          assert.equal(status(result), "unknown UNAUTHORIZED", ref);
          assert.ok(result.status === "unknown" && !result.message.includes("wrong:password"));
        }
        const [present, message] = await bad.checkContainerImageExists(
          `${h}/test/oci:v1`,
          new AuthTokenWrapper(),
        );
        assert.equal(present, false);
        assert.match(message, /^Unexpected Error: 401 - /);
      });

      await t.step(
        "no credentials anywhere: AUTH_NOT_FOUND names the registry and files",
        async () => {
          const emptyHome = await Deno.makeTempDir();
          await Deno.mkdir(`${emptyHome}/.docker`);
          await Deno.writeTextFile(`${emptyHome}/.docker/config.json`, '{"auths":{"other.io":{}}}');
          await using none = clientFor(registry, {
            env: (n) => n === "HOME" ? emptyHome : undefined,
          });
          await assert.rejects(
            none.resolveAuthentication(`${h}/test/oci:v1`),
            (e: unknown) =>
              isRegistryError(e, "AUTH_NOT_FOUND") && e.message.includes(h) &&
              e.message.includes(`${emptyHome}/.docker/config.json`),
          );
        },
      );
    }

    if (auth === "token") {
      await t.step(
        "anonymous: public images work without credentials (seed defect 7)",
        async () => {
          await using anonymous = clientFor(registry);
          assert.equal(status(await anonymous.exists(`${h}/public/oci:v1`)), "present");
          assert.equal(status(await anonymous.exists(`${h}/public/oci:nope`)), "absent");
          // Anonymous pull on a private repository is refused: unknown, never absent.
          assert.equal(status(await anonymous.exists(`${h}/test/oci:v1`)), "unknown UNAUTHORIZED");
        },
      );

      await t.step(
        "a repository the user may not read is unknown UNAUTHORIZED, not absent",
        async () => {
          assert.equal(status(await client.exists(`${h}/denied/oci:v1`)), "unknown UNAUTHORIZED");
          const [present, message] = await client.checkContainerImageExists(
            `${h}/denied/oci:v1`,
            new AuthTokenWrapper(),
          );
          assert.equal(present, false);
          assert.match(message, /^Unexpected Error: 401 - /);
        },
      );

      await t.step("authenticateToRegistry answers the registry's real challenge", async () => {
        const response = await registry.fetch(`/v2/test/oci/manifests/v1`, { method: "HEAD" });
        await response.body?.cancel();
        const header = response.headers.get("www-authenticate")!;
        const token = await client.authenticateToRegistry(`${h}/test/oci:v1`, header);
        assert.ok(registry.tokenServer!.stats.issuedTokens.includes(token));
        const ok = await registry.fetch(`/v2/test/oci/manifests/v1`, {
          method: "HEAD",
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/vnd.oci.image.manifest.v1+json",
          },
        });
        await ok.body?.cancel();
        assert.equal(ok.status, 200);
      });
    }
  });
}

Deno.test("seed defect 3: an OCI image the seed's Accept-less GET calls absent is present", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const images = await seedStandardImages(registry);
  // What the seed did: GET without Accept.
  const seedStyle = await registry.fetch(`/v2/test/oci/manifests/v1`);
  await seedStyle.body?.cancel();
  assert.equal(seedStyle.status, 404);
  await using client = clientFor(registry);
  await registry.clearRequests();
  const result = await client.exists(`${registry.host}/test/oci:v1`);
  assert.equal(result.status === "present" && result.digest, images.oci.digest);
  const manifestRequests = (await registry.requests()).filter((r) =>
    r.path.includes("/manifests/")
  );
  assert.deepEqual(manifestRequests.map((r) => `${r.method} ${r.status}`), ["HEAD 200"]);
});

Deno.test("100 sequential checks in 10 repositories: 100 manifest requests, <= 10 tokens, no 401 after the first", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const truth = new Map<string, boolean>();
  for (let r = 0; r < 10; r++) {
    for (let tag = 0; tag < 5; tag++) {
      await pushImage(registry, `seq/repo${r}`, `t${tag}`, { format: tag % 2 ? "docker" : "oci" });
    }
    for (let tag = 0; tag < 10; tag++) truth.set(`${registry.host}/seq/repo${r}:t${tag}`, tag < 5);
  }
  const home = await homeWithDockerConfig(registry, "alice", registry.users.alice);
  await registry.clearRequests();
  registry.tokenServer!.stats.reset();
  await using client = clientFor(registry, { env: (n) => n === "HOME" ? home : undefined });
  for (const [ref, present] of truth) {
    assert.equal((await client.exists(ref)).status, present ? "present" : "absent", ref);
  }
  const requests = await registry.requests();
  const manifests = requests.filter((r) => r.path.includes("/manifests/"));
  assert.equal(manifests.length, 100);
  assert.ok(
    registry.tokenServer!.stats.tokenRequests <= 10,
    `${registry.tokenServer!.stats.tokenRequests}`,
  );
  assert.equal(registry.tokenServer!.stats.tokenRequests, client.stats.tokenRequests);
  const unauthorized = requests.filter((r) => r.status === 401);
  assert.deepEqual(unauthorized.map((r) => r.path), ["/v2/"]); // only the first contact
  assert.equal(requests[0].path, "/v2/");
});

Deno.test("existsMany over 100 refs in 100 repositories: 100 manifest requests, <= 10 tokens, input order", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const refs: string[] = [];
  const expected: string[] = [];
  for (let r = 0; r < 100; r++) {
    const present = r % 2 === 0;
    if (present) await pushImage(registry, `bulk/repo${r}`, "v1", {});
    refs.push(`${registry.host}/bulk/repo${r}:v1`);
    expected.push(present ? "present" : "absent");
  }
  refs.splice(50, 0, "Not A Valid Ref");
  expected.splice(50, 0, "unknown INVALID_REFERENCE");
  const home = await homeWithDockerConfig(registry, "alice", registry.users.alice);
  await registry.clearRequests();
  registry.tokenServer!.stats.reset();
  await using client = clientFor(registry, { env: (n) => n === "HOME" ? home : undefined });
  async function* source() {
    yield* refs; // an async iterable, as a streamed file would be
  }
  const results: ExistsResult[] = [];
  for await (const result of client.existsMany(source(), { concurrency: 8 })) results.push(result);
  assert.deepEqual(results.map((r) => r.reference), refs);
  assert.deepEqual(results.map(status), expected);
  const manifests = (await registry.requests()).filter((r) => r.path.includes("/manifests/"));
  assert.equal(manifests.length, 100);
  assert.ok(manifests.every((r) => r.status !== 401));
  const tokens = registry.tokenServer!.stats.tokenRequests;
  assert.ok(tokens <= 10, `token requests: ${tokens}`);
  // Every token request asked for several repositories at once.
  assert.ok(registry.tokenServer!.stats.requests.every((r) => r.scopes.length > 1));
});

Deno.test("existsMany rejects a bad concurrency with RangeError", () => {
  const client = new ContainerRegistryClient({ env: () => undefined });
  assert.throws(() => client.existsMany([], { concurrency: 0 }), RangeError);
  assert.throws(() => client.existsMany([], { concurrency: 1.5 }), /"concurrency": 1.5/);
});

Deno.test("ContainerRegistryClient validates its options", () => {
  assert.throws(() => new ContainerRegistryClient({ username: "u" }), TypeError);
  assert.throws(() => new ContainerRegistryClient({ password: "p" }), TypeError);
  assert.throws(() => new ContainerRegistryClient({ retries: -1 }), RangeError);
  assert.throws(() => new ContainerRegistryClient({ logLevel: "LOUD" }), RangeError);
  assert.throws(() => new ContainerRegistryClient({ timeoutMs: 0 }), RangeError);
  assert.throws(
    () => new ContainerRegistryClient({ caCerts: ["not a pem"] }),
    (e: unknown) => isRegistryError(e, "INVALID_CONFIG"),
  );
  const client = new ContainerRegistryClient({ username: "u", password: "hunter2:x" });
  assert.ok(!Deno.inspect(client).includes("hunter2"));
  assert.ok(!JSON.stringify(client).includes("hunter2"));
});

Deno.test("seed defect 4: 429 and 5xx over https are retried (the seed mounted retries on http:// only)", async () => {
  const certs = await getTestCerts();
  const MANIFEST = new TextEncoder().encode('{"schemaVersion":2,"layers":[]}');
  const answers = [429, 503, 502, 200];
  const log: string[] = [];
  const server = serveTls1(
    { hostname: "127.0.0.1", port: 0, cert: certs.serverCert, key: certs.serverKey },
    (request) => {
      const path = new URL(request.url).pathname;
      log.push(`${request.method} ${path}`);
      if (path === "/v2/") return new Response("{}");
      const status = answers.shift() ?? 200;
      const headers: Record<string, string> = status === 429 ? { "retry-after": "0" } : {};
      if (status !== 200) return new Response("busy", { status, headers });
      return new Response(MANIFEST, {
        headers: {
          "docker-content-digest": "sha256:" + "c".repeat(64),
          "content-type": "application/vnd.oci.image.manifest.v1+json",
        },
      });
    },
  );
  try {
    await using client = new ContainerRegistryClient({
      env: () => undefined,
      caCerts: [certs.caCert],
      backoff: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const result = await client.exists(`127.0.0.1:${server.port}/app:v1`);
    assert.equal(result.status, "present");
    assert.deepEqual(log, ["GET /v2/", ...Array(4).fill("HEAD /v2/app/manifests/v1")]);
    assert.equal(client.stats.retries, 3);
  } finally {
    await server.shutdown();
  }
});
