import assert from "node:assert/strict";
import { encodeBase64 } from "@std/encoding/base64";
import {
  type CredentialOptions,
  Credentials,
  type CredentialSource,
  explainCredentials,
  resolveCredentials,
} from "./credentials.ts";
import { runCredentialHelper } from "./credential_helper.ts";
import { RegistryError } from "./errors.ts";
import { Logger, type LogRecord } from "./log.ts";
import { parseReference } from "./reference.ts";

const SECRET = "pa:ss wörd:1";
const tempDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of tempDirs) Deno.removeSync(dir, { recursive: true });
});

function b64(text: string): string {
  return encodeBase64(text);
}

function auth(username: string, password: string): { auth: string } {
  return { auth: b64(`${username}:${password}`) };
}

const DIRECTORY = Symbol("directory");
/** Relative path → JSON value, raw text (string) or a directory. */
type Files = Record<string, unknown>;

const HELPERS: Record<string, string> = {
  found: `cat >/dev/null
printf '{"ServerURL":"x","Username":"helper-user","Secret":"helper-${SECRET}"}'`,
  echo: `url=$(cat)
printf '{"ServerURL":"%s","Username":"%s","Secret":"echo-secret"}' "$url" "$url"`,
  token: `cat >/dev/null
printf '{"ServerURL":"x","Username":"<token>","Secret":"refresh-token"}'`,
  notfound: `cat >/dev/null
echo "credentials not found in native keychain"
exit 1`,
  badjson: `cat >/dev/null
echo "{{ helper-output-secret"`,
  hang: `exec sleep 30`,
  count: `cat >/dev/null
echo run >> "$(dirname "$0")/count.log"
printf '{"ServerURL":"x","Username":"counted","Secret":"counted-secret"}'`,
};

async function makeTemp(files: Files): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "regkit-creds-" });
  tempDirs.push(tmp);
  for (const [relative, content] of Object.entries(files)) {
    const path = `${tmp}/${relative}`;
    if (content === DIRECTORY) {
      await Deno.mkdir(path, { recursive: true });
      continue;
    }
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (content instanceof Uint8Array) await Deno.writeFile(path, content);
    else {
      await Deno.writeTextFile(
        path,
        typeof content === "string" ? content : JSON.stringify(content),
      );
    }
  }
  await Deno.mkdir(`${tmp}/helpers`);
  for (const [name, body] of Object.entries(HELPERS)) {
    const path = `${tmp}/helpers/docker-credential-${name}`;
    await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(path, 0o755);
  }
  return tmp;
}

const DENIED = "!denied";

/** An injected env: `{tmp}` is replaced; `!denied` throws as Deno does without permission. */
function envFrom(tmp: string, vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => {
    const value = vars[name];
    if (value === DENIED) throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
    return value?.replaceAll("{tmp}", tmp);
  };
}

const FULL_ENV: Record<string, string> = {
  HOME: "{tmp}/home",
  XDG_RUNTIME_DIR: "{tmp}/run",
  XDG_CONFIG_HOME: "{tmp}/cfg",
  DOCKER_CONFIG: "{tmp}/dc",
};
const HOME_ONLY: Record<string, string> = { HOME: "{tmp}/home" };

type Expected =
  | { source: CredentialSource; kind: Credentials["kind"]; username?: string; secret: string }
  | "anonymous"
  | { error: "AUTH_FILE_INVALID" | "CREDENTIAL_HELPER_FAILED"; mentions: string[] }
  | { typeError: RegExp };

interface Case {
  name: string;
  files: Files;
  env?: Record<string, string>;
  reference?: string;
  options?: Partial<CredentialOptions>;
  expected: Expected;
}

const QUAY = "quay.io/org/app:1";
const RUN = "run/containers/auth.json";
const CFG = "cfg/containers/auth.json";
const HOME_CFG = "home/.config/containers/auth.json";
const DC = "dc/config.json";
const HOME_DOCKER = "home/.docker/config.json";
const LEGACY = "home/.dockercfg";

function basic(path: string, key: string, username: string, secret: string): Expected {
  return { source: { type: "file", path: `{tmp}/${path}`, key }, kind: "basic", username, secret };
}

