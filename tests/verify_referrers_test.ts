/**
 * Verification with keys of signatures found through the OCI 1.1 referrers API, against the
 * spec-following loopback server (no registry with the API can be installed here): cosign's
 * simple-signing signature artifact and cosign v3 bundles as referrers, each `unverified`
 * reason that applies, `unsigned`, a failing endpoint `unknown`, and request counts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerRegistryClient, parsePublicKey, type VerifyResult } from "../mod.ts";
import {
  EMPTY_DESCRIPTOR,
  pushSubject,
  type ReferrersServer,
  startReferrersServer,
} from "./_referrers_server.ts";
import { sha256 } from "./_images.ts";
import {
  BUNDLE,
  COSIGN_SIGN,
  generateKey,
  makeBundle,
  type SignatureLayer,
  signLayer,
  SIMPLE_SIGNING,
  type Subject,
} from "./_signatures.ts";

const encoder = new TextEncoder();
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** The artifact type of cosign's signatures as OCI 1.1 referrers (`--registry-referrers-mode`). */
const COSIGN_SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json";
const EMPTY_BYTES = encoder.encode("{}");
const EMPTY = EMPTY_DESCRIPTOR;

function client() {
  return new ContainerRegistryClient({
    env: () => undefined,
    retries: 0,
    backoff: { baseDelayMs: 1, maxDelayMs: 2 },
  });
}

/** Pushes a referrer of `subject` (blobs first, then the manifest by digest); its digest. */
async function referrer(
  server: ReferrersServer,
  repo: string,
  subject: Subject,
  artifactType: string,
  layers: { mediaType: string; bytes: Uint8Array; annotations?: Record<string, string> }[],
  annotations?: Record<string, string>,
): Promise<string> {
  await server.putBlob(repo, EMPTY_BYTES);
  const descriptors = [];
  for (const layer of layers) {
    descriptors.push({
      mediaType: layer.mediaType,
      digest: await server.putBlob(repo, layer.bytes),
      size: layer.bytes.length,
      ...(layer.annotations ? { annotations: layer.annotations } : {}),
    });
  }
  const body = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: EMPTY,
    layers: descriptors,
    subject,
    ...(annotations ? { annotations } : {}),
  }));
  return await server.put(repo, null, OCI_MANIFEST, body);
}

/** cosign's signature as an OCI 1.1 referrer: the layers of a `.sig` image. */
function signatureReferrer(
  server: ReferrersServer,
  repo: string,
  subject: Subject,
  layers: SignatureLayer[],
): Promise<string> {
  return referrer(
    server,
    repo,
    subject,
    COSIGN_SIG_ARTIFACT,
    layers.map((l) => ({
      mediaType: SIMPLE_SIGNING,
      bytes: l.payload,
      annotations: { "dev.cosignproject.cosign/signature": l.signature },
    })),
  );
}

/** A cosign v3 bundle referrer, annotated as cosign v3 writes it. */
function bundleReferrer(
  server: ReferrersServer,
  repo: string,
  subject: Subject,
  bundle: Uint8Array,
): Promise<string> {
  return referrer(server, repo, subject, BUNDLE, [{ mediaType: BUNDLE, bytes: bundle }], {
    "dev.sigstore.bundle.content": "dsse-envelope",
    "dev.sigstore.bundle.predicateType": COSIGN_SIGN,
    "org.opencontainers.image.created": "2026-12-01T00:00:00Z",
  });
}

function summary(r: VerifyResult): string {
  if (r.status === "unknown") return `unknown ${r.code}`;
  if (r.status === "absent") return "absent";
  return `${r.status} ${
    r.signatures.map((s) => s.verified ? `ok:${s.format}` : `${s.reason}:${s.format}`).sort()
      .join(",")
  }`;
}

