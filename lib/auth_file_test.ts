import assert from "node:assert/strict";
import { encodeBase64 } from "@std/encoding/base64";
import { parseAuthFile } from "./auth_file.ts";
import { lookupAuthEntry, lookupCredentialHelper } from "./auth_keys.ts";
import { RegistryError } from "./errors.ts";
import { parseReference } from "./reference.ts";

const SECRET = "pa:ss wörd:1";

function b64(text: string): string {
  return encodeBase64(text);
}

Deno.test("parseAuthFile() reads entry formats", async (t) => {
  const cases: Array<{
    name: string;
    entry: unknown;
    expected: { kind: string; username?: string; secret: string } | undefined;
  }> = [
    {
      name: "auth",
      entry: { auth: b64("me:pw") },
      expected: { kind: "basic", username: "me", secret: "pw" },
    },
    {
      name: "auth splits at the first ':' and decodes UTF-8",
      entry: { auth: b64(`mé:${SECRET}`) },
      expected: { kind: "basic", username: "mé", secret: SECRET },
    },
    {
      name: "auth wins over username/password",
      entry: { auth: b64("a:b"), username: "c", password: "d" },
      expected: { kind: "basic", username: "a", secret: "b" },
    },
    {
      name: "username/password",
      entry: { username: "me", password: SECRET },
      expected: { kind: "basic", username: "me", secret: SECRET },
    },
    {
      name: "identitytoken keeps the username",
      entry: { auth: b64("robot:"), identitytoken: "idt" },
      expected: { kind: "identityToken", username: "robot", secret: "idt" },
    },
    {
      name: "registrytoken",
      entry: { registrytoken: "rt", identitytoken: "idt" },
      expected: { kind: "registryToken", secret: "rt" },
    },
    { name: "{} placeholder", entry: {}, expected: undefined },
    { name: "empty auth", entry: { auth: "" }, expected: undefined },
    { name: "auth ':'", entry: { auth: b64(":") }, expected: undefined },
    { name: "username only", entry: { username: "me" }, expected: undefined },
    { name: "email only", entry: { email: "me@example.com" }, expected: undefined },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const content = parseAuthFile("/f.json", JSON.stringify({ auths: { "quay.io": c.entry } }));
      const credentials = content.auths.get("quay.io");
      if (c.expected === undefined) {
        assert.equal(credentials, undefined);
        return;
      }
      assert.ok(credentials !== undefined);
      assert.equal(credentials.kind, c.expected.kind);
      assert.equal(credentials.username, c.expected.username);
      assert.equal(credentials.secret, c.expected.secret);
    });
  }
  await t.step("credHelpers, credsStore, no auths, empty file", () => {
    const content = parseAuthFile(
      "/f.json",
      JSON.stringify({ credHelpers: { "gcr.io": "gcloud" }, credsStore: "desktop" }),
    );
    assert.equal(content.auths.size, 0);
    assert.equal(content.credHelpers.get("gcr.io"), "gcloud");
    assert.equal(content.credsStore, "desktop");
    assert.equal(parseAuthFile("/f.json", "  \n").auths.size, 0);
    assert.equal(parseAuthFile("/f.json", "{}").auths.size, 0);
  });
  await t.step("legacy format", () => {
    const content = parseAuthFile(
      "/h/.dockercfg",
      JSON.stringify({ "https://index.docker.io/v1/": { auth: b64("me:pw"), email: "x@y" } }),
      { legacy: true },
    );
    assert.equal(content.legacy, true);
    assert.equal(content.auths.get("https://index.docker.io/v1/")?.secret, "pw");
  });
});

