/**
 * The referrers-API path, against a spec-following loopback server (no registry with the API
 * can be installed here): pages, the artifactType filter on and off, the API learnt once per
 * repository, and every quirk registries show instead, each falling back to the tag schema
 * with its reason — or, for real failures, answering unknown.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerRegistryClient } from "../mod.ts";
import {
  EMPTY_DESCRIPTOR,
  pushSubject,
  type ReferrersQuirk,
  type ReferrersServer,
  startReferrersServer,
} from "./_referrers_server.ts";

const encoder = new TextEncoder();
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const EMPTY = EMPTY_DESCRIPTOR;

function client() {
  return new ContainerRegistryClient({
    env: () => undefined,
    retries: 0,
    backoff: { baseDelayMs: 1, maxDelayMs: 2 },
  });
}

async function referrer(
  server: ReferrersServer,
  repo: string,
  subject: { digest: string; mediaType: string; size: number },
  artifactType: string,
  annotations: Record<string, string> = {},
) {
  const body = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: EMPTY,
    layers: [{ ...EMPTY, mediaType: artifactType }],
    subject,
    annotations: { ...annotations, n: crypto.randomUUID() },
  }));
  return await server.put(repo, null, OCI_MANIFEST, body);
}

const SIGN = { "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1" };

Deno.test("referrers API: every page, the filter as applied, and signatures classified", async () => {
  await using server = startReferrersServer({ pageSize: 2 });
  const subject = await pushSubject(server, "app", "v1");
  await referrer(server, "app", subject, BUNDLE, SIGN);
  await referrer(server, "app", subject, BUNDLE, {
    "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1",
  });
  await referrer(server, "app", subject, "application/spdx+json");
  await referrer(server, "app", subject, "application/vnd.cncf.notary.signature");
  await referrer(server, "app", subject, "application/vnd.example.other");
  await using c = client();
  const all = await c.referrers(`${server.host}/app:v1`);
  assert.equal(all.source, "api");
  assert.equal(all.subject, subject.digest);
  assert.equal(all.descriptors.length, 5, "three pages of two");
  assert.equal(server.requests.filter((r) => r.includes("/referrers/")).length, 3);

  const filtered = await c.referrers(`${server.host}/app:v1`, { artifactType: BUNDLE });
  assert.equal(filtered.descriptors.length, 2);
  assert.equal(filtered.filterApplied, true);
  assert.ok(server.requests.some((r) => r.includes(`artifactType=${encodeURIComponent(BUNDLE)}`)));
  server.options.filter = false;
  const unfiltered = await c.referrers(`${server.host}/app:v1`, { artifactType: BUNDLE });
  assert.equal(unfiltered.descriptors.length, 2, "filtered by regkit when the registry does not");
  assert.equal(unfiltered.filterApplied, false);

  const signed = await c.signed(`${server.host}/app:v1`);
  assert.equal(signed.status, "signed");
  assert.deepEqual(
    signed.status === "signed" && signed.signatures.map((s) => `${s.format} ${s.via}`).sort(),
    ["notation referrers-api", "sigstore-bundle referrers-api"],
  );
  const arts = await c.artifacts(`${server.host}/app:v1`);
  assert.ok(arts.status === "present");
  if (arts.status === "present") {
    assert.deepEqual(arts.artifacts.map((a) => a.kind).sort(), [
      "attestation",
      "other",
      "sbom",
      "signature",
      "signature",
    ]);
  }
});

Deno.test("referrers API: no fallback-tag request where the API answers, learnt once per repository", async () => {
  await using server = startReferrersServer();
  const refs: string[] = [];
  for (let i = 0; i < 5; i++) {
    const subject = await pushSubject(server, "many", `t${i}`);
    if (i % 2 === 0) await referrer(server, "many", subject, BUNDLE, SIGN);
    refs.push(`${server.host}/many:t${i}`);
  }
  await using c = client();
  const statuses: string[] = [];
  for await (const r of c.signedMany(refs)) statuses.push(r.status);
  assert.deepEqual(statuses, ["signed", "unsigned", "signed", "unsigned", "signed"]);
  assert.equal(server.requests.filter((r) => r.includes("/referrers/")).length, 5);
  assert.ok(
    !server.requests.some((r) => /manifests\/sha256-[0-9a-f]{64}$/.test(r)),
    "the fallback tag is not read when the API exists",
  );
});

const FALLBACK_QUIRKS: Array<[ReferrersQuirk, RegExp]> = [
  ["404", /404/],
  ["400", /400/],
  ["405", /405/],
  ["406", /406/],
  ["501", /501/],
  ["401-no-challenge", /401 without a challenge/],
  ["html-200", /not an image index \(text\/html\)/],
  ["redirect-other-host", /another host/],
];

Deno.test("referrers quirks fall back to the tag schema, keeping the reason", async (t) => {
  for (const [quirk, reason] of FALLBACK_QUIRKS) {
    await t.step(quirk, async () => {
      await using server = startReferrersServer({ quirk });
      const subject = await pushSubject(server, "q", "v1");
      const sig = await referrer(server, "q", subject, BUNDLE, SIGN);
      const index = encoder.encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{
          mediaType: OCI_MANIFEST,
          digest: sig,
          size: 1,
          artifactType: BUNDLE,
          annotations: SIGN,
        }],
      }));
      await server.put("q", subject.digest.replace(":", "-"), OCI_INDEX, index);
      await using c = client();
      const found = await c.referrers(`${server.host}/q:v1`);
      assert.equal(found.source, "tag");
      assert.match(found.reason ?? "", reason);
      assert.deepEqual(found.descriptors.map((d) => d.digest), [sig]);
      const signed = await c.signed(`${server.host}/q:v1`);
      assert.equal(signed.status, "signed", JSON.stringify(signed));
    });
  }
});

Deno.test("a registry failure on the referrers API is unknown, never unsigned", async () => {
  await using server = startReferrersServer({ quirk: "500" });
  await pushSubject(server, "f", "v1");
  await using c = client();
  const r = await c.signed(`${server.host}/f:v1`);
  assert.equal(r.status, "unknown");
  assert.ok(r.status === "unknown" && r.code === "UNEXPECTED_STATUS", JSON.stringify(r));
  await assert.rejects(c.referrers(`${server.host}/f:v1`));
});

Deno.test("a Link to another host on a referrers page is refused, not followed", async () => {
  await using server = startReferrersServer({ foreignLink: true });
  const subject = await pushSubject(server, "l", "v1");
  await referrer(server, "l", subject, BUNDLE, SIGN);
  await using c = client();
  const r = await c.signed(`${server.host}/l:v1`);
  assert.equal(r.status, "unknown");
  assert.ok(r.status === "unknown" && /another host/.test(r.message), JSON.stringify(r));
  assert.ok(!server.requests.some((x) => x.includes("localhost")));
});

Deno.test("a fallback tag that resolves to the image itself (GitLab) is no referrers index", async () => {
  await using server = startReferrersServer({ quirk: "404" });
  const child = await pushSubject(server, "g", "child");
  const indexBody = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ ...child, platform: { os: "linux", architecture: "amd64" } }],
  }));
  const digest = await server.put("g", "v1", OCI_INDEX, indexBody);
  // The registry answers the fallback tag with the subject itself.
  await server.put("g", digest.replace(":", "-"), OCI_INDEX, indexBody);
  await using c = client();
  const r = await c.referrers(`${server.host}/g:v1`);
  assert.equal(r.source, "tag");
  assert.deepEqual(r.descriptors, []);
  assert.match(r.reason ?? "", /the image itself/);
  assert.equal((await c.signed(`${server.host}/g:v1`)).status, "unsigned");
});
