import assert from "node:assert/strict";
import { encodeBase64 } from "@std/encoding/base64";
import { isRegistryError } from "../errors.ts";
import { derToRaw, parsePublicKey, type VerificationKey } from "./keys.ts";
import { preAuthEncoding, verifyBundle, verifySimpleSigning } from "./verify.ts";

const GOLDEN = new URL("../../tests/fixtures/golden/", import.meta.url);
const read = (path: string) => Deno.readFile(new URL(path, GOLDEN));
const readText = (path: string) => Deno.readTextFile(new URL(path, GOLDEN));

async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return "sha256:" + Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function golden(folder: string) {
  const vector = JSON.parse(await readText(`${folder}/vector.json`));
  const key = await parsePublicKey(await readText(`${folder}/${vector.key}`), {
    label: vector.key,
  });
  return { vector, key };
}

function flip(bytes: Uint8Array, at = 10): Uint8Array {
  const copy = bytes.slice();
  copy[at] ^= 0x01;
  return copy;
}

for (
  const folder of [
    "v1-cimage-cosign-valid",
    "v1-cimage-cosign-valid-sig2",
    "v1-cimage-skopeo-signed-tag",
    "v1-sigstore-rs-busybox",
  ]
) {
  Deno.test(`golden ${folder}: verifies with its key, and not once tampered`, async () => {
    const { vector, key } = await golden(folder);
    const payload = await read(`${folder}/${vector.payload}`);
    const signature = await readText(`${folder}/${vector.signature}`);
    const expect = { digest: vector.dockerManifestDigest, identity: vector.dockerReference };
    assert.deepEqual(await verifySimpleSigning({ payload, signature }, [key], expect), {
      verified: true,
      keyFingerprint: key.fingerprint,
    });
    const tampered = await verifySimpleSigning(
      { payload: flip(payload), signature },
      [key],
      expect,
    );
    assert.equal(tampered.verified === false && tampered.reason, "wrong-key");
    const other = await verifySimpleSigning({ payload, signature }, [key], {
      ...expect,
      digest: "sha256:" + "0".repeat(64),
    });
    assert.equal(other.verified === false && other.reason, "digest-mismatch");
    const elsewhere = await verifySimpleSigning({ payload, signature }, [key], {
      ...expect,
      identity: "quay.io/someone/else",
    });
    assert.equal(elsewhere.verified === false && elsewhere.reason, "identity-mismatch");
    const annotated = await verifySimpleSigning({ payload, signature }, [key], {
      ...expect,
      annotations: { tag: "1.0" },
    });
    assert.equal(annotated.verified === false && annotated.reason, "missing-annotation");
    if (vector.imageManifest) {
      assert.equal(await sha256(await read(`${folder}/${vector.imageManifest}`)), expect.digest);
    }
  });
}

Deno.test("golden neg-* vectors do not verify, each for its reason", async () => {
  {
    const { vector, key } = await golden("neg-cimage-modified-manifest");
    const payload = await read(`neg-cimage-modified-manifest/${vector.payload}`);
    const signature = await readText(`neg-cimage-modified-manifest/${vector.signature}`);
    const manifest = await read(`neg-cimage-modified-manifest/${vector.imageManifest}`);
    const v = await verifySimpleSigning({ payload, signature }, [key], {
      digest: await sha256(manifest),
    });
    assert.equal(v.verified === false && v.reason, "digest-mismatch");
  }
  for (const folder of ["neg-cimage-other-attachment", "neg-cimage-unknown-key"]) {
    const { vector, key } = await golden(folder);
    const payload = await read(`${folder}/${vector.payload}`);
    const signature = await readText(`${folder}/${vector.signature}`);
    const v = await verifySimpleSigning({ payload, signature }, [key], {
      digest: "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00",
    });
    assert.equal(v.verified === false && v.reason, "wrong-key", folder);
  }
});

Deno.test("golden cosign v3 bundle verifies for its subject only", async () => {
  const folder = "v2-cloudboot-cosign-v3-pubkey-bundle";
  const { vector, key } = await golden(folder);
  const bundle = await read(`${folder}/${vector.bundle}`);
  assert.deepEqual(await verifyBundle(bundle, [key], { digest: vector.subjectDigest }), {
    verified: true,
    keyFingerprint: key.fingerprint,
  });
  const other = await verifyBundle(bundle, [key], { digest: "sha256:" + "1".repeat(64) });
  assert.equal(other.verified === false && other.reason, "digest-mismatch");
  const wrong = await parsePublicKey(await readText("v1-cimage-cosign-valid/cosign.pub"));
  const v = await verifyBundle(bundle, [wrong], { digest: vector.subjectDigest });
  assert.equal(v.verified === false && v.reason, "wrong-key");
  // One byte of the signed statement changed: the signature no longer verifies.
  const json = JSON.parse(new TextDecoder().decode(bundle));
  const body = Uint8Array.from(atob(json.dsseEnvelope.payload), (c) => c.charCodeAt(0));
  json.dsseEnvelope.payload = encodeBase64(flip(body, 40));
  const tampered = await verifyBundle(new TextEncoder().encode(JSON.stringify(json)), [key], {
    digest: vector.subjectDigest,
  });
  assert.equal(tampered.verified === false && tampered.reason, "wrong-key");
  // Another payload type is refused before any key is tried.
  json.dsseEnvelope.payloadType = "text/plain";
  const typed = await verifyBundle(new TextEncoder().encode(JSON.stringify(json)), [key], {
    digest: vector.subjectDigest,
  });
  assert.equal(typed.verified === false && typed.reason, "bad-payload");
});