const CASES: Case[] = [
  // --- explicit credentials
  {
    name: "explicit username/password win over every file",
    files: { [RUN]: { auths: { "quay.io": auth("file", "x") } } },
    env: FULL_ENV,
    options: { username: "me", password: SECRET },
    expected: { source: { type: "explicit" }, kind: "basic", username: "me", secret: SECRET },
  },
  {
    name: "username alone is a TypeError",
    files: {},
    options: { username: "me" },
    expected: { typeError: /"password"|both/ },
  },
  {
    name: "password alone is a TypeError",
    files: {},
    options: { password: SECRET },
    expected: { typeError: /both/ },
  },
  // --- each file in the order
  {
    name: "1: explicit authFile",
    files: { "explicit.json": { auths: { "quay.io": auth("explicit", "p1") } } },
    env: FULL_ENV,
    options: { authFile: "{tmp}/explicit.json" },
    expected: basic("explicit.json", "quay.io", "explicit", "p1"),
  },
  {
    name: "explicit authFile is the only file read",
    files: {
      "explicit.json": { auths: { "other.io": auth("o", "o") } },
      [RUN]: { auths: { "quay.io": auth("run", "x") } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } },
    },
    env: { ...FULL_ENV, REGISTRY_AUTH_FILE: "{tmp}/raf.json" },
    options: { authFile: "{tmp}/explicit.json" },
    expected: "anonymous",
  },
  {
    name: "explicit authFile wins over $REGISTRY_AUTH_FILE",
    files: {
      "explicit.json": { auths: { "quay.io": auth("explicit", "p1") } },
      "raf.json": { auths: { "quay.io": auth("raf", "p2") } },
    },
    env: { ...FULL_ENV, REGISTRY_AUTH_FILE: "{tmp}/raf.json" },
    options: { authFile: "{tmp}/explicit.json" },
    expected: basic("explicit.json", "quay.io", "explicit", "p1"),
  },
  {
    name: "2: $REGISTRY_AUTH_FILE",
    files: { "raf.json": { auths: { "quay.io": auth("raf", "p2") } } },
    env: { ...FULL_ENV, REGISTRY_AUTH_FILE: "{tmp}/raf.json" },
    expected: basic("raf.json", "quay.io", "raf", "p2"),
  },
  {
    name: "$REGISTRY_AUTH_FILE is the only file read",
    files: {
      "raf.json": { auths: {} },
      [RUN]: { auths: { "quay.io": auth("run", "x") } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } },
    },
    env: { ...FULL_ENV, REGISTRY_AUTH_FILE: "{tmp}/raf.json" },
    expected: "anonymous",
  },
  // #11 item 9 changed this case: a missing $REGISTRY_AUTH_FILE used to mean anonymous.
  {
    name: "a missing $REGISTRY_AUTH_FILE still excludes the others: it is an error",
    files: { [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } } },
    env: { ...FULL_ENV, REGISTRY_AUTH_FILE: "{tmp}/missing.json" },
    expected: {
      error: "AUTH_FILE_INVALID",
      mentions: ["{tmp}/missing.json", "$REGISTRY_AUTH_FILE", "does not exist"],
    },
  },
  {
    name: "3: ${XDG_RUNTIME_DIR}/containers/auth.json wins over later files",
    files: {
      [RUN]: { auths: { "quay.io": auth("run", "p3") } },
      [CFG]: { auths: { "quay.io": auth("cfg", "x") } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } },
    },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io", "run", "p3"),
  },
  {
    name: "4a: ${XDG_CONFIG_HOME}/containers/auth.json",
    files: {
      [CFG]: { auths: { "quay.io": auth("cfg", "p4") } },
      [HOME_CFG]: { auths: { "quay.io": auth("homecfg", "x") } },
    },
    env: FULL_ENV,
    expected: basic(CFG, "quay.io", "cfg", "p4"),
  },
  {
    name: "4b: ${HOME}/.config/containers/auth.json when XDG_CONFIG_HOME is unset",
    files: { [HOME_CFG]: { auths: { "quay.io": auth("homecfg", "p4b") } } },
    env: HOME_ONLY,
    expected: basic(HOME_CFG, "quay.io", "homecfg", "p4b"),
  },
  {
    name: "4c: ${HOME}/.config is not read when XDG_CONFIG_HOME is set",
    files: {
      [HOME_CFG]: { auths: { "quay.io": auth("homecfg", "x") } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "p5") } },
    },
    env: { HOME: "{tmp}/home", XDG_CONFIG_HOME: "{tmp}/cfg" },
    expected: basic(HOME_DOCKER, "quay.io", "docker", "p5"),
  },
  {
    name: "5a: ${DOCKER_CONFIG}/config.json",
    files: {
      [DC]: { auths: { "quay.io": auth("dc", "p5a") } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } },
    },
    env: FULL_ENV,
    expected: basic(DC, "quay.io", "dc", "p5a"),
  },
  {
    name: "5b: ${HOME}/.docker/config.json when DOCKER_CONFIG is unset",
    files: { [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "p5b") } } },
    env: HOME_ONLY,
    expected: basic(HOME_DOCKER, "quay.io", "docker", "p5b"),
  },
  {
    name: "5c: ${HOME}/.docker is not read when DOCKER_CONFIG is set",
    files: { [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } } },
    env: { HOME: "{tmp}/home", DOCKER_CONFIG: "{tmp}/dc" },
    expected: "anonymous",
  },
  {
    name: "6: legacy ${HOME}/.dockercfg (no auths wrapper)",
    files: { [LEGACY]: { "https://quay.io": { ...auth("legacy", "p6"), email: "a@b.c" } } },
    env: HOME_ONLY,
    expected: basic(LEGACY, "https://quay.io", "legacy", "p6"),
  },
  {
    name: "7: nothing anywhere is anonymous",
    files: {},
    env: FULL_ENV,
    expected: "anonymous",
  },
  {
    name: "nothing permitted at all is anonymous",
    files: { [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "x") } } },
    env: {},
    expected: "anonymous",
  },
  // --- unset, empty and unpermitted variables
  {
    name: "unpermitted XDG_* and DOCKER_CONFIG fall back to HOME",
    files: {
      [RUN]: { auths: { "quay.io": auth("run", "x") } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "p7") } },
    },
    env: {
      HOME: "{tmp}/home",
      XDG_RUNTIME_DIR: DENIED,
      XDG_CONFIG_HOME: DENIED,
      DOCKER_CONFIG: DENIED,
      REGISTRY_AUTH_FILE: DENIED,
    },
    expected: basic(HOME_DOCKER, "quay.io", "docker", "p7"),
  },
  {
    name: "empty variables are skipped",
    files: { [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "p8") } } },
    env: { HOME: "{tmp}/home", XDG_RUNTIME_DIR: "", REGISTRY_AUTH_FILE: "", DOCKER_CONFIG: "" },
    expected: basic(HOME_DOCKER, "quay.io", "docker", "p8"),
  },
  // --- keys
  {
    name: "namespaced key: host/a/b wins over host/a and host",
    files: {
      [RUN]: {
        auths: {
          "quay.io": auth("host", "x"),
          "quay.io/org": auth("org", "x"),
          "quay.io/org/app": auth("app", "p9"),
        },
      },
    },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io/org/app", "app", "p9"),
  },
  {
    name: "namespaced key: host/a wins over host",
    files: {
      [RUN]: { auths: { "quay.io": auth("host", "x"), "quay.io/org": auth("org", "p10") } },
    },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io/org", "org", "p10"),
  },
  {
    name: "namespaced key of another namespace does not match",
    files: {
      [RUN]: { auths: { "quay.io/other": auth("o", "x"), "quay.io": auth("host", "p11") } },
    },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io", "host", "p11"),
  },
  {
    name: "URL-form key https://host/",
    files: { [RUN]: { auths: { "https://quay.io/": auth("url", "p12") } } },
    env: FULL_ENV,
    expected: basic(RUN, "https://quay.io/", "url", "p12"),
  },
  {
    name: "exact key wins over a URL-form key",
    files: {
      [RUN]: { auths: { "http://quay.io": auth("url", "x"), "quay.io": auth("h", "p13") } },
    },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io", "h", "p13"),
  },
  {
    name: "docker.io: https://index.docker.io/v1/",
    files: { [HOME_DOCKER]: { auths: { "https://index.docker.io/v1/": auth("hub", "p14") } } },
    env: HOME_ONLY,
    reference: "ubuntu",
    expected: basic(HOME_DOCKER, "https://index.docker.io/v1/", "hub", "p14"),
  },
  {
    name: "docker.io: index.docker.io alias",
    files: { [RUN]: { auths: { "index.docker.io": auth("hub", "p15") } } },
    env: FULL_ENV,
    reference: "docker.io/library/alpine",
    expected: basic(RUN, "index.docker.io", "hub", "p15"),
  },
  {
    name: "docker.io: registry-1.docker.io alias",
    files: { [RUN]: { auths: { "registry-1.docker.io": auth("hub", "p16") } } },
    env: FULL_ENV,
    reference: "library/alpine",
    expected: basic(RUN, "registry-1.docker.io", "hub", "p16"),
  },
  {
    name: "docker.io: namespaced docker.io/library key",
    files: {
      [RUN]: {
        auths: { "docker.io": auth("hub", "x"), "docker.io/library": auth("l", "pw-library") },
      },
    },
    env: FULL_ENV,
    reference: "alpine",
    expected: basic(RUN, "docker.io/library", "l", "pw-library"),
  },
  {
    name: "registry with a port",
    files: {
      [RUN]: { auths: { "localhost:5000": auth("local", "p17"), "localhost": auth("x", "x") } },
    },
    env: FULL_ENV,
    reference: "localhost:5000/app:1",
    expected: basic(RUN, "localhost:5000", "local", "p17"),
  },
  // --- placeholders and files without auths
  {
    name: "{} placeholder is skipped; the next file is searched",
    files: {
      [RUN]: { auths: { "quay.io": {} } },
      [HOME_DOCKER]: { auths: { "quay.io": auth("docker", "p18") } },
    },
    env: { HOME: "{tmp}/home", XDG_RUNTIME_DIR: "{tmp}/run" },
    expected: basic(HOME_DOCKER, "quay.io", "docker", "p18"),
  },
  // #15 item 7 changed this case: it used to fall back to RUN's "quay.io" key.
  {
    name: "{} placeholder on the namespace: this file gives nothing, the next file is searched",
    files: {
      [RUN]: { auths: { "quay.io/org": {}, "quay.io": auth("host", "p19") } },
      [CFG]: { auths: { "quay.io": auth("cfg", "p19b") } },
    },
    env: FULL_ENV,
    expected: basic(CFG, "quay.io", "cfg", "p19b"),
  },
  {
    name: "{} placeholder on the namespace and no other file: anonymous",
    files: { [RUN]: { auths: { "quay.io/org": {}, "quay.io": auth("host", "p19") } } },
    env: FULL_ENV,
    expected: "anonymous",
  },
  {
    name: "entry with only a username is skipped",
    files: {
      [RUN]: { auths: { "quay.io": { username: "half" } } },
      [CFG]: { auths: { "quay.io": auth("cfg", "p20") } },
    },
    env: FULL_ENV,
    expected: basic(CFG, "quay.io", "cfg", "p20"),
  },
  {
    name: "file without auths is no entry, not a crash",
    files: {
      [RUN]: { credHelpers: {} },
      [CFG]: {},
      [DC]: " \n",
      [LEGACY]: { "quay.io": auth("legacy", "p21") },
    },
    env: FULL_ENV,
    expected: basic(LEGACY, "quay.io", "legacy", "p21"),
  },
  // --- entry formats
  {
    name: "password containing ':' and non-ASCII",
    files: { [RUN]: { auths: { "quay.io": auth("me", SECRET) } } },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io", "me", SECRET),
  },
  {
    name: "username/password fields",
    files: { [RUN]: { auths: { "quay.io": { username: "fields", password: SECRET } } } },
    env: FULL_ENV,
    expected: basic(RUN, "quay.io", "fields", SECRET),
  },
  {
    name: "identitytoken",
    files: {
      [HOME_DOCKER]: {
        auths: { "quay.io": { auth: b64("robot:"), identitytoken: "refresh-123" } },
      },
    },
    env: HOME_ONLY,
    expected: {
      source: { type: "file", path: `{tmp}/${HOME_DOCKER}`, key: "quay.io" },
      kind: "identityToken",
      username: "robot",
      secret: "refresh-123",
    },
  },
  {
    name: "registrytoken",
    files: { [HOME_DOCKER]: { auths: { "quay.io": { registrytoken: "bearer-456" } } } },
    env: HOME_ONLY,
    expected: {
      source: { type: "file", path: `{tmp}/${HOME_DOCKER}`, key: "quay.io" },
      kind: "registryToken",
      secret: "bearer-456",
    },
  },
  // --- credential helpers (real executables)
  {
    name: "credHelpers[host]",
    files: { [HOME_DOCKER]: { credHelpers: { "quay.io": "found" } } },
    env: HOME_ONLY,
    expected: {
      source: { type: "helper", path: `{tmp}/${HOME_DOCKER}`, key: "quay.io", helper: "found" },
      kind: "basic",
      username: "helper-user",
      secret: `helper-${SECRET}`,
    },
  },
  {
    name: "credHelpers namespace key wins over the host key",
    files: {
      [HOME_DOCKER]: { credHelpers: { "quay.io": "notfound", "quay.io/org": "found" } },
    },
    env: HOME_ONLY,
    expected: {
      source: {
        type: "helper",
        path: `{tmp}/${HOME_DOCKER}`,
        key: "quay.io/org",
        helper: "found",
      },
      kind: "basic",
      username: "helper-user",
      secret: `helper-${SECRET}`,
    },
  },
  {
    name: "credHelpers: the server URL is the host",
    files: { [HOME_DOCKER]: { credHelpers: { "quay.io": "echo" } } },
    env: HOME_ONLY,
    expected: {
      source: { type: "helper", path: `{tmp}/${HOME_DOCKER}`, key: "quay.io", helper: "echo" },
      kind: "basic",
      username: "quay.io",
      secret: "echo-secret",
    },
  },
  {
    name: "credsStore: docker.io is asked as https://index.docker.io/v1/",
    files: {
      [HOME_DOCKER]: { auths: { "https://index.docker.io/v1/": {} }, credsStore: "echo" },
    },
    env: HOME_ONLY,
    reference: "alpine",
    expected: {
      source: { type: "helper", path: `{tmp}/${HOME_DOCKER}`, helper: "echo" },
      kind: "basic",
      username: "https://index.docker.io/v1/",
      secret: "echo-secret",
    },
  },
  {
    name: "helper answering <token> gives an identity token",
    files: { [HOME_DOCKER]: { credsStore: "token" } },
    env: HOME_ONLY,
    expected: {
      source: { type: "helper", path: `{tmp}/${HOME_DOCKER}`, helper: "token" },
      kind: "identityToken",
      secret: "refresh-token",
    },
  },
  {
    name: "helper 'credentials not found' falls through to the file's auths",
    files: {
      [HOME_DOCKER]: {
        credHelpers: { "quay.io": "notfound" },
        auths: { "quay.io": auth("inline", "p22") },
      },
    },
    env: HOME_ONLY,
    expected: basic(HOME_DOCKER, "quay.io", "inline", "p22"),
  },
  {
    name: "credsStore 'credentials not found' keeps looking in later files",
    files: {
      [DC]: { auths: { "quay.io": {} }, credsStore: "notfound" },
      [LEGACY]: { "quay.io": auth("legacy", "p23") },
    },
    env: { HOME: "{tmp}/home", DOCKER_CONFIG: "{tmp}/dc" },
    expected: basic(LEGACY, "quay.io", "legacy", "p23"),
  },
  {
    name: "missing helper binary is CREDENTIAL_HELPER_FAILED",
    files: { [HOME_DOCKER]: { credHelpers: { "quay.io": "missing" } } },
    env: HOME_ONLY,
    expected: { error: "CREDENTIAL_HELPER_FAILED", mentions: ["docker-credential-missing"] },
  },
  {
    name: "helper with a bad answer is CREDENTIAL_HELPER_FAILED",
    files: { [HOME_DOCKER]: { credHelpers: { "quay.io": "badjson" } } },
    env: HOME_ONLY,
    expected: { error: "CREDENTIAL_HELPER_FAILED", mentions: ["docker-credential-badjson"] },
  },
  {
    name: "hanging helper is killed after helperTimeoutMs",
    files: { [HOME_DOCKER]: { credsStore: "hang" } },
    env: HOME_ONLY,
    options: { helperTimeoutMs: 100 },
    expected: { error: "CREDENTIAL_HELPER_FAILED", mentions: ["docker-credential-hang", "100 ms"] },
  },
  // --- bad input
  ...badInputCases(),
];