Deno.test("parseAuthFile() throws AUTH_FILE_INVALID without values", async (t) => {
  const blob = b64(`me:${SECRET}`);
  const cases: Array<[string, string, string]> = [
    ["malformed JSON", `{"auths":{"quay.io":{"auth":"${blob}"}`, "not valid JSON"],
    ["not an object", JSON.stringify([blob]), "not a JSON object"],
    ["auths not an object", JSON.stringify({ auths: [blob] }), `"auths" is not an object`],
    ["entry not an object", JSON.stringify({ auths: { "quay.io": blob } }), `"quay.io"`],
    ["invalid base64", JSON.stringify({ auths: { "quay.io": { auth: `${SECRET}` } } }), "base64"],
    [
      "auth without ':'",
      JSON.stringify({ auths: { "quay.io": { auth: b64("meSECRET") } } }),
      "username:password",
    ],
    ["non-string auth", JSON.stringify({ auths: { "quay.io": { auth: 1 } } }), `"auth"`],
    [
      "non-string username",
      JSON.stringify({ auths: { "quay.io": { username: true, password: SECRET } } }),
      `"username"`,
    ],
    [
      "non-string registrytoken",
      JSON.stringify({ auths: { "quay.io": { registrytoken: [SECRET] } } }),
      `"registrytoken"`,
    ],
    ["credHelpers value", JSON.stringify({ credHelpers: { "quay.io": 7 } }), `"quay.io"`],
    ["credsStore with a slash", JSON.stringify({ credsStore: "/bin/sh" }), `"credsStore"`],
  ];
  for (const [name, text, detail] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseAuthFile("/dir/auth.json", text), (e: unknown) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.code, "AUTH_FILE_INVALID");
        assert.ok(e.message.startsWith(`Cannot use auth file "/dir/auth.json": `), e.message);
        assert.ok(e.message.includes(detail), e.message);
        for (const secret of [SECRET, blob, "meSECRET"]) assert.ok(!e.message.includes(secret));
        assert.equal(e.cause, undefined);
        return true;
      });
    });
  }
});

Deno.test("lookupAuthEntry() tries keys most specific first, then normalized", async (t) => {
  const entry = (user: string) => ({ auth: b64(`${user}:pw`) });
  const cases: Array<[string, string, Record<string, unknown>, string | undefined]> = [
    ["host/a/b first", "quay.io/a/b/c", {
      "quay.io": entry("h"),
      "quay.io/a/b": entry("ab"),
      "quay.io/a": entry("a"),
    }, "quay.io/a/b"],
    [
      "full repository path",
      "quay.io/a/b",
      { "quay.io/a/b": entry("ab"), "quay.io/a": entry("a") },
      "quay.io/a/b",
    ],
    ["host", "quay.io/a/b", { "quay.io": entry("h"), "quay.io/x": entry("x") }, "quay.io"],
    [
      "prefix of a component does not match",
      "quay.io/ab/c",
      { "quay.io/a": entry("a") },
      undefined,
    ],
    ["https URL", "quay.io/a", { "https://quay.io": entry("h") }, "https://quay.io"],
    ["http URL with /v2/", "quay.io/a", { "http://quay.io/v2/": entry("h") }, "http://quay.io/v2/"],
    [
      "URL namespace",
      "quay.io/a/b",
      { "https://quay.io/a": entry("a"), "quay.io": entry("h") },
      "quay.io",
    ],
    [
      "URL namespace when no exact key",
      "quay.io/a/b",
      { "https://quay.io/a": entry("a") },
      "https://quay.io/a",
    ],
    ["upper-case host", "quay.io/a", { "QUAY.IO": entry("h") }, "QUAY.IO"],
    ["docker.io exact", "ubuntu", {
      "docker.io": entry("d"),
      "https://index.docker.io/v1/": entry("v1"),
    }, "docker.io"],
    [
      "docker.io v1 URL",
      "ubuntu",
      { "https://index.docker.io/v1/": entry("v1") },
      "https://index.docker.io/v1/",
    ],
    ["docker.io index host", "ubuntu", { "index.docker.io": entry("i") }, "index.docker.io"],
    [
      "docker.io registry-1 host",
      "ubuntu",
      { "registry-1.docker.io": entry("r") },
      "registry-1.docker.io",
    ],
    ["docker.io namespace", "docker.io/me/app", {
      "docker.io/me": entry("me"),
      "docker.io": entry("d"),
    }, "docker.io/me"],
    ["port must match", "localhost:5000/a", {
      "localhost": entry("l"),
      "localhost:5001": entry("x"),
    }, undefined],
    // #15 item 7: the placeholder at the more specific key decides (podman);
    // before, the lookup went on to "https://quay.io".
    [
      "placeholder at the more specific key decides",
      "quay.io/a",
      { "quay.io/a": {}, "https://quay.io": entry("h") },
      "quay.io/a",
    ],
    ["other registry", "quay.io/a", { "ghcr.io": entry("g") }, undefined],
  ];
  for (const [name, reference, auths, key] of cases) {
    await t.step(name, () => {
      const content = parseAuthFile("/f.json", JSON.stringify({ auths }));
      assert.equal(lookupAuthEntry(content, parseReference(reference))?.key, key);
    });
  }
  await t.step("credHelpers use the same order", () => {
    const content = parseAuthFile(
      "/f.json",
      JSON.stringify({ credHelpers: { "quay.io": "host", "quay.io/org": "org" } }),
    );
    assert.deepEqual(lookupCredentialHelper(content, parseReference("quay.io/org/app")), {
      key: "quay.io/org",
      helper: "org",
    });
    assert.equal(lookupCredentialHelper(content, parseReference("quay.io/x/app"))?.helper, "host");
    assert.equal(lookupCredentialHelper(content, parseReference("ghcr.io/x/app")), undefined);
  });
});

