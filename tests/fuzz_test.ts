/**
 * Property tests (fast-check) of the parsers that read untrusted text: references, challenges,
 * `Link` headers, auth files, public keys, DER signatures, signature payloads, Sigstore bundles and
 * referrers indexes. They throw only `RegistryError` (or nothing at all), never a
 * `TypeError` from our code, and valid references round-trip through their canonical form.
 *
 * Each property runs `FUZZ_RUNS` inputs (default 2000); CI runs `FUZZ_RUNS=25000` once, which
 * makes more than 100,000 inputs in total.
 */
import assert from "node:assert/strict";
// Test-only dependency (pinned exactly in deno.json); nothing the package publishes imports it.
// Not in deno.json `imports`: Deno fetches every npm package named there on a project's first
// run, so the demo and the CLI would download it too. Only the tests import it.
// deno-lint-ignore no-import-prefix
import fc from "npm:fast-check@3.23.2";
import {
  classifyReferrer,
  derToRaw,
  fallbackIndexProblem,
  isRegistryError,
  parseAuthFile,
  parseChallenges,
  parseLinkHeader,
  parsePublicKey,
  parseReference,
  parseRepository,
  type RegistryErrorCode,
  selectChallenge,
  verifyBundle,
  verifySimpleSigning,
} from "../mod.ts";
import { nextLink } from "../lib/link.ts";

const NUM_RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 2000);
if (!Number.isInteger(NUM_RUNS) || NUM_RUNS < 1) {
  throw new RangeError(`FUZZ_RUNS must be a positive integer, got ${Deno.env.get("FUZZ_RUNS")}`);
}
const params = { numRuns: NUM_RUNS };

/** Strings over an alphabet, for inputs that get past the first checks. */
function stringOver(alphabet: string, maxLength = 80): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet), { maxLength }).map((cs) => cs.join(""));
}

/** Arbitrary text: full Unicode (lone surrogates included), ASCII, and alphabet soups. */
function text(alphabet: string, maxLength = 80): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: "grapheme-ascii", maxLength }),
    stringOver(alphabet, maxLength),
    stringOver(alphabet, maxLength * 20),
  );
}

/** Calls `fn`; a throw must be a RegistryError with one of `codes`. */
function onlyRegistryErrors(fn: () => unknown, ...codes: RegistryErrorCode[]) {
  try {
    fn();
  } catch (error) {
    if (!isRegistryError(error, ...codes)) {
      throw new Error(`threw ${error instanceof Error ? error.name : typeof error}: ${error}`, {
        cause: error,
      });
    }
    assert.ok(error.message.startsWith("Cannot "), error.message);
  }
}

// --- references -------------------------------------------------------------------------------

const REFERENCE_ALPHABET = "abcxyzAZ0189._-/:@[]%+ ~#sha256docker://localhost\u00e9\u0000\t\n";

Deno.test("parseReference() and parseRepository() throw only INVALID_REFERENCE", () => {
  fc.assert(
    fc.property(
      fc.oneof(text(REFERENCE_ALPHABET), fc.anything()),
      (input) => {
        onlyRegistryErrors(() => parseReference(input as string), "INVALID_REFERENCE");
        onlyRegistryErrors(() => parseRepository(input as string), "INVALID_REFERENCE");
      },
    ),
    params,
  );
});

const lower = "abcdefghijklmnopqrstuvwxyz";
const digits = "0123456789";
const hex = "0123456789abcdef";
const alnum = fc.array(fc.constantFrom(...lower + digits), { minLength: 1, maxLength: 6 })
  .map((cs) => cs.join(""));

/** A domain component: `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`. */
const domainComponent = fc.tuple(
  fc.constantFrom(...lower + digits + "AZ"),
  stringOver(lower + digits + "-AZ", 6),
  fc.constantFrom(...lower + digits),
).map(([a, mid, b]) => mid === "" ? a : `${a}${mid}${b}`);

const port = fc.integer({ min: 1, max: 65535 }).map(String);

/** A registry that the grammar recognises as a domain. */
const domain = fc.oneof(
  fc.tuple(fc.array(domainComponent, { minLength: 2, maxLength: 3 }), fc.option(port))
    .map(([parts, p]) => parts.join(".") + (p === null ? "" : `:${p}`)),
  fc.tuple(domainComponent, port).map(([host, p]) => `${host}:${p}`),
  fc.option(port).map((p) => `localhost${p === null ? "" : `:${p}`}`),
  fc.constantFrom(
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "[::1]:5000",
    "[fe80::1]",
  ),
);