function badInputCases(): Case[] {
  const entry = (value: unknown): Files => ({ [RUN]: { auths: { "quay.io": value } } });
  const cases: Array<[string, Files, string]> = [
    ["malformed JSON", { [RUN]: `{"auths": {"quay.io": {"auth": "${b64("me:" + SECRET)}"` }, ""],
    ["top level is an array", { [RUN]: `[${JSON.stringify(auth("me", SECRET))}]` }, ""],
    ["auths is not an object", { [RUN]: { auths: [auth("me", SECRET)] } }, ""],
    ["auths is a string", { [RUN]: { auths: b64(`me:${SECRET}`) } }, ""],
    ["entry is not an object", entry(b64(`me:${SECRET}`)), "quay.io"],
    ["invalid base64", entry({ auth: `${SECRET}!!` }), "quay.io"],
    [
      "auth is not UTF-8",
      entry({ auth: encodeBase64(new Uint8Array([0xff, 0xfe, 0x3a])) }),
      "quay.io",
    ],
    ["auth without ':'", entry({ auth: b64(`me${SECRET.replaceAll(":", "")}`) }), "quay.io"],
    ["non-string auth", entry({ auth: 12345 }), "quay.io"],
    ["non-string password", entry({ username: "me", password: ["x", SECRET] }), "quay.io"],
    ["non-string identitytoken", entry({ identitytoken: { t: SECRET } }), "quay.io"],
    ["credHelpers is not an object", { [RUN]: { credHelpers: "found" } }, ""],
    [
      "credHelpers value is not a name",
      { [RUN]: { credHelpers: { "quay.io": "../x" } } },
      "quay.io",
    ],
    ["credsStore is not a string", { [RUN]: { credsStore: 5 } }, ""],
    ["bad entry for another registry", {
      [RUN]: { auths: { "other.io": { auth: `${SECRET}` }, "quay.io": auth("me", "ok") } },
    }, "other.io"],
    ["a directory where the file should be", { [RUN]: DIRECTORY }, ""],
    ["file content is not UTF-8", { [RUN]: new Uint8Array([0x7b, 0xff, 0x7d]) }, ""],
    ["legacy file with a bad entry", { [LEGACY]: { "quay.io": { auth: SECRET } } }, "quay.io"],
  ];
  return cases.map(([name, files, key]) => ({
    name: `AUTH_FILE_INVALID: ${name}`,
    files,
    env: name.startsWith("legacy") ? HOME_ONLY : FULL_ENV,
    expected: {
      error: "AUTH_FILE_INVALID",
      mentions: [name.startsWith("legacy") ? `{tmp}/${LEGACY}` : `{tmp}/${RUN}`, key],
    },
  }));
}