Deno.test("lookupAuthEntry() reads URL-form keys as docker's ConvertToHostname does", async (t) => {
  // [key, a reference it must match (or undefined: nothing), a reference it must not match]
  // Inputs from docker/cli's TestConvertToHostname, then #15's examples.
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ["127.0.0.1", "127.0.0.1/app", "127.0.0.1:5000/app"],
    ["[::1]", "[::1]/app", "[::1]:5000/app"],
    ["example.com", "example.com/a/b", "example.org/a"],
    ["http://example.com", "example.com/a/b", "example.com:5000/a"],
    ["https://example.com", "example.com/a", undefined],
    ["https://example.com/", "example.com/a", undefined],
    ["https://example.com/v2/", "example.com/a/b/c", undefined],
    ["unix:///var/run/docker.sock", undefined, "localhost/app"],
    ["ftp://example.com", "example.com/x/y", undefined],
    ["127.0.0.1:6556", "127.0.0.1:6556/app", "127.0.0.1/app"],
    ["[::1]:6556", "[::1]:6556/app", "[::1]/app"],
    ["example.com:6555", "example.com:6555/app", "example.com/app"],
    ["https://127.0.0.1:6555/v2/", "127.0.0.1:6555/app", "127.0.0.1/app"],
    ["https://::1:6555/v2/", "[::1]:6555/app", "[::1]/app"],
    ["https://[::1]:6555/v2/", "[::1]:6555/app", "[::1]/app"],
    ["http://example.com:6555", "example.com:6555/app", "example.com/app"],
    ["https://example.com:6555", "example.com:6555/app", undefined],
    ["https://example.com:6555/v2/", "example.com:6555/app", undefined],
    // The scheme and the whole path are dropped: the key names the host.
    ["https://example.com/some/path", "example.com/other/app", undefined],
    ["http://example.com:5000/anything/", "example.com:5000/x/y/z", "example.com/x"],
    ["HTTPS://Quay.IO/org", "quay.io/elsewhere/app", undefined],
    ["https://user@example.com/", "example.com/app", undefined],
    ["https://index.docker.io/v1/", "alpine", "quay.io/alpine"],
    ["http://registry-1.docker.io/v2/x", "me/app", undefined],
  ];
  for (const [key, matches, missing] of cases) {
    await t.step(key, () => {
      const content = parseAuthFile(
        "/f.json",
        JSON.stringify({ auths: { [key]: { auth: b64("u:p") } } }),
      );
      if (matches !== undefined) {
        assert.equal(lookupAuthEntry(content, parseReference(matches))?.key, key);
      }
      if (missing !== undefined) {
        assert.equal(lookupAuthEntry(content, parseReference(missing)), undefined);
      }
    });
  }
  await t.step("an exact key wins over a URL key at any level", () => {
    const content = parseAuthFile(
      "/f.json",
      JSON.stringify({
        auths: {
          "https://quay.io/org/app": { auth: b64("url:p") },
          "quay.io": { auth: b64("host:p") },
        },
      }),
    );
    assert.equal(lookupAuthEntry(content, parseReference("quay.io/org/app"))?.key, "quay.io");
  });
});

