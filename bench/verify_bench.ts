/**
 * Verification CPU per signature (`deno bench`): a legacy cosign simple-signing layer and a
 * cosign v3 bundle, both golden bytes verified with cosign's ECDSA P-256 key, and parsing a
 * PEM key.
 *
 * @module
 */

import { parsePublicKey, verifyBundle, verifySimpleSigning } from "../mod.ts";

const GOLDEN = new URL("../tests/fixtures/golden/", import.meta.url);
const legacyDir = new URL("v1-cimage-cosign-valid/", GOLDEN);
const bundleDir = new URL("v2-cloudboot-cosign-v3-pubkey-bundle/", GOLDEN);
const legacyVector = JSON.parse(await Deno.readTextFile(new URL("vector.json", legacyDir)));
const bundleVector = JSON.parse(await Deno.readTextFile(new URL("vector.json", bundleDir)));
const legacyPem = await Deno.readTextFile(new URL("cosign.pub", legacyDir));
const legacyKey = await parsePublicKey(legacyPem);
const bundleKey = await parsePublicKey(await Deno.readTextFile(new URL("cosign.pub", bundleDir)));
const payload = await Deno.readFile(new URL("payload.json", legacyDir));
const signature = (await Deno.readTextFile(new URL("signature.b64", legacyDir))).trim();
const bundle = await Deno.readFile(new URL("bundle.json", bundleDir));

Deno.bench("verifySimpleSigning: golden cosign .sig layer, P-256", async () => {
  const v = await verifySimpleSigning({ payload, signature }, [legacyKey], {
    digest: legacyVector.dockerManifestDigest,
    identity: legacyVector.dockerReference,
  });
  if (!v.verified) throw new Error("not verified");
});

Deno.bench("verifyBundle: golden cosign v3 bundle (DSSE), P-256", async () => {
  const v = await verifyBundle(bundle, [bundleKey], { digest: bundleVector.subjectDigest });
  if (!v.verified) throw new Error("not verified");
});

Deno.bench("parsePublicKey: cosign.pub (P-256)", async () => {
  await parsePublicKey(legacyPem);
});