Deno.test("verify() via the referrers API: a cosign signature artifact, a v3 bundle, and both verify with the right key", async () => {
  await using server = startReferrersServer();
  const ours = await generateKey();
  const theirs = await generateKey();
  const name = `${server.host}/r/app`;
  const sig = await pushSubject(server, "r/app", "sig");
  const sigRef = await signatureReferrer(server, "r/app", sig, [
    await signLayer(ours, name, sig.digest),
  ]);
  const bundled = await pushSubject(server, "r/app", "bundle");
  const bundleRef = await bundleReferrer(
    server,
    "r/app",
    bundled,
    await makeBundle(ours, bundled.digest),
  );
  const both = await pushSubject(server, "r/app", "both");
  const bothSig = await signatureReferrer(server, "r/app", both, [
    await signLayer(ours, name, both.digest),
  ]);
  const bothBundle = await bundleReferrer(
    server,
    "r/app",
    both,
    await makeBundle(ours, both.digest),
  );
  const fingerprint = (await parsePublicKey(ours.pem)).fingerprint;
  const ok = (format: string, digest: string) => ({
    format,
    via: "referrers-api",
    digest,
    repository: name,
    verified: true,
    keyFingerprint: fingerprint,
  });
  const byDigest = (a: { digest: string }, b: { digest: string }) =>
    a.digest.localeCompare(b.digest);
  const want: Array<[string, Subject, ReturnType<typeof ok>[]]> = [
    ["sig", sig, [ok("cosign-oci11", sigRef)]],
    ["bundle", bundled, [ok("sigstore-bundle", bundleRef)]],
    ["both", both, [ok("cosign-oci11", bothSig), ok("sigstore-bundle", bothBundle)].sort(byDigest)],
  ];
  await using c = client();
  for (const [tag, subject, signatures] of want) {
    // The other key first: the answer names the key that verified.
    const r = await c.verify(`${name}:${tag}`, { keys: [theirs.pem, ours.pem], identity: name });
    assert.deepEqual(r, {
      reference: `${name}:${tag}`,
      status: "verified",
      digest: subject.digest,
      signatures,
    }, tag);
  }
  assert.ok(
    !server.requests.some((q) => /manifests\/sha256-[0-9a-f]{64}(\.sig)?$/.test(q)),
    "neither the fallback tag nor a .sig tag is read",
  );
});

Deno.test("verify() via the referrers API: wrong key, another digest's signatures, no referrers, a failing endpoint", async () => {
  await using server = startReferrersServer();
  const ours = await generateKey();
  const theirs = await generateKey();
  const name = `${server.host}/n/app`;
  const both = await pushSubject(server, "n/app", "both");
  await signatureReferrer(server, "n/app", both, [await signLayer(ours, name, both.digest)]);
  await bundleReferrer(server, "n/app", both, await makeBundle(ours, both.digest));
  const other = await pushSubject(server, "n/app", "other");
  // Signatures made for another digest, attached to this image.
  const copied = await pushSubject(server, "n/app", "copied");
  await signatureReferrer(server, "n/app", copied, [await signLayer(ours, name, other.digest)]);
  await bundleReferrer(server, "n/app", copied, await makeBundle(ours, other.digest));
  await pushSubject(server, "n/app", "plain");

  await using c = client();
  const options = { keys: [ours.pem], identity: name };
  const want: Record<string, [string, VerifyResult["status"], string]> = {
    both: [theirs.pem, "unverified", "wrong-key:cosign-oci11,wrong-key:sigstore-bundle"],
    copied: [
      ours.pem,
      "unverified",
      "digest-mismatch:cosign-oci11,digest-mismatch:sigstore-bundle",
    ],
    plain: [ours.pem, "unsigned", ""],
  };
  for (const [tag, [key, status, reasons]] of Object.entries(want)) {
    const r = await c.verify(`${name}:${tag}`, { ...options, keys: [key] });
    assert.equal(summary(r), `${status} ${reasons}`, tag);
    assert.ok(
      (r.status === "unverified" || r.status === "unsigned") &&
        r.signatures.every((s) => s.via === "referrers-api"),
      JSON.stringify(r),
    );
  }

  // A registry whose referrers endpoint fails cannot say "unsigned": it is unknown.
  server.options.quirk = "500";
  for (const tag of ["both", "plain"]) {
    await using fresh = client();
    const r = await fresh.verify(`${name}:${tag}`, options);
    assert.equal(summary(r), "unknown UNEXPECTED_STATUS", tag);
    assert.ok(r.status === "unknown" && /500/.test(r.message), JSON.stringify(r));
  }
});

