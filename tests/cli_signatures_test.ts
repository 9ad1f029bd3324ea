/**
 * `regkit signed`, `artifacts` and `triangulate` in-process (`main(args, io)`) against the real
 * `docker-registry` 2.8: lines, JSON Lines, exit codes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { startRegistry } from "./_registry.ts";
import { pushImage, pushIndex } from "./_images.ts";
import {
  generateKey,
  makeBundle,
  pushBundleReferrer,
  pushCosignSignature,
  signLayer,
} from "./_signatures.ts";

function sink(chunks: Uint8Array[]) {
  return { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)) };
}

function text(chunks: Uint8Array[]): string {
  return chunks.map((c) => new TextDecoder().decode(c)).join("");
}

async function run(args: string[], stdin?: string) {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const code = await main(args, {
    stdout: sink(out),
    stderr: sink(err),
    env: () => undefined,
    isTerminal: () => false,
    ...(stdin === undefined ? {} : { stdin: new Blob([stdin]).stream() }),
  });
  return { code, out: text(out), err: text(err) };
}

Deno.test("regkit signed / artifacts / triangulate on docker-registry 2.8", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const key = await generateKey();
  const h = registry.host;
  const legacy = await pushImage(registry, "cli/app", "legacy");
  await pushCosignSignature(registry, "cli/app", legacy.digest, [
    await signLayer(key, `${h}/cli/app`, legacy.digest),
  ]);
  const bundled = await pushImage(registry, "cli/app", "bundle");
  await pushBundleReferrer(registry, "cli/app", bundled, await makeBundle(key, bundled.digest));
  const plain = await pushImage(registry, "cli/app", "plain");

  const signed = await run(["signed", `${h}/cli/app:legacy`, `${h}/cli/app:bundle`]);
  assert.equal(signed.code, 0, signed.err);
  assert.equal(
    signed.out,
    `signed ${legacy.digest} ${h}/cli/app:legacy cosign\n` +
      `signed ${bundled.digest} ${h}/cli/app:bundle sigstore-bundle\n`,
  );
  const some = await run(
    ["signed", "--from-file", "-", "--json"],
    `${h}/cli/app:legacy\n${h}/cli/app:plain\n${h}/cli/app:missing\n`,
  );
  assert.equal(some.code, 1, some.err);
  const records = some.out.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => r.status), ["signed", "unsigned", "absent"]);
  assert.deepEqual(records[0].signatures.map((s: { via: string }) => s.via), ["cosign-tag"]);
  assert.equal(records[1].digest, plain.digest);
  const unknown = await run(["signed", `${h}/cli/app:legacy`, "not a reference"]);
  assert.equal(unknown.code, 3);
  assert.match(unknown.out, /^unknown not a reference INVALID_REFERENCE: /m);

  const tree = await run(["artifacts", `${h}/cli/app:bundle`]);
  assert.equal(tree.code, 0, tree.err);
  assert.match(tree.out, /signature sigstore-bundle via referrers-tag sha256:[0-9a-f]{64}/);
  assert.match(tree.out, /\[referrers fallback tag \(404 \(no referrers API\)\)\]/);
  const json = await run(["artifacts", "--json", "--kind", "sbom", `${h}/cli/app:bundle`]);
  assert.deepEqual(JSON.parse(json.out).artifacts, []);
  assert.equal((await run(["artifacts", "--kind", "bogus", `${h}/cli/app:x`])).code, 2);

  const tri = await run(["triangulate", `${h}/cli/app:legacy`]);
  assert.equal(tri.code, 0, tri.err);
  assert.equal(tri.out, `${h}/cli/app:${legacy.digest.replace(":", "-")}.sig\n`);
  assert.match(tri.err, /cosign v3 stores signatures as OCI 1\.1 referrers/);
  const byDigest = await run([
    "triangulate",
    "--type",
    "referrers",
    `${h}/cli/app@${legacy.digest}`,
  ]);
  assert.equal(byDigest.out, `${h}/cli/app:${legacy.digest.replace(":", "-")}\n`);
  const digest = await run(["triangulate", "--type", "digest", "-q", `${h}/cli/app:legacy`]);
  assert.equal(digest.out, `${h}/cli/app@${legacy.digest}\n`);
  assert.equal((await run(["triangulate", "--type", "nope", `${h}/cli/app:legacy`])).code, 2);
  assert.equal((await run(["triangulate", `${h}/cli/app:missing`])).code, 1);
});

Deno.test("regkit signed --platforms all: exit 1 until every child is signed", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const key = await generateKey();
  const h = registry.host;
  const index = await pushIndex(registry, "cli/multi", "v1", [
    { platform: { os: "linux", architecture: "amd64" } },
    { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
  ]);
  for (const digest of [index.digest, index.children[0].digest]) {
    await pushCosignSignature(registry, "cli/multi", digest, [
      await signLayer(key, `${h}/cli/multi`, digest),
    ]);
  }
  const top = await run(["signed", `${h}/cli/multi:v1`]);
  assert.equal(top.code, 0, top.err);
  const all = await run(["signed", "--platforms", "all", `${h}/cli/multi:v1`]);
  assert.equal(all.code, 1, all.err);
  assert.equal(
    all.out,
    `unsigned ${index.digest} ${h}/cli/multi:v1 (unsigned: linux/arm64/v8)\n`,
  );
});

Deno.test("regkit signed --key: verified, unverified with the reason, bad key files exit 2", async () => {
  await using registry = await startRegistry({ auth: "none" });
  const ours = await generateKey();
  const theirs = await generateKey();
  const h = registry.host;
  const dir = await Deno.makeTempDir({ prefix: "regkit-keys-" });
  try {
    await Deno.writeTextFile(`${dir}/cosign.pub`, ours.pem);
    await Deno.writeTextFile(`${dir}/not-a-key.pub`, "hello");
    const good = await pushImage(registry, "k/app", "good");
    await pushCosignSignature(registry, "k/app", good.digest, [
      await signLayer(ours, `${h}/k/app`, good.digest, { tag: "good" }),
    ]);
    const bad = await pushImage(registry, "k/app", "bad");
    await pushCosignSignature(registry, "k/app", bad.digest, [
      await signLayer(theirs, `${h}/k/app`, bad.digest),
    ]);
    const plain = await pushImage(registry, "k/app", "plain");
    const key = await (await import("../mod.ts")).parsePublicKey(ours.pem);
    const ok = await run([
      "signed",
      "--key",
      `${dir}/cosign.pub`,
      "--identity",
      `${h}/k/app`,
      "--annotation",
      "tag=good",
      `${h}/k/app:good`,
    ]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(
      ok.out,
      `signed ${good.digest} ${h}/k/app:good cosign key=${key.fingerprint.slice(0, 16)}\n`,
    );
    const mixed = await run([
      "signed",
      "--key",
      `${dir}/cosign.pub`,
      `${h}/k/app:bad`,
      `${h}/k/app:plain`,
    ]);
    assert.equal(mixed.code, 1);
    assert.equal(
      mixed.out,
      `unverified ${bad.digest} ${h}/k/app:bad wrong-key\nunsigned ${plain.digest} ${h}/k/app:plain\n`,
    );
    const json = await run(["signed", "--json", "--key", `${dir}/cosign.pub`, `${h}/k/app:bad`]);
    const record = JSON.parse(json.out);
    assert.equal(record.status, "unverified");
    assert.deepEqual(
      record.signatures.map((s: { verified: boolean; reason: string }) => [s.verified, s.reason]),
      [[false, "wrong-key"]],
    );
    const missingFile = await run(["signed", "--key", `${dir}/nope.pub`, `${h}/k/app:good`]);
    assert.equal(missingFile.code, 2);
    assert.match(missingFile.err, /Cannot read key ".*nope\.pub"/);
    const notKey = await run(["signed", "--key", `${dir}/not-a-key.pub`, `${h}/k/app:good`]);
    assert.equal(notKey.code, 2);
    assert.match(
      notKey.err,
      /Cannot use key ".*not-a-key\.pub": not a PEM public key \(INVALID_CONFIG\)/,
    );
    assert.equal((await run(["signed", "--identity", "x/y", `${h}/k/app:good`])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