/** Every secret-looking fixture value, to check errors and logs for leaks. */
const FIXTURE_SECRETS = [
  SECRET,
  b64(`me:${SECRET}`),
  "helper-output-secret",
  `helper-${SECRET}`,
  "refresh-123",
  "bearer-456",
];

Deno.test("resolveCredentials() and explainCredentials() scenarios", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const tmp = await makeTemp(c.files);
      const records: LogRecord[] = [];
      const options: CredentialOptions = {
        env: envFrom(tmp, c.env ?? {}),
        runHelper: (helper, url, o) =>
          runCredentialHelper(helper, url, { ...o, path: `${tmp}/helpers` }),
        logger: new Logger("DEBUG", (r) => records.push(r)),
        ...c.options,
      };
      if (options.authFile !== undefined) {
        options.authFile = options.authFile.replaceAll("{tmp}", tmp);
      }
      const reference = c.reference ?? QUAY;
      const expected = c.expected;
      const fill = (s: string) => s.replaceAll("{tmp}", tmp);

      if (typeof expected === "object" && "typeError" in expected) {
        await assert.rejects(resolveCredentials(reference, options), (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.match(e.message, expected.typeError);
          assert.ok(!e.message.includes(SECRET));
          return true;
        });
        return;
      }
      if (typeof expected === "object" && "error" in expected) {
        for (const run of [resolveCredentials, explainCredentials]) {
          await assert.rejects(run(reference, options), (e: unknown) => {
            assert.ok(e instanceof RegistryError, String(e));
            assert.equal(e.code, expected.error);
            for (const part of expected.mentions) {
              assert.ok(e.message.includes(fill(part)), e.message);
            }
            const text = e.message + String(e.cause ?? "") + JSON.stringify(records);
            for (const secret of FIXTURE_SECRETS) {
              assert.ok(!text.includes(secret), `leaked ${secret}: ${e.message}`);
            }
            return true;
          });
        }
        return;
      }
      const resolved = await resolveCredentials(reference, options);
      const explanation = await explainCredentials(reference, options);
      if (expected === "anonymous") {
        assert.equal(resolved, undefined);
        assert.deepEqual(explanation.source, { type: "anonymous" });
        assert.equal(explanation.kind, undefined);
      } else {
        assert.ok(resolved !== undefined);
        const source = { ...expected.source };
        if (source.path !== undefined) source.path = fill(source.path);
        assert.deepEqual(resolved.source, source);
        assert.equal(resolved.credentials.kind, expected.kind);
        assert.equal(resolved.credentials.username, expected.username);
        assert.equal(resolved.credentials.secret, expected.secret);
        assert.deepEqual(explanation.source, source);
        assert.equal(explanation.kind, expected.kind);
        assert.equal(explanation.username, expected.username);
        // Nothing secret in the explanation or the log.
        const text = JSON.stringify(explanation) + JSON.stringify(records) +
          JSON.stringify(resolved) + Deno.inspect(resolved) + String(resolved.credentials);
        assert.ok(!text.includes(expected.secret), `secret leaked: ${text}`);
      }
      assert.equal(explanation.registry, parseReference(reference).registry);
      // Every skipped candidate is logged at DEBUG; no env value is logged.
      for (const skipped of explanation.skipped) {
        assert.ok(
          records.some((r) => r.level === "DEBUG" && r.message.includes(skipped.reason)),
          `not logged: ${skipped.reason}`,
        );
      }
      for (const record of records) {
        for (const secret of FIXTURE_SECRETS) assert.ok(!record.message.includes(secret));
      }
    });
  }
});