Deno.test("golden cosign attest-blob DSSE envelope verifies inside a bundle", async () => {
  const folder = "v3-cosign-attest-blob-dsse";
  const { vector, key } = await golden(folder);
  const envelope = JSON.parse(await readText(`${folder}/${vector.envelope}`));
  const bundle = new TextEncoder().encode(JSON.stringify({
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: { publicKey: { hint: "" } },
    dsseEnvelope: envelope,
  }));
  const digest = await sha256(await read(`${folder}/${vector.subjectFile}`));
  assert.deepEqual(await verifyBundle(bundle, [key], { digest }), {
    verified: true,
    keyFingerprint: key.fingerprint,
  });
});

Deno.test("a message-signature bundle and a keyless bundle are not verified, with the reason", async () => {
  const folder = "v2-sigstore-go-pubkey-message-v03";
  const { vector, key } = await golden(folder);
  const bundle = await read(`${folder}/${vector.bundle}`);
  const v = await verifyBundle(bundle, [key], { digest: "sha256:" + "0".repeat(64) });
  assert.equal(v.verified === false && v.reason, "unsupported-format");
  const keyless = new TextEncoder().encode(JSON.stringify({
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: { certificate: { rawBytes: "AAAA" } },
    dsseEnvelope: { payload: "", payloadType: "application/vnd.in-toto+json", signatures: [] },
  }));
  const k = await verifyBundle(keyless, [key], { digest: "sha256:" + "0".repeat(64) });
  assert.equal(k.verified === false && k.reason, "keyless");
});

function derInteger(bytes: Uint8Array): number[] {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const t = [...bytes.subarray(i)];
  if (t[0] & 0x80) t.unshift(0);
  return [0x02, t.length, ...t];
}

function toDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const body = [...derInteger(raw.subarray(0, half)), ...derInteger(raw.subarray(half))];
  return new Uint8Array([0x30, body.length, ...body]);
}

async function pem(publicKey: CryptoKey): Promise<string> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  return `-----BEGIN PUBLIC KEY-----\n${encodeBase64(spki)}\n-----END PUBLIC KEY-----\n`;
}