/** A path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`. */
const pathComponent = fc.tuple(
  alnum,
  fc.array(fc.tuple(fc.constantFrom(".", "_", "__", "-", "--"), alnum), { maxLength: 2 }),
).map(([head, rest]) => head + rest.map(([sep, part]) => sep + part).join(""));

const tag = fc.tuple(
  fc.constantFrom(..."aZ09_"),
  stringOver("aZ09_.-", 20),
).map(([first, rest]) => first + rest);

const digest = fc.oneof(
  fc.array(fc.constantFrom(...hex), { minLength: 64, maxLength: 64 }).map((h) =>
    `sha256:${h.join("")}`
  ),
  fc.array(fc.constantFrom(...hex), { minLength: 128, maxLength: 128 }).map((h) =>
    `sha512:${h.join("")}`
  ),
);

/** Valid references built from the distribution grammar. */
const validReference = fc.record({
  transport: fc.boolean(),
  domain: fc.option(domain),
  path: fc.array(pathComponent, { minLength: 1, maxLength: 4 }),
  tag: fc.option(tag),
  digest: fc.option(digest),
}).map(({ transport, domain, path, tag, digest }) =>
  (transport ? "docker://" : "") + (domain === null ? "" : `${domain}/`) +
  // without a domain, a first component with a "." would be read as one (as docker does)
  (domain === null ? [path[0].replaceAll(".", "_"), ...path.slice(1)] : path).join("/") +
  (tag === null ? "" : `:${tag}`) + (digest === null ? "" : `@${digest}`)
);

Deno.test("parseReference() round-trips valid references through String()", () => {
  let parsed = 0;
  fc.assert(
    fc.property(validReference, (input) => {
      let reference;
      try {
        reference = parseReference(input);
      } catch (error) {
        // only the length limit may refuse a grammatical reference
        assert.ok(isRegistryError(error, "INVALID_REFERENCE"), String(error));
        assert.match(error.message, /longer than/);
        return;
      }
      parsed++;
      const again = parseReference(String(reference));
      assert.equal(again.registry, reference.registry);
      assert.equal(again.repository, reference.repository);
      assert.equal(again.tag, reference.tag);
      assert.equal(again.digest, reference.digest);
      assert.equal(String(again), String(reference));
      // and the familiar form always means the same reference (docker's does not:
      // docker.io/a.b/c prints as a.b/c, which names registry a.b; regkit keeps the prefix)
      assert.equal(String(parseReference(reference.familiar)), String(reference));
    }),
    params,
  );
  assert.ok(parsed > NUM_RUNS * 0.9, `only ${parsed} of ${NUM_RUNS} generated references parsed`);
});

// --- challenges -------------------------------------------------------------------------------

const CHALLENGE_ALPHABET = 'BearerBasic realm=",\\ \t=scope:pull/service token68+/~ée\u0000';

const challengeLike = fc.oneof(
  text(CHALLENGE_ALPHABET),
  fc.array(
    fc.tuple(
      fc.constantFrom("Bearer", "bearer", "Basic", "Negotiate", "", "BEARER"),
      fc.array(
        fc.tuple(
          fc.constantFrom("realm", "service", "scope", "error", "REALM", "x", ""),
          fc.oneof(fc.string({ maxLength: 20 }), stringOver('"\\,= a', 10)),
          fc.boolean(),
        ),
        { maxLength: 4 },
      ),
    ),
    { maxLength: 3 },
  ).map((challenges) =>
    challenges.map(([scheme, ps]) =>
      `${scheme} ${
        ps.map(([k, v, quoted]) =>
          `${k}=${quoted ? `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"` : v}`
        ).join(", ")
      }`
    ).join(", ")
  ),
);

Deno.test("parseChallenges() and selectChallenge() never throw and return sane shapes", () => {
  fc.assert(
    fc.property(
      fc.oneof(challengeLike, fc.array(challengeLike, { maxLength: 3 }), fc.anything()),
      (input) => {
        const challenges = parseChallenges(input as string);
        assert.ok(Array.isArray(challenges));
        for (const c of challenges) {
          assert.equal(typeof c.scheme, "string");
          assert.equal(c.scheme, c.scheme.toLowerCase());
          for (const [name, value] of Object.entries(c.params)) {
            assert.equal(name, name.toLowerCase());
            assert.equal(typeof value, "string");
          }
        }
        const selected = selectChallenge(input as string);
        if (selected !== undefined) {
          assert.ok(selected.scheme === "bearer" || selected.scheme === "basic");
          assert.ok(selected.scopes.every((s) => typeof s === "string" && s !== ""));
          if (selected.scheme === "bearer") assert.ok(selected.realm);
        }
      },
    ),
    params,
  );
});