Deno.test("explainCredentials() lists read files and skipped candidates with reasons", async () => {
  const tmp = await makeTemp({
    [HOME_DOCKER]: { auths: { "quay.io": auth("docker", SECRET) } },
  });
  const env = envFrom(tmp, {
    HOME: "{tmp}/home",
    XDG_RUNTIME_DIR: DENIED,
    DOCKER_CONFIG: "",
  });
  const explanation = await explainCredentials(QUAY, { env });
  assert.deepEqual(explanation.searched, [`${tmp}/${HOME_DOCKER}`]);
  assert.deepEqual(explanation.skipped, [
    { candidate: "${REGISTRY_AUTH_FILE}", reason: "$REGISTRY_AUTH_FILE is unset or empty" },
    {
      candidate: "${XDG_RUNTIME_DIR}/containers/auth.json",
      reason: "$XDG_RUNTIME_DIR is not permitted (--allow-env)",
    },
    {
      candidate: "${XDG_CONFIG_HOME}/containers/auth.json",
      reason: "$XDG_CONFIG_HOME is unset or empty",
    },
    { candidate: `${tmp}/${HOME_CFG}`, reason: "the file does not exist" },
    { candidate: "${DOCKER_CONFIG}/config.json", reason: "$DOCKER_CONFIG is unset or empty" },
  ]);
  assert.deepEqual(explanation, {
    reference: "quay.io/org/app:1",
    registry: "quay.io",
    source: { type: "file", path: `${tmp}/${HOME_DOCKER}`, key: "quay.io" },
    kind: "basic",
    username: "docker",
    searched: explanation.searched,
    skipped: explanation.skipped,
  });
  assert.ok(!JSON.stringify(explanation).includes(SECRET));
});