const ALGORITHMS: Array<{
  name: string;
  generate: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
  sign: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
  der?: boolean;
  expected: VerificationKey["algorithm"];
}> = [
  {
    name: "ECDSA P-256",
    generate: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" },
    der: true,
    expected: "ecdsa-p256",
  },
  {
    name: "ECDSA P-384",
    generate: { name: "ECDSA", namedCurve: "P-384" },
    sign: { name: "ECDSA", hash: "SHA-384" },
    der: true,
    expected: "ecdsa-p384",
  },
  {
    name: "RSA PKCS#1 v1.5",
    generate: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    sign: { name: "RSASSA-PKCS1-v1_5" },
    expected: "rsa",
  },
  {
    name: "RSA-PSS",
    generate: {
      name: "RSA-PSS",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    sign: { name: "RSA-PSS", saltLength: 32 },
    expected: "rsa",
  },
  {
    name: "Ed25519",
    generate: { name: "Ed25519" },
    sign: { name: "Ed25519" },
    expected: "ed25519",
  },
];

Deno.test("every supported key type verifies a simple-signing payload and a bundle", async (t) => {
  const digest = "sha256:" + "ab".repeat(32);
  const payload = new TextEncoder().encode(JSON.stringify({
    critical: {
      identity: { "docker-reference": "quay.io/org/app" },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    },
    optional: { tag: "1.0" },
  }));
  for (const algorithm of ALGORITHMS) {
    await t.step(algorithm.name, async () => {
      const pair = await crypto.subtle.generateKey(algorithm.generate, true, [
        "sign",
        "verify",
      ]) as CryptoKeyPair;
      const key = await parsePublicKey(await pem(pair.publicKey), { label: algorithm.name });
      assert.equal(key.algorithm, algorithm.expected);
      const sign = async (data: Uint8Array) => {
        const raw = new Uint8Array(
          await crypto.subtle.sign(algorithm.sign, pair.privateKey, data as BufferSource),
        );
        return encodeBase64(algorithm.der ? toDer(raw) : raw);
      };
      const v = await verifySimpleSigning({ payload, signature: await sign(payload) }, [key], {
        digest,
        identity: "quay.io/org/app",
        annotations: { tag: "1.0" },
      });
      assert.deepEqual(v, { verified: true, keyFingerprint: key.fingerprint });
      const statement = new TextEncoder().encode(JSON.stringify({
        _type: "https://in-toto.io/Statement/v1",
        subject: [{ digest: { sha256: digest.slice(7) } }],
        predicateType: "https://sigstore.dev/cosign/sign/v1",
        predicate: {},
      }));
      const type = "application/vnd.in-toto+json";
      const bundle = new TextEncoder().encode(JSON.stringify({
        mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        verificationMaterial: { publicKey: { hint: "x" } },
        dsseEnvelope: {
          payload: encodeBase64(statement),
          payloadType: type,
          signatures: [{ sig: await sign(preAuthEncoding(type, statement)) }],
        },
      }));
      assert.deepEqual(await verifyBundle(bundle, [key], { digest }), {
        verified: true,
        keyFingerprint: key.fingerprint,
      });
    });
  }
});

Deno.test("hostile inputs are bounded and typed, never verified", async () => {
  const key = await parsePublicKey(await readText("v1-cimage-cosign-valid/cosign.pub"));
  const digest = "sha256:" + "0".repeat(64);
  const cases: Array<[string, Promise<{ verified: boolean; reason?: string }>, string]> = [
    [
      "not base64",
      verifySimpleSigning({ payload: new Uint8Array(1), signature: "%%%" }, [key], { digest }),
      "bad-signature-encoding",
    ],
    [
      "no signature",
      verifySimpleSigning({ payload: new Uint8Array(1), signature: undefined }, [key], { digest }),
      "bad-signature-encoding",
    ],
    [
      "not DER",
      verifySimpleSigning({ payload: new Uint8Array(1), signature: "AAAA" }, [key], { digest }),
      "bad-signature-encoding",
    ],
    [
      "too large",
      verifySimpleSigning({ payload: new Uint8Array(2 * 1024 * 1024), signature: "AAAA" }, [key], {
        digest,
      }),
      "too-large",
    ],
    [
      "bundle not JSON",
      verifyBundle(new TextEncoder().encode("{"), [key], { digest }),
      "bad-payload",
    ],
    [
      "bundle without type",
      verifyBundle(new TextEncoder().encode("{}"), [key], { digest }),
      "bad-payload",
    ],
  ];
  for (const [name, verdict, reason] of cases) {
    const v = await verdict;
    assert.equal(v.verified, false, name);
    assert.equal(v.reason, reason, name);
  }
});

Deno.test("parsePublicKey() names the key and what is wrong with it", async () => {
  const bad: Array<[string, RegExp]> = [
    ["nothing", /not a PEM public key/],
    [
      "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
      /EC PRIVATE KEY.*not a PUBLIC KEY/,
    ],
    [
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
      /not a DER SubjectPublicKeyInfo/,
    ],
  ];
  for (const [text, message] of bad) {
    await assert.rejects(
      parsePublicKey(text, { label: "k.pub" }),
      (e: unknown) =>
        isRegistryError(e, "INVALID_CONFIG") && /"k\.pub"/.test(e.message) &&
        message.test(e.message),
    );
  }
  // An X25519 key is a real SPKI of an unsupported algorithm.
  const x = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  await assert.rejects(
    parsePublicKey(await pem(x.publicKey), { label: "x.pub" }),
    (e: unknown) => isRegistryError(e, "INVALID_CONFIG") && /not supported/.test(e.message),
  );
});

Deno.test("derToRaw() is strict", () => {
  assert.deepEqual(
    derToRaw(new Uint8Array([0x30, 6, 2, 1, 1, 2, 1, 2]), 2),
    new Uint8Array([0, 1, 0, 2]),
  );
  for (
    const bad of [
      [0x30, 6, 2, 1, 1, 2, 1, 2, 0], // trailing byte
      [0x30, 6, 2, 1, 0x81, 2, 1, 2], // negative
      [0x30, 7, 2, 2, 0, 1, 2, 1, 2], // non-minimal
      [0x30, 8, 2, 3, 1, 1, 1, 2, 1, 2], // too large for the size
      [0x31, 6, 2, 1, 1, 2, 1, 2], // not a SEQUENCE
    ]
  ) {
    assert.throws(() => derToRaw(new Uint8Array(bad), 2), RangeError, JSON.stringify(bad));
  }
});

Deno.test("a key's fingerprint is what the README's openssl command prints", async () => {
  const path = new URL("v1-cimage-cosign-valid/cosign.pub", GOLDEN).pathname;
  const der = await new Deno.Command("openssl", {
    args: ["pkey", "-pubin", "-in", path, "-outform", "DER"],
    stdout: "piped",
  }).output();
  const expected = (await sha256(der.stdout)).slice("sha256:".length);
  assert.equal((await parsePublicKey(await Deno.readTextFile(path))).fingerprint, expected);
});