Deno.test("parseChallenges() reads back what a registry writes", () => {
  const value = fc.string({ maxLength: 30 });
  fc.assert(
    fc.property(value, value, value, (realm, service, scope) => {
      const quote = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
      const header = `Bearer realm=${quote(realm)},service=${quote(service)},scope=${quote(scope)}`;
      const [challenge] = parseChallenges(header);
      assert.deepEqual(challenge.params, { realm, service, scope });
    }),
    params,
  );
});

// --- Link headers -----------------------------------------------------------------------------

const LINK_ALPHABET = '<>;,="\\ relnext/v2/tags/list?n=1&last=a\t\u00e9';

Deno.test("parseLinkHeader() never throws and returns sane shapes", () => {
  fc.assert(
    fc.property(fc.oneof(text(LINK_ALPHABET), fc.anything()), (input) => {
      const links = parseLinkHeader(input as string);
      assert.ok(Array.isArray(links));
      for (const link of links) {
        assert.equal(typeof link.target, "string");
        for (const [name, value] of Object.entries(link.params)) {
          assert.equal(name, name.toLowerCase());
          assert.equal(typeof value, "string");
        }
      }
      const next = nextLink(input as string);
      assert.ok(next === undefined || typeof next === "string");
    }),
    params,
  );
});

Deno.test("parseLinkHeader() reads back the next link a registry writes", () => {
  fc.assert(
    fc.property(stringOver("abc/?=&0-9._~", 40), fc.option(tag), (path, last) => {
      const target = `/v2/${path}/tags/list?n=10${last === null ? "" : `&last=${last}`}`;
      assert.equal(nextLink(`<${target}>; rel="next"`), target);
      assert.equal(nextLink(`<${target}>; rel=next, </other>; rel="prev"`), target);
    }),
    params,
  );
});

// --- auth files -------------------------------------------------------------------------------

const SECRET = "S3CRET-fuzz-marker";

const maybeWrong = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.anything() });

/** Auth-file entries: mostly well-formed, sometimes with wrong types or broken base64. */
const entry = fc.record({
  auth: maybeWrong(fc.oneof(
    fc.tuple(fc.string({ maxLength: 10 }), fc.boolean()).map(([user, colon]) =>
      new TextEncoder().encode(`${user}${colon ? ":" : ""}${SECRET}`).toBase64()
    ),
    fc.constant(`${SECRET}!!`),
    fc.string({ maxLength: 20 }),
  )),
  username: maybeWrong(fc.string({ maxLength: 10 })),
  password: maybeWrong(fc.constant(SECRET)),
  identitytoken: maybeWrong(fc.constant(`${SECRET}-idt`)),
  registrytoken: maybeWrong(fc.constant(`${SECRET}-rt`)),
}, { requiredKeys: [] });

const authFile = fc.oneof(
  fc.record({
    auths: maybeWrong(
      fc.dictionary(fc.string({ maxLength: 20 }), maybeWrong(entry), { maxKeys: 4 }),
    ),
    credHelpers: maybeWrong(
      fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 10 }), {
        maxKeys: 3,
      }),
    ),
    credsStore: maybeWrong(fc.string({ maxLength: 10 })),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  text('{}[]":,auths\\ 0aZ', 200),
);

Deno.test("parseAuthFile() throws only AUTH_FILE_INVALID, and never quotes a secret", () => {
  fc.assert(
    fc.property(authFile, fc.boolean(), (content, legacy) => {
      for (const text of [content, legacy ? content.replace(/^\{"auths":/, "") : content]) {
        try {
          parseAuthFile("/tmp/auth.json", text, { legacy });
        } catch (error) {
          assert.ok(
            isRegistryError(error, "AUTH_FILE_INVALID"),
            `threw ${error instanceof Error ? error.name : typeof error}: ${error}`,
          );
          assert.ok(!error.message.includes(SECRET), error.message);
          assert.ok(error.message.startsWith('Cannot use auth file "/tmp/auth.json"'));
        }
      }
    }),
    params,
  );
});

// --- no quadratic blow-up on long input ---------------------------------------------------------

Deno.test("the parsers stay linear on long adversarial input", () => {
  const long = 200_000;
  const inputs = [
    ",".repeat(long),
    '"'.repeat(long),
    "Bearer " + "a=".repeat(long / 2),
    "Bearer " + 'realm="'.repeat(long / 7),
    "<".repeat(long),
    "<a>;".repeat(long / 4),
    "<a>" + ";x".repeat(long / 2),
    "a".repeat(long) + ":" + "b".repeat(long),
    "a/".repeat(long / 2),
    "=".repeat(long),
  ];
  for (const input of inputs) {
    parseChallenges(input);
    selectChallenge(input);
    parseLinkHeader(input);
    onlyRegistryErrors(() => parseReference(input), "INVALID_REFERENCE");
    onlyRegistryErrors(() => parseAuthFile("/x", input), "AUTH_FILE_INVALID");
  }
});

/** Crypto properties run fewer inputs: each may cost a WebCrypto call. */
const cryptoParams = { numRuns: Math.max(1, Math.ceil(NUM_RUNS / 10)) };
const encoder = new TextEncoder();
const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
  "sign",
  "verify",
]);
const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keyPair.publicKey));
const testKey = await parsePublicKey(
  `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----`,
);
const DIGEST = "sha256:" + "a".repeat(64);