Deno.test("explainCredentials() says when a {} placeholder stops a file", async () => {
  const tmp = await makeTemp({
    [RUN]: { auths: { "quay.io/org": {}, "quay.io": auth("host", SECRET) } },
    [HOME_DOCKER]: {
      auths: { "quay.io/org/app": { username: "half" }, "quay.io": auth("d", "x") },
    },
  });
  const explanation = await explainCredentials(QUAY, {
    env: envFrom(tmp, { HOME: "{tmp}/home", XDG_RUNTIME_DIR: "{tmp}/run" }),
  });
  assert.deepEqual(explanation.source, { type: "anonymous" });
  assert.deepEqual(explanation.searched, [`${tmp}/${RUN}`, `${tmp}/${HOME_DOCKER}`]);
  const reasons = explanation.skipped.filter((s) => s.candidate.startsWith(tmp));
  assert.deepEqual(reasons.filter((s) => s.reason.includes("this file")), [
    {
      candidate: `${tmp}/${RUN}`,
      reason: '`{}` at "quay.io/org": this file gives no credentials for "quay.io/org/app"',
    },
    {
      candidate: `${tmp}/${HOME_DOCKER}`,
      reason:
        'an entry without credentials at "quay.io/org/app": this file gives no credentials for "quay.io/org/app"',
    },
  ]);
  assert.ok(!JSON.stringify(explanation).includes(SECRET));
});