Deno.test("verify() via the referrers API: exact requests for one image", async () => {
  await using server = startReferrersServer();
  const key = await generateKey();
  const name = `${server.host}/c/app`;
  const both = await pushSubject(server, "c/app", "both");
  const layer = await signLayer(key, name, both.digest);
  const sigRef = await signatureReferrer(server, "c/app", both, [layer]);
  const bundle = await makeBundle(key, both.digest);
  const bundleRef = await bundleReferrer(server, "c/app", both, bundle);
  const plain = await pushSubject(server, "c/app", "plain");
  await using c = client();

  server.requests.length = 0;
  assert.equal((await c.verify(`${name}:both`, { keys: [key.pem] })).status, "verified");
  assert.deepEqual(
    server.requests.toSorted(),
    [
      "GET /v2/",
      "HEAD /v2/c/app/manifests/both",
      "GET /v2/c/app/tags/list?n=1000", // the legacy .sig tag is looked up in the listing
      `GET /v2/c/app/referrers/${both.digest}`,
      `GET /v2/c/app/manifests/${sigRef}`,
      `GET /v2/c/app/blobs/${await sha256(layer.payload)}`,
      `GET /v2/c/app/manifests/${bundleRef}`,
      `GET /v2/c/app/blobs/${await sha256(bundle)}`,
    ].toSorted(),
  );

  server.requests.length = 0;
  assert.equal((await c.verify(`${name}:plain`, { keys: [key.pem] })).status, "unsigned");
  assert.deepEqual(
    server.requests.toSorted(),
    [
      "GET /v2/c/app/tags/list?n=1000",
      `GET /v2/c/app/referrers/${plain.digest}`,
      "HEAD /v2/c/app/manifests/plain",
    ].toSorted(),
  );
});

Deno.test("verifyMany() via the referrers API: 4 requests per signature format, 2 per unsigned image, no fallback tag", async () => {
  await using server = startReferrersServer();
  const key = await generateKey();
  const name = `${server.host}/m/app`;
  const refs: string[] = [];
  const want: string[] = [];
  for (let i = 0; i < 21; i++) {
    const subject = await pushSubject(server, "m/app", `t${i}`);
    if (i % 3 === 0) {
      await signatureReferrer(server, "m/app", subject, [
        await signLayer(key, name, subject.digest),
      ]);
    } else if (i % 3 === 1) {
      await bundleReferrer(server, "m/app", subject, await makeBundle(key, subject.digest));
    }
    refs.push(`${name}:t${i}`);
    want.push(
      i % 3 === 2 ? "unsigned " : `verified ok:${i % 3 ? "sigstore-bundle" : "cosign-oci11"}`,
    );
  }
  await using c = client();
  const got: string[] = [];
  for await (const r of c.verifyMany(refs, { keys: [key.pem], identity: name, concurrency: 4 })) {
    got.push(summary(r));
  }
  assert.deepEqual(got, want);
  const count = (re: RegExp) => server.requests.filter((q) => re.test(q)).length;
  assert.equal(count(/^HEAD \/v2\/m\/app\/manifests\/t\d+$/), 21);
  assert.equal(count(/\/referrers\//), 21, "one referrers request per image");
  assert.equal(count(/^GET \/v2\/m\/app\/manifests\/sha256:/), 14, "one manifest per signature");
  assert.equal(count(/\/blobs\//), 14, "one payload or bundle per signature");
  assert.equal(count(/\/tags\/list/), 1, "one tag listing for the .sig tags");
  assert.equal(server.requests.length, 14 * 4 + 7 * 2 + 2, "and one ping");
});

Deno.test("verify(): a bundle listed without its predicate annotation has its manifest read once", async () => {
  // A fallback index written by a tool that does not copy the manifest's annotations.
  await using server = startReferrersServer({ quirk: "404" });
  const key = await generateKey();
  const name = `${server.host}/a/app`;
  const subject = await pushSubject(server, "a/app", "v1");
  const bundle = await makeBundle(key, subject.digest);
  const bundleRef = await bundleReferrer(server, "a/app", subject, bundle);
  const index = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, digest: bundleRef, size: 1, artifactType: BUNDLE }],
  }));
  await server.put("a/app", subject.digest.replace(":", "-"), OCI_INDEX, index);
  await using c = client();
  const r = await c.verify(`${name}:v1`, { keys: [key.pem] });
  assert.equal(summary(r), "verified ok:sigstore-bundle");
  assert.ok(r.status === "verified" && r.signatures[0].via === "referrers-tag");
  assert.deepEqual(
    server.requests.filter((q) => q.includes(bundleRef) || q.includes("/blobs/")),
    [`GET /v2/a/app/manifests/${bundleRef}`, `GET /v2/a/app/blobs/${await sha256(bundle)}`],
  );
});