Deno.test("parseAuthFile() trims NUL bytes around a decoded password, as both peers do", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["user:pass\0\0", "user", "pass"],
    ["user:\0pass\0", "user", "pass"],
    ["user:pa\0ss", "user", "pa\0ss"],
    ["us\0er:pass", "us\0er", "pass"],
  ];
  for (const [decoded, username, password] of cases) {
    await t.step(JSON.stringify(decoded), () => {
      const content = parseAuthFile(
        "/f.json",
        JSON.stringify({ auths: { "quay.io": { auth: b64(decoded) } } }),
      );
      assert.equal(content.auths.get("quay.io")?.username, username);
      assert.equal(content.auths.get("quay.io")?.secret, password);
    });
  }
  await t.step("a password of NUL bytes only is no password", () => {
    const content = parseAuthFile(
      "/f.json",
      JSON.stringify({ auths: { "quay.io": { auth: b64("u:\0\0") } } }),
    );
    assert.equal(content.auths.get("quay.io"), undefined);
  });
});

Deno.test("lookupAuthEntry() looks up only the registry in a legacy .dockercfg", async (t) => {
  // containers/image's testdata/legacy.json and TestGetAuthFromLegacyFile.
  const legacy = parseAuthFile(
    "/h/.dockercfg",
    JSON.stringify({
      "http://index.docker.io/v1": { auth: "ZG9ja2VyOmlvLWxlZ2FjeQ==" },
      "https://localhost/v1": { auth: "bG9jYWw6aG9zdC1sZWdhY3k=" },
    }),
    { legacy: true },
  );
  await t.step("ignore schema and path", () => {
    assert.equal(
      lookupAuthEntry(legacy, parseReference("localhost/app"))?.credentials?.secret,
      "host-legacy",
    );
  });
  await t.step("normalize registry", () => {
    assert.equal(
      lookupAuthEntry(legacy, parseReference("busybox"))?.credentials?.secret,
      "io-legacy",
    );
  });
  const namespaced = (legacyFormat: boolean) =>
    parseAuthFile(
      "/f",
      JSON.stringify(
        legacyFormat
          ? { "quay.io/org": { auth: b64("ns:p") }, "quay.io": { auth: b64("host:p") } }
          : { auths: { "quay.io/org": { auth: b64("ns:p") }, "quay.io": { auth: b64("host:p") } } },
      ),
      { legacy: legacyFormat },
    );
  await t.step("a namespaced key is not a namespace there", () => {
    assert.equal(
      lookupAuthEntry(namespaced(true), parseReference("quay.io/org/app"))?.key,
      "quay.io",
    );
    // ...while auth.json and config.json keep namespaces.
    assert.equal(
      lookupAuthEntry(namespaced(false), parseReference("quay.io/org/app"))?.key,
      "quay.io/org",
    );
  });
  await t.step("without a registry key, a key's path is dropped (normalizeAuthFileKey)", () => {
    const content = parseAuthFile("/f", JSON.stringify({ "quay.io/org": { auth: b64("ns:p") } }), {
      legacy: true,
    });
    assert.equal(lookupAuthEntry(content, parseReference("quay.io/other/app"))?.key, "quay.io/org");
  });
});

Deno.test("lookupAuthEntry() lets the best-matching key decide, placeholders included", async (t) => {
  const content = parseAuthFile(
    "/f.json",
    JSON.stringify({
      auths: {
        "quay.io/org": {},
        "quay.io/half": { username: "only" },
        "quay.io": { auth: b64("host:p") },
      },
    }),
  );
  await t.step("{} at the namespace: no credentials from this file", () => {
    assert.deepEqual(lookupAuthEntry(content, parseReference("quay.io/org/app")), {
      key: "quay.io/org",
      placeholder: true,
    });
  });
  await t.step("an incomplete entry decides too, without being a placeholder", () => {
    assert.deepEqual(lookupAuthEntry(content, parseReference("quay.io/half/app")), {
      key: "quay.io/half",
    });
  });
  await t.step("other namespaces get the host's credentials", () => {
    const match = lookupAuthEntry(content, parseReference("quay.io/other/app"));
    assert.equal(match?.key, "quay.io");
    assert.equal(match?.credentials?.secret, "p");
    assert.equal(match?.placeholder, undefined);
  });
  await t.step("no matching key at all", () => {
    assert.equal(lookupAuthEntry(content, parseReference("ghcr.io/org/app")), undefined);
  });
});