Deno.test("resolveCredentials() searches the injected OS's files", async (t) => {
  const cases: Array<{
    os: typeof Deno.build.os;
    env: Record<string, string>;
    read: string[];
  }> = [
    {
      os: "linux",
      env: { HOME: "/home/me", XDG_RUNTIME_DIR: "/run/user/1" },
      read: [
        "/run/user/1/containers/auth.json",
        "/home/me/.config/containers/auth.json",
        "/home/me/.docker/config.json",
        "/home/me/.dockercfg",
      ],
    },
    {
      os: "darwin",
      env: { HOME: "/Users/me", XDG_RUNTIME_DIR: "/run/user/1" },
      read: [
        "/Users/me/.config/containers/auth.json",
        "/Users/me/.docker/config.json",
        "/Users/me/.dockercfg",
      ],
    },
    {
      os: "windows",
      env: { USERPROFILE: "C:\\Users\\me", HOME: "/unused", XDG_RUNTIME_DIR: "/run/user/1" },
      read: [
        "C:\\Users\\me\\.config\\containers\\auth.json",
        "C:\\Users\\me\\.docker\\config.json",
        "C:\\Users\\me\\.dockercfg",
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.os, async () => {
      const read: string[] = [];
      const resolved = await resolveCredentials(QUAY, {
        env: (name) => c.env[name],
        os: c.os,
        readTextFile: (path) => {
          read.push(path);
          if (path === c.read.at(-2)) {
            return Promise.resolve(JSON.stringify({ auths: { "quay.io": auth("me", SECRET) } }));
          }
          return Promise.reject(new Deno.errors.NotFound(path));
        },
      });
      assert.deepEqual(resolved?.source, { type: "file", path: c.read.at(-2), key: "quay.io" });
      assert.deepEqual(read, c.read.slice(0, -1));
    });
  }
});

Deno.test("resolveCredentials() asks a credential helper once for many repositories", async () => {
  const tmp = await makeTemp({
    [HOME_DOCKER]: { credHelpers: { "quay.io": "count" }, credsStore: "count" },
  });
  const options: CredentialOptions = {
    env: envFrom(tmp, HOME_ONLY),
    runHelper: (helper, url, o) =>
      runCredentialHelper(helper, url, { ...o, path: `${tmp}/helpers` }),
  };
  const repositories = Array.from({ length: 50 }, (_, i) => `quay.io/org/app-${i}:1`);
  const resolved = await Promise.all(repositories.map((r) => resolveCredentials(r, options)));
  for (const r of resolved) assert.equal(r?.credentials.username, "counted");
  for (const r of repositories.slice(0, 5)) await resolveCredentials(r, options);
  await resolveCredentials("ghcr.io/x/y", options); // credsStore, another server URL
  const runs = (await Deno.readTextFile(`${tmp}/helpers/count.log`)).trim().split("\n");
  assert.equal(runs.length, 2, "one run for quay.io, one for ghcr.io");
});

Deno.test("resolveCredentials() fails on an explicitly named auth file it cannot read", async (t) => {
  const tmp = await makeTemp({ [HOME_DOCKER]: { auths: { "quay.io": auth("home", SECRET) } } });
  const missing = `${tmp}/missing.json`;
  const cases: Array<[string, CredentialOptions, string[]]> = [
    ["authFile option", { authFile: missing, env: envFrom(tmp, HOME_ONLY) }, [
      missing,
      "--authfile",
    ]],
    [
      "$REGISTRY_AUTH_FILE",
      { env: envFrom(tmp, { ...HOME_ONLY, REGISTRY_AUTH_FILE: missing }) },
      [missing, "$REGISTRY_AUTH_FILE"],
    ],
    [
      "injected readTextFile",
      {
        authFile: "/run/secrets/auth.json",
        readTextFile: (path) => Promise.reject(new Deno.errors.NotFound(path)),
      },
      ["/run/secrets/auth.json", "does not exist"],
    ],
    [
      "not permitted (injected reader)",
      {
        authFile: "/run/secrets/auth.json",
        readTextFile: (path) => Promise.reject(new Deno.errors.NotCapable(path)),
      },
      ["/run/secrets/auth.json", "--allow-read"],
    ],
  ];
  for (const [name, options, mentions] of cases) {
    await t.step(name, async () => {
      for (const run of [resolveCredentials, explainCredentials]) {
        await assert.rejects(run(QUAY, options), (e: unknown) => {
          assert.ok(e instanceof RegistryError, String(e));
          assert.equal(e.code, "AUTH_FILE_INVALID");
          for (const m of mentions) assert.ok(e.message.includes(m), e.message);
          return true;
        });
      }
    });
  }
  await t.step("implicit candidates that are missing are still skipped", async () => {
    const resolved = await resolveCredentials(QUAY, { env: envFrom(tmp, HOME_ONLY) });
    assert.equal(resolved?.source.path, `${tmp}/${HOME_DOCKER}`);
  });
});

Deno.test("resolveCredentials() reads only regular auth files of bounded size", async (t) => {
  const tmp = await makeTemp({
    "big.json": JSON.stringify({ auths: {} }) + " ".repeat(5 << 20),
    [HOME_DOCKER]: { auths: { "quay.io": auth("home", SECRET) } },
  });
  const expectInvalid = async (options: CredentialOptions, detail: RegExp) => {
    await assert.rejects(resolveCredentials(QUAY, options), (e: unknown) => {
      assert.ok(e instanceof RegistryError, String(e));
      assert.equal(e.code, "AUTH_FILE_INVALID");
      assert.match(e.message, detail);
      return true;
    });
  };
  await t.step("a character device", async () => {
    await expectInvalid({ authFile: "/dev/null" }, /"\/dev\/null".*not a regular file/);
  });
  await t.step("a file larger than the cap", async () => {
    await expectInvalid({ authFile: `${tmp}/big.json` }, /larger than/);
  });
  await t.step("an implicit candidate that is too large is an error, not a skip", async () => {
    await Deno.copyFile(`${tmp}/big.json`, `${tmp}/home/.dockercfg`);
    await Deno.remove(`${tmp}/${HOME_DOCKER}`);
    await expectInvalid({ env: envFrom(tmp, HOME_ONLY) }, /\.dockercfg.*larger than/);
  });
  await t.step({
    name: "a FIFO is refused without waiting for a writer",
    ignore: Deno.build.os === "windows",
    fn: async () => {
      const fifo = `${tmp}/fifo.json`;
      const mkfifo = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(mkfifo.success);
      // A writer, so that a reader that opens the FIFO gets "{}" instead of hanging.
      const writer = new Deno.Command("sh", {
        args: ["-c", `printf '{}' > "$0"`, fifo],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await expectInvalid({ authFile: fifo }, /not a regular file/);
      } finally {
        try {
          writer.kill("SIGKILL");
        } catch {
          // it finished: the FIFO was read
        }
        await writer.status;
      }
    },
  });
});

Deno.test("resolveCredentials() uses an injected readTextFile without permission queries", async () => {
  const read: string[] = [];
  const resolved = await resolveCredentials(parseReference("quay.io/org/app"), {
    env: (name) => name === "HOME" ? "/nonexistent-home" : undefined,
    readTextFile: (path) => {
      read.push(path);
      if (path === "/nonexistent-home/.docker/config.json") {
        return Promise.resolve(JSON.stringify({ auths: { "quay.io": auth("me", SECRET) } }));
      }
      return Promise.reject(new Deno.errors.NotFound(path));
    },
  });
  assert.equal(resolved?.credentials.secret, SECRET);
  assert.deepEqual(read, [
    "/nonexistent-home/.config/containers/auth.json",
    "/nonexistent-home/.docker/config.json",
  ]);
});

Deno.test("resolveCredentials() accepts a Repository and rejects a bad helperTimeoutMs", async () => {
  const repo = parseReference("quay.io/org/app").repo;
  assert.equal(await resolveCredentials(repo, { env: () => undefined }), undefined);
  await assert.rejects(
    resolveCredentials(repo, { env: () => undefined, helperTimeoutMs: 0 }),
    RangeError,
  );
  await assert.rejects(
    resolveCredentials("Not A Reference", { env: () => undefined }),
    (e: unknown) => e instanceof RegistryError && e.code === "INVALID_REFERENCE",
  );
});

Deno.test("Credentials redact themselves", async (t) => {
  const cases: Array<[string, Credentials]> = [
    ["basic", Credentials.basic("me", SECRET)],
    ["identityToken", Credentials.identityToken(SECRET, "robot")],
    ["registryToken", Credentials.registryToken(SECRET)],
  ];
  for (const [kind, credentials] of cases) {
    await t.step(kind, () => {
      assert.equal(credentials.kind, kind);
      assert.equal(credentials.secret, SECRET);
      for (
        const text of [
          JSON.stringify(credentials),
          JSON.stringify({ nested: [credentials] }),
          String(credentials),
          `${credentials}`,
          Deno.inspect(credentials),
          Deno.inspect({ credentials }, { depth: 5, showHidden: true }),
          Object.keys(credentials).join(),
        ]
      ) {
        assert.ok(!text.includes(SECRET), text);
      }
      assert.match(String(credentials), /REDACTED/);
    });
  }
  await t.step("constructors validate", () => {
    assert.throws(() => Credentials.basic("", "x"), TypeError);
    assert.throws(() => Credentials.identityToken(""), TypeError);
    assert.throws(() => Credentials.registryToken(""), TypeError);
  });
});

Deno.test("resolveCredentials() with credentialsFor uses explicit credentials for that registry only", async () => {
  const auth = { auths: { "ghcr.io": { auth: btoa("bob:bobpw") } } };
  const options = {
    username: "alice",
    password: "alicepw",
    credentialsFor: "Quay.io",
    authFile: "/run/auth.json",
    readTextFile: () => Promise.resolve(JSON.stringify(auth)),
  };
  const quay = await resolveCredentials("quay.io/org/app:1", options);
  assert.deepEqual(quay?.source, { type: "explicit" });
  assert.equal(quay?.credentials.username, "alice");
  const ghcr = await resolveCredentials("ghcr.io/org/app:1", options);
  assert.deepEqual(ghcr?.source, { type: "file", path: "/run/auth.json", key: "ghcr.io" });
  assert.equal(ghcr?.credentials.username, "bob");
  assert.equal(await resolveCredentials("docker.io/library/alpine", options), undefined);
  const hub = await resolveCredentials("alpine", { ...options, credentialsFor: "index.docker.io" });
  assert.equal(hub?.credentials.username, "alice");
  await assert.rejects(
    () => resolveCredentials("alpine", { credentialsFor: "quay.io" }),
    TypeError,
  );
  for (const bad of ["quay.io/org", "https://quay.io", "not a host"]) {
    await assert.rejects(
      () => resolveCredentials("alpine", { ...options, credentialsFor: bad }),
      RangeError,
    );
  }
});
