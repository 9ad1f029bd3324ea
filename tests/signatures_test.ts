/**
 * Signature and artifact discovery against the real `docker-registry` 2.8 (no referrers API:
 * `/referrers/` is a plain-text 404, no `OCI-Subject`, `n` ignored on tags), which carries the
 * legacy cosign tags and the referrers fallback tag for real. Golden cosign artifacts from
 * `tests/fixtures/golden/` are pushed byte for byte where they fit.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodeBase64 } from "@std/encoding/base64";
import {
  type ArtifactsResult,
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  cosignTags,
  type SignedResult,
} from "../mod.ts";
import { type RegistryFixture, startRegistry } from "./_registry.ts";
import { pushImage, pushIndex } from "./_images.ts";
import {
  generateKey,
  makeBundle,
  pushArtifact,
  pushBundleReferrer,
  pushCosignAttestation,
  pushCosignSignature,
  pushReferrer,
  signLayer,
} from "./_signatures.ts";

const GOLDEN = new URL("./fixtures/golden/", import.meta.url);

function clientFor(registry: RegistryFixture, options: ContainerRegistryClientOptions = {}) {
  const auth = registry.auth === "none" ? {} : {
    username: "alice",
    password: registry.users.alice,
  };
  return new ContainerRegistryClient({
    env: () => undefined,
    ...(registry.caCert === undefined ? {} : { caCerts: [registry.caCert] }),
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    ...auth,
    ...options,
  });
}

function line(r: SignedResult): string {
  if (r.status === "unknown") return `unknown ${r.code}`;
  if (r.status === "absent") return "absent";
  return `${r.status} ${r.signatures.map((s) => `${s.format}/${s.via}`).sort().join(",")}`;
}

function kinds(r: ArtifactsResult): string[] {
  assert.equal(r.status, "present", JSON.stringify(r));
  if (r.status !== "present") return [];
  return r.artifacts.map((a) => `${a.kind} ${a.format} ${a.via}`).sort();
}

for (const auth of ["token", "htpasswd"] as const) {
  Deno.test(`signed() and artifacts() over every layout on docker-registry 2.8 (${auth})`, async () => {
    await using registry = await startRegistry({ auth });
    const key = await generateKey();
    const host = registry.host;
    const unsigned = await pushImage(registry, "app/a", "unsigned");
    const legacy = await pushImage(registry, "app/a", "legacy");
    await pushCosignSignature(registry, "app/a", legacy.digest, [
      await signLayer(key, `${host}/app/a`, legacy.digest),
    ]);
    const bundled = await pushImage(registry, "app/a", "bundle");
    await pushBundleReferrer(registry, "app/a", bundled, await makeBundle(key, bundled.digest));
    const attested = await pushImage(registry, "app/a", "attested");
    await pushBundleReferrer(
      registry,
      "app/a",
      attested,
      await makeBundle(key, attested.digest, "https://slsa.dev/provenance/v1"),
      "https://slsa.dev/provenance/v1",
    );
    await pushCosignAttestation(registry, "app/a", attested.digest, "https://spdx.dev/Document");
    await pushReferrer(registry, "app/a", attested, {
      artifactType: "application/vnd.cncf.notary.signature",
      layers: [{ mediaType: "application/jose+json", bytes: new TextEncoder().encode("{}") }],
    });
    await pushReferrer(registry, "app/a", attested, {
      artifactType: "application/spdx+json",
      layers: [{ mediaType: "application/spdx+json", bytes: new TextEncoder().encode("{}") }],
    });
    const emptySig = await pushImage(registry, "app/a", "empty-sig");
    await pushArtifact(registry, "app/a", `${cosignTags(emptySig.digest).signature}`, {
      layers: [{ mediaType: "application/octet-stream", bytes: new Uint8Array([1]) }],
    });

    await using client = clientFor(registry);
    const expected: Record<string, string> = {
      unsigned: "unsigned ",
      legacy: "signed cosign/cosign-tag",
      bundle: "signed sigstore-bundle/referrers-tag",
      attested: "signed notation/referrers-tag", // notation is a signature; the bundle is not
      "empty-sig": "unsigned ",
      missing: "absent",
    };
    for (const [tag, want] of Object.entries(expected)) {
      assert.equal(line(await client.signed(`${host}/app/a:${tag}`)), want, tag);
    }
    // By digest: no resolving request, same answer.
    assert.equal(line(await client.signed(`${host}/app/a@${legacy.digest}`)), expected.legacy);
    assert.equal(line(await client.signed(`${host}/app/a@${unsigned.digest}`)), "unsigned ");

    const all = await client.artifacts(`${host}/app/a:attested`);
    assert.deepEqual(kinds(all), [
      "attestation cosign cosign-tag",
      "attestation sigstore-bundle referrers-tag",
      "sbom spdx referrers-tag",
      "signature notation referrers-tag",
    ]);
    if (all.status === "present") {
      assert.equal(all.referrers.source, "tag");
      assert.match(all.referrers.reason ?? "", /404/);
      const bundle = all.artifacts.find((a) => a.format === "sigstore-bundle")!;
      assert.equal(bundle.predicateType, "https://slsa.dev/provenance/v1");
      assert.equal(bundle.created, "2026-12-01T00:00:00Z");
      const att = all.artifacts.find((a) => a.via === "cosign-tag")!;
      assert.equal(att.tag, cosignTags(attested.digest).attestation);
    }
    const sboms = await client.artifacts(`${host}/app/a:attested`, { kinds: ["sbom"] });
    assert.deepEqual(kinds(sboms), ["sbom spdx referrers-tag"]);

    const refs = await client.referrers(`${host}/app/a:attested`);
    assert.equal(refs.source, "tag");
    assert.equal(refs.subject, attested.digest);
    assert.equal(refs.descriptors.length, 3);
    const filtered = await client.referrers(`${host}/app/a:attested`, {
      artifactType: "application/spdx+json",
    });
    assert.equal(filtered.descriptors.length, 1);
    assert.equal(filtered.filterApplied, false, "regkit filtered, not the registry");
  });
}

Deno.test("multi-arch: signatures on the index and on some children; --platforms all needs every one", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const key = await generateKey();
  const host = registry.host;
  const index = await pushIndex(registry, "multi/app", "v1", [
    { platform: { os: "linux", architecture: "amd64" } },
    { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
  ]);
  await pushCosignSignature(registry, "multi/app", index.digest, [
    await signLayer(key, `${host}/multi/app`, index.digest),
  ]);
  const [amd64, arm64] = index.children;
  await pushBundleReferrer(registry, "multi/app", amd64, await makeBundle(key, amd64.digest));
  await using client = clientFor(registry);

  const top = await client.signed(`${host}/multi/app:v1`);
  assert.equal(line(top), "signed cosign/cosign-tag");
  const all = await client.signed(`${host}/multi/app:v1`, { platforms: "all" });
  assert.equal(all.status, "unsigned", "arm64 has no signature");
  assert.ok(all.status === "unsigned" && all.platforms);
  if (all.status === "unsigned") {
    assert.deepEqual(all.platforms!.map((p) => `${p.platform} ${p.status}`), [
      "linux/amd64 signed",
      "linux/arm64/v8 unsigned",
    ]);
  }
  await pushCosignSignature(registry, "multi/app", arm64.digest, [
    await signLayer(key, `${host}/multi/app`, arm64.digest),
  ]);
  assert.equal(
    (await client.signed(`${host}/multi/app:v1`, { platforms: "all" })).status,
    "signed",
  );
  const arts = await client.artifacts(`${host}/multi/app:v1`, { platforms: ["linux/arm64"] });
  assert.ok(arts.status === "present");
  if (arts.status === "present") {
    assert.deepEqual(arts.platforms!.map((p) => p.platform), ["linux/arm64/v8"]);
    assert.deepEqual(arts.platforms![0].artifacts.map((a) => a.kind), ["signature"]);
  }
});

Deno.test("BuildKit attestation entries in an index are reported with the child they attest", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const host = registry.host;
  const child = await pushImage(registry, "bk/app", null, {
    platform: { os: "linux", architecture: "amd64" },
  });
  const attestation = await pushArtifact(registry, "bk/app", null, {
    configType: "application/vnd.oci.image.config.v1+json",
    layers: [{
      mediaType: "application/vnd.in-toto+json",
      bytes: new TextEncoder().encode("{}"),
      annotations: { "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2" },
    }],
  });
  const index = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: child.mediaType,
        digest: child.digest,
        size: child.size,
        platform: { os: "linux", architecture: "amd64" },
      },
      {
        mediaType: attestation.mediaType,
        digest: attestation.digest,
        size: attestation.size,
        platform: { os: "unknown", architecture: "unknown" },
        annotations: {
          "vnd.docker.reference.type": "attestation-manifest",
          "vnd.docker.reference.digest": child.digest,
        },
      },
    ],
  }));
  const response = await registry.fetch("/v2/bk/app/manifests/v1", {
    method: "PUT",
    headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
    body: index,
  });
  assert.equal(response.status, 201);
  await response.body?.cancel();
  await using client = clientFor(registry);
  const all = await client.artifacts(`${host}/bk/app:v1`, { platforms: "all" });
  assert.ok(all.status === "present");
  if (all.status === "present") {
    assert.deepEqual(all.platforms!.map((p) => p.platform), ["linux/amd64"]);
    assert.deepEqual(
      all.platforms![0].artifacts.map((a) => `${a.kind} ${a.format} ${a.via} ${a.digest}`),
      [`attestation buildkit index ${attestation.digest}`],
    );
  }
  // BuildKit attestations are not signatures.
  assert.equal((await client.signed(`${host}/bk/app:v1`)).status, "unsigned");
});

Deno.test("a separate signature repository (COSIGN_REPOSITORY) holds the signatures", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const key = await generateKey();
  const host = registry.host;
  const image = await pushImage(registry, "prod/app", "1.0");
  await pushCosignSignature(registry, "prod/signatures", image.digest, [
    await signLayer(key, `${host}/prod/app`, image.digest),
  ]);
  await using client = clientFor(registry);
  assert.equal(line(await client.signed(`${host}/prod/app:1.0`)), "unsigned ");
  const there = await client.signed(`${host}/prod/app:1.0`, {
    signatureRepository: `${host}/prod/signatures`,
  });
  assert.equal(line(there), "signed cosign/cosign-tag");
  assert.ok(
    there.status === "signed" && there.signatures[0].repository === `${host}/prod/signatures`,
  );
  // A signature repository that does not exist holds no signatures (not unknown).
  assert.equal(
    line(await client.signed(`${host}/prod/app:1.0`, { signatureRepository: `${host}/nope/x` })),
    "unsigned ",
  );
});

Deno.test("golden cosign artifacts, pushed byte for byte, are found", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const host = registry.host;
  const read = (path: string) => Deno.readFile(new URL(path, GOLDEN));
  const vector = JSON.parse(
    await Deno.readTextFile(new URL("v1-cimage-cosign-valid/vector.json", GOLDEN)),
  );
  const payload = await read("v1-cimage-cosign-valid/payload.json");
  const signature =
    (await Deno.readTextFile(new URL("v1-cimage-cosign-valid/signature.b64", GOLDEN)))
      .trim();
  const digest: string = vector.dockerManifestDigest;
  await pushCosignSignature(registry, "golden/app", digest, [{ payload, signature }]);
  const bundleVector = JSON.parse(
    await Deno.readTextFile(new URL("v2-cloudboot-cosign-v3-pubkey-bundle/vector.json", GOLDEN)),
  );
  const bundle = await read("v2-cloudboot-cosign-v3-pubkey-bundle/bundle.json");
  const subject = {
    digest: bundleVector.subjectDigest as string,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    size: 428,
  };
  await pushBundleReferrer(registry, "golden/app", subject, bundle);
  await using client = clientFor(registry);
  // Digest references: the subjects themselves are not in the registry, and need not be.
  assert.equal(
    line(await client.signed(`${host}/golden/app@${digest}`)),
    "signed cosign/cosign-tag",
  );
  assert.equal(
    line(await client.signed(`${host}/golden/app@${subject.digest}`)),
    "signed sigstore-bundle/referrers-tag",
  );
  assert.ok(encodeBase64(payload).length > 0);
});

Deno.test("signedMany over 200 images in one repository, half signed: 1 tag listing + 1 HEAD per image + 1 GET per signature", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const key = await generateKey();
  const host = registry.host;
  const refs: string[] = [];
  const signedTags = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const image = await pushImage(registry, "bulk/app", `t${i}`);
    if (i % 2 === 0) {
      await pushCosignSignature(registry, "bulk/app", image.digest, [
        await signLayer(key, `${host}/bulk/app`, image.digest),
      ]);
      signedTags.add(`t${i}`);
    }
    refs.push(`${host}/bulk/app:t${i}`);
  }
  await using client = clientFor(registry);
  await registry.clearRequests();
  const results: SignedResult[] = [];
  for await (const r of client.signedMany(refs, { concurrency: 16 })) results.push(r);
  assert.deepEqual(results.map((r) => r.reference), refs, "input order");
  assert.deepEqual(
    results.map((r) => r.status),
    refs.map((_, i) => (i % 2 === 0 ? "signed" : "unsigned")),
  );
  const all = await registry.requests();
  assert.deepEqual(
    all.filter((r) => r.status === 401).map((r) => r.path),
    ["/v2/"],
    "only the first contact is a 401",
  );
  const requests = all.filter((r) => r.status !== 401);
  const count = (pattern: RegExp) => requests.filter((r) => pattern.test(`${r.method} ${r.path}`));
  assert.equal(count(/^GET \/v2\/bulk\/app\/tags\/list/).length, 1, "one tag listing");
  assert.equal(count(/^GET \/v2\/bulk\/app\/referrers\//).length, 1, "the API is probed once");
  assert.equal(count(/^HEAD \/v2\/bulk\/app\/manifests\/t\d+$/).length, 200, "one HEAD per image");
  assert.equal(count(/^GET \/v2\/bulk\/app\/manifests\/sha256-[0-9a-f]{64}\.sig$/).length, 100);
  assert.equal(
    requests.length,
    1 + 1 + 200 + 100,
    `listing + probe + HEADs + .sig GETs; got ${
      JSON.stringify(requests.map((r) => `${r.method} ${r.path}`).slice(0, 8))
    }`,
  );
});

Deno.test("a registry failure is unknown, never unsigned", async () => {
  await using registry = await startRegistry({ auth: "htpasswd" });
  const image = await pushImage(registry, "fail/app", "v1");
  await using client = clientFor(registry, { password: "wrong", retries: 0 });
  const r = await client.signed(`${registry.host}/fail/app@${image.digest}`);
  assert.equal(r.status, "unknown");
  assert.ok(r.status === "unknown" && r.code === "UNAUTHORIZED", JSON.stringify(r));
});
