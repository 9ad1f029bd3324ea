/**
 * Verification with keys against the real `docker-registry` 2.8: legacy `.sig` layers and
 * cosign v3 bundles in the fallback tag, golden cosign bytes, every `unverified` reason, hostile
 * signature images bounded, request counts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerRegistryClient, type VerifyResult } from "../mod.ts";
import { type RegistryFixture, startRegistry } from "./_registry.ts";
import { pushImage } from "./_images.ts";
import {
  generateKey,
  makeBundle,
  pushArtifact,
  pushBundleReferrer,
  pushCosignSignature,
  signLayer,
} from "./_signatures.ts";

const GOLDEN = new URL("./fixtures/golden/", import.meta.url);

function clientFor(registry: RegistryFixture) {
  return new ContainerRegistryClient({
    env: () => undefined,
    ...(registry.caCert === undefined ? {} : { caCerts: [registry.caCert] }),
    ...(registry.auth === "none" ? {} : { username: "alice", password: registry.users.alice }),
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
  });
}

function summary(r: VerifyResult): string {
  if (r.status === "unknown") return `unknown ${r.code}`;
  if (r.status === "absent") return "absent";
  return `${r.status} ${
    r.signatures.map((s) => s.verified ? `ok:${s.format}` : `${s.reason}:${s.format}`).join(",")
  }`;
}

Deno.test("verify(): verified, unverified with each reason, unsigned — on docker-registry 2.8", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const ours = await generateKey();
  const theirs = await generateKey();
  const h = registry.host;
  const name = `${h}/v/app`;
  const legacy = await pushImage(registry, "v/app", "legacy");
  await pushCosignSignature(registry, "v/app", legacy.digest, [
    await signLayer(theirs, name, legacy.digest),
    await signLayer(ours, name, legacy.digest, { tag: "legacy" }),
  ]);
  const foreign = await pushImage(registry, "v/app", "foreign");
  await pushCosignSignature(registry, "v/app", foreign.digest, [
    await signLayer(theirs, name, foreign.digest),
  ]);
  const elsewhere = await pushImage(registry, "v/app", "elsewhere");
  await pushCosignSignature(registry, "v/app", elsewhere.digest, [
    await signLayer(ours, `${h}/other/app`, elsewhere.digest),
  ]);
  const copied = await pushImage(registry, "v/app", "copied");
  // A signature made for another digest, put under this image's tag.
  await pushCosignSignature(registry, "v/app", copied.digest, [
    await signLayer(ours, name, legacy.digest),
  ]);
  const bundled = await pushImage(registry, "v/app", "bundle");
  await pushBundleReferrer(registry, "v/app", bundled, await makeBundle(ours, bundled.digest));
  await pushImage(registry, "v/app", "plain");

  await using client = clientFor(registry);
  const options = { keys: [ours.pem], identity: name };
  const want: Record<string, string> = {
    legacy: "verified wrong-key:cosign,ok:cosign",
    foreign: "unverified wrong-key:cosign",
    elsewhere: "unverified identity-mismatch:cosign",
    copied: "unverified digest-mismatch:cosign",
    bundle: "verified ok:sigstore-bundle",
    plain: "unsigned ",
    missing: "absent",
  };
  for (const [tag, expected] of Object.entries(want)) {
    assert.equal(summary(await client.verify(`${name}:${tag}`, options)), expected, tag);
  }
  const annotated = await client.verify(`${name}:legacy`, {
    ...options,
    annotations: { tag: "legacy" },
  });
  assert.equal(summary(annotated), "verified wrong-key:cosign,ok:cosign");
  const missing = await client.verify(`${name}:foreign`, {
    keys: [theirs.pem],
    annotations: { tag: "x" },
  });
  assert.equal(summary(missing), "unverified missing-annotation:cosign");
  const r = await client.verify(`${name}:legacy`, options);
  assert.ok(r.status === "verified");
  if (r.status === "verified") {
    const key = await (await import("../mod.ts")).parsePublicKey(ours.pem);
    assert.equal(r.signatures.find((s) => s.verified)!.keyFingerprint, key.fingerprint);
  }
  await assert.rejects(
    client.verify(`${name}:legacy`, {
      keys: ["-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"],
    }),
    /Cannot use key "keys\[0\]": a PEM "CERTIFICATE", not a PUBLIC KEY/,
  );
});

Deno.test("verify(): golden cosign signatures pushed byte for byte verify with cosign's key", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const h = registry.host;
  const dir = new URL("v1-cimage-cosign-valid/", GOLDEN);
  const vector = JSON.parse(await Deno.readTextFile(new URL("vector.json", dir)));
  await pushCosignSignature(registry, "golden/app", vector.dockerManifestDigest, [{
    payload: await Deno.readFile(new URL("payload.json", dir)),
    signature: (await Deno.readTextFile(new URL("signature.b64", dir))).trim(),
  }]);
  const bdir = new URL("v2-cloudboot-cosign-v3-pubkey-bundle/", GOLDEN);
  const bvector = JSON.parse(await Deno.readTextFile(new URL("vector.json", bdir)));
  await pushBundleReferrer(
    registry,
    "golden/app",
    {
      digest: bvector.subjectDigest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: 1,
    },
    await Deno.readFile(new URL("bundle.json", bdir)),
  );
  await using client = clientFor(registry);
  const legacyKey = await Deno.readTextFile(new URL("cosign.pub", dir));
  const bundleKey = await Deno.readTextFile(new URL("cosign.pub", bdir));
  const keys = [legacyKey, bundleKey];
  assert.equal(
    summary(
      await client.verify(`${h}/golden/app@${vector.dockerManifestDigest}`, {
        keys,
        identity: vector.dockerReference,
      }),
    ),
    "verified ok:cosign",
  );
  assert.equal(
    summary(await client.verify(`${h}/golden/app@${bvector.subjectDigest}`, { keys })),
    "verified ok:sigstore-bundle",
  );

  assert.equal(
    summary(
      await client.verify(`${h}/golden/app@${vector.dockerManifestDigest}`, { keys: [bundleKey] }),
    ),
    "unverified wrong-key:cosign",
  );
});

Deno.test("verify(): a hostile .sig image is bounded: at most maxSignatures payloads fetched", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const key = await generateKey();
  const h = registry.host;
  const image = await pushImage(registry, "hostile/app", "v1");
  const layers = [];
  for (let i = 0; i < 300; i++) {
    layers.push({
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      bytes: new TextEncoder().encode(`{"n":${i}}`),
      annotations: { "dev.cosignproject.cosign/signature": "bm90IGEgc2lnbmF0dXJl" },
    });
  }
  await pushArtifact(registry, "hostile/app", `${image.digest.replace(":", "-")}.sig`, { layers });
  // A payload layer that claims 100 MB is not fetched at all.
  const big = await pushImage(registry, "hostile/app", "big");
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      size: 2,
    },
    layers: [{
      mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      size: 100 * 1024 * 1024,
      annotations: { "dev.cosignproject.cosign/signature": "AAAA" },
    }],
  }));
  const put = await registry.fetch(
    `/v2/hostile/app/manifests/${big.digest.replace(":", "-")}.sig`,
    {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    },
  );
  assert.equal(put.status, 201, await put.text());
  await using client = clientFor(registry);
  await registry.clearRequests();
  const r = await client.verify(`${h}/hostile/app:v1`, { keys: [key.pem], maxSignatures: 10 });
  assert.equal(r.status, "unverified");
  assert.ok(r.status === "unverified" && r.signatures.length === 10);
  const blobs = (await registry.requests()).filter((q) => q.path.includes("/blobs/"));
  assert.equal(blobs.length, 10);
  const large = await client.verify(`${h}/hostile/app:big`, { keys: [key.pem] });
  assert.equal(summary(large), "unverified too-large:cosign");
});

Deno.test("verifyMany(): 3 registry requests per signed image, 1 per unsigned, input order", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const key = await generateKey();
  const h = registry.host;
  const refs: string[] = [];
  for (let i = 0; i < 20; i++) {
    const image = await pushImage(registry, "many/app", `t${i}`);
    if (i % 2 === 0) {
      await pushCosignSignature(registry, "many/app", image.digest, [
        await signLayer(key, `${h}/many/app`, image.digest),
      ]);
    }
    refs.push(`${h}/many/app:t${i}`);
  }
  await using client = clientFor(registry);
  await registry.clearRequests();
  const statuses: string[] = [];
  for await (const r of client.verifyMany(refs, { keys: [key.pem], concurrency: 4 })) {
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, refs.map((_, i) => (i % 2 === 0 ? "verified" : "unsigned")));
  const requests = await registry.requests();
  const per = requests.filter((q) => !/\/tags\/list|\/referrers\/|^\/v2\/$/.test(q.path));
  assert.equal(per.length, 10 * 3 + 10 * 1, JSON.stringify(per.slice(0, 5)));
  assert.equal(requests.length - per.length, 3, "the ping, one tag listing, one referrers probe");
});
