import assert from "node:assert/strict";
import {
  AUTH_FILES,
  candidateAuthFiles,
  defaultLoginAuthFile,
  expandPath,
  lookupAuthEntry,
  lookupCredentialHelper,
  parseAuthFile,
  permittedEnv,
} from "./auth_file.ts";
import { RegistryError } from "./errors.ts";
import { parseReference } from "./reference.ts";

const SECRET = "pa:ss wörd:1";

function b64(text: string): string {
  return new TextEncoder().encode(text).toBase64();
}

function envOf(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => {
    if (vars[name] === "!denied") throw new Deno.errors.NotCapable(name);
    return vars[name];
  };
}

Deno.test("AUTH_FILES lists the search order as ${VAR} patterns", () => {
  assert.deepEqual(AUTH_FILES, [
    "${REGISTRY_AUTH_FILE}",
    "${XDG_RUNTIME_DIR}/containers/auth.json",
    "${XDG_CONFIG_HOME}/containers/auth.json",
    "${HOME}/.config/containers/auth.json",
    "${DOCKER_CONFIG}/config.json",
    "${HOME}/.docker/config.json",
    "${HOME}/.dockercfg",
  ]);
  assert.ok(Object.isFrozen(AUTH_FILES));
});

Deno.test("expandPath() expands permitted variables and skips the rest", async (t) => {
  const env = envOf({ HOME: "/home/me", EMPTY: "", DENIED: "!denied", A: "x" });
  const cases: Array<[string, string | undefined]> = [
    ["${HOME}/.docker/config.json", "/home/me/.docker/config.json"],
    ["$HOME/.dockercfg", "/home/me/.dockercfg"],
    ["${A}/$A-${A}", "x/x-x"],
    ["/etc/containers/auth.json", "/etc/containers/auth.json"],
    ["${UNSET}/auth.json", undefined],
    ["${EMPTY}/auth.json", undefined],
    ["${DENIED}/auth.json", undefined],
    ["${HOME}/${UNSET}", undefined],
  ];
  for (const [pattern, expected] of cases) {
    await t.step(pattern, () => assert.equal(expandPath(pattern, env), expected));
  }
});

Deno.test("permittedEnv() never throws or prompts", () => {
  const value = permittedEnv("REGKIT_SURELY_UNSET_VARIABLE");
  assert.equal(value, undefined);
});

Deno.test("candidateAuthFiles() lists paths and reasons", async (t) => {
  const cases: Array<{
    name: string;
    vars: Record<string, string>;
    authFile?: string;
    paths: string[];
    skipped: string[];
  }> = [
    {
      name: "everything set",
      vars: { HOME: "/h", XDG_RUNTIME_DIR: "/run/1", XDG_CONFIG_HOME: "/c", DOCKER_CONFIG: "/d" },
      paths: [
        "/run/1/containers/auth.json",
        "/c/containers/auth.json",
        "/d/config.json",
        "/h/.dockercfg",
      ],
      skipped: [
        "$REGISTRY_AUTH_FILE is unset or empty",
        "used only when $XDG_CONFIG_HOME is unset",
        "used only when $DOCKER_CONFIG is unset",
      ],
    },
    {
      name: "HOME only",
      vars: { HOME: "/h" },
      paths: ["/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"],
      skipped: [
        "$REGISTRY_AUTH_FILE is unset or empty",
        "$XDG_RUNTIME_DIR is unset or empty",
        "$XDG_CONFIG_HOME is unset or empty",
        "$DOCKER_CONFIG is unset or empty",
      ],
    },
    {
      name: "REGISTRY_AUTH_FILE is exclusive",
      vars: { HOME: "/h", REGISTRY_AUTH_FILE: "/r.json", XDG_RUNTIME_DIR: "/run/1" },
      paths: ["/r.json"],
      skipped: [],
    },
    {
      name: "explicit authFile is exclusive",
      vars: { HOME: "/h", REGISTRY_AUTH_FILE: "/r.json" },
      authFile: "/explicit.json",
      paths: ["/explicit.json"],
      skipped: [],
    },
    {
      name: "unpermitted variables",
      vars: {
        HOME: "/h",
        REGISTRY_AUTH_FILE: "!denied",
        XDG_RUNTIME_DIR: "!denied",
        XDG_CONFIG_HOME: "!denied",
        DOCKER_CONFIG: "!denied",
      },
      paths: ["/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"],
      skipped: [
        "$REGISTRY_AUTH_FILE is not permitted (--allow-env)",
        "$XDG_RUNTIME_DIR is not permitted (--allow-env)",
        "$XDG_CONFIG_HOME is not permitted (--allow-env)",
        "$DOCKER_CONFIG is not permitted (--allow-env)",
      ],
    },
    {
      name: "duplicate paths are read once",
      vars: { HOME: "/h", XDG_RUNTIME_DIR: "/h/.config", XDG_CONFIG_HOME: "/h/.config" },
      paths: ["/h/.config/containers/auth.json", "/h/.docker/config.json", "/h/.dockercfg"],
      skipped: [
        "$REGISTRY_AUTH_FILE is unset or empty",
        "same file as an earlier candidate",
        "used only when $XDG_CONFIG_HOME is unset",
        "$DOCKER_CONFIG is unset or empty",
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const candidates = candidateAuthFiles({ env: envOf(c.vars), authFile: c.authFile });
      assert.deepEqual(candidates.flatMap((x) => x.path ?? []), c.paths);
      assert.deepEqual(candidates.flatMap((x) => x.skipped ?? []), c.skipped);
      for (const x of candidates) assert.ok((x.path === undefined) !== (x.skipped === undefined));
      assert.equal(candidates.find((x) => x.path?.endsWith(".dockercfg"))?.legacy ?? true, true);
    });
  }
});

Deno.test("defaultLoginAuthFile() follows podman's choice", async (t) => {
  const cases: Array<[string, Record<string, string>, string | undefined, string | undefined]> = [
    ["--authfile", { REGISTRY_AUTH_FILE: "/r.json", HOME: "/h" }, "/a.json", "/a.json"],
    ["REGISTRY_AUTH_FILE", { REGISTRY_AUTH_FILE: "/r.json", HOME: "/h" }, undefined, "/r.json"],
    [
      "XDG_RUNTIME_DIR",
      { XDG_RUNTIME_DIR: "/run/1", HOME: "/h" },
      undefined,
      "/run/1/containers/auth.json",
    ],
    [
      "XDG_CONFIG_HOME",
      { XDG_CONFIG_HOME: "/c", HOME: "/h" },
      undefined,
      "/c/containers/auth.json",
    ],
    ["HOME/.config", { HOME: "/h" }, undefined, "/h/.config/containers/auth.json"],
    ["nothing", {}, undefined, undefined],
  ];
  for (const [name, vars, authFile, expected] of cases) {
    await t.step(name, () => {
      assert.equal(defaultLoginAuthFile({ env: envOf(vars), authFile }), expected);
    });
  }
});

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
    [
      "placeholder skipped",
      "quay.io/a",
      { "quay.io/a": {}, "https://quay.io": entry("h") },
      "https://quay.io",
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