/** JSON-ish values shaped like signature payloads and bundles, with hostile leaves. */
const leaf = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.constant(DIGEST),
  fc.constant("application/vnd.in-toto+json"),
  fc.constant("application/vnd.dev.sigstore.bundle.v0.3+json"),
  fc.constant("cosign container image signature"),
  fc.base64String(),
);
const shaped = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          "critical",
          "image",
          "docker-manifest-digest",
          "identity",
          "docker-reference",
          "type",
          "optional",
          "mediaType",
          "verificationMaterial",
          "certificate",
          "publicKey",
          "dsseEnvelope",
          "payload",
          "payloadType",
          "signatures",
          "sig",
          "subject",
          "digest",
          "sha256",
          "manifests",
          "annotations",
          "artifactType",
          "platform",
        ),
        fc.string(),
      ),
      tie("value"),
      { maxKeys: 6 },
    ),
  ),
})).value;

Deno.test("verifySimpleSigning() and verifyBundle() never throw and never verify junk", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(shaped.map((v) => encoder.encode(JSON.stringify(v))), fc.uint8Array()),
      fc.oneof(fc.base64String(), fc.string(), fc.constant(undefined)),
      async (payload, signature) => {
        const v = await verifySimpleSigning({ payload, signature }, [testKey], {
          digest: DIGEST,
          identity: "quay.io/org/app",
          annotations: { tag: "1" },
        });
        assert.equal(v.verified, false);
        const b = await verifyBundle(payload, [testKey], { digest: DIGEST });
        assert.equal(b.verified, false);
      },
    ),
    cryptoParams,
  );
});

Deno.test("derToRaw() throws only RangeError", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 70 }).map((b) => new Uint8Array([0x30, b.length, ...b])),
      ),
      (der) => {
        try {
          const raw = derToRaw(der, 32);
          assert.equal(raw.length, 64);
        } catch (error) {
          assert.ok(error instanceof RangeError, String(error));
        }
      },
    ),
    params,
  );
});

Deno.test("parsePublicKey() throws only INVALID_CONFIG", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string(),
        fc.uint8Array({ maxLength: 120 }).map((b) =>
          `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...b))}\n-----END PUBLIC KEY-----`
        ),
        fc.uint8Array({ maxLength: 40 }).map((b) => {
          const mutated = spki.slice();
          for (let i = 0; i < b.length; i += 2) mutated[b[i] % mutated.length] = b[i + 1] ?? 0;
          return `-----BEGIN PUBLIC KEY-----\n${
            btoa(String.fromCharCode(...mutated))
          }\n-----END PUBLIC KEY-----`;
        }),
      ),
      async (pem) => {
        try {
          await parsePublicKey(pem, { label: "fuzz.pub" });
        } catch (error) {
          assert.ok(isRegistryError(error, "INVALID_CONFIG"), String(error));
        }
      },
    ),
    cryptoParams,
  );
});

Deno.test("referrer classification and fallback-index checks never throw", () => {
  fc.assert(
    fc.property(shaped, fc.option(fc.string()), (value, artifactType) => {
      const record = typeof value === "object" && value !== null && !Array.isArray(value)
        ? value as Record<string, unknown>
        : { manifests: [value] };
      classifyReferrer({
        ...(artifactType === null ? {} : { artifactType }),
        annotations: Object.fromEntries(
          Object.entries(record).filter(([, v]) => typeof v === "string"),
        ) as Record<string, string>,
      });
      fallbackIndexProblem(record, { digest: DIGEST, subject: "sha256:" + "b".repeat(64) });
    }),
    params,
  );
});
