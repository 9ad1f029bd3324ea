import assert from "node:assert/strict";
import {
  AUTH_FILES,
  candidateAuthFiles,
  defaultLoginAuthFile,
  expandPath,
  permittedEnv,
} from "./auth_paths.ts";

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

Deno.test("candidateAuthFiles() lists each OS's search order", async (t) => {
  const linuxVars = { HOME: "/h", XDG_RUNTIME_DIR: "/run/1", USERPROFILE: "C:\\Users\\me" };
  const cases: Array<{
    os: typeof Deno.build.os;
    vars: Record<string, string>;
    candidates: Array<[pattern: string, path: string | undefined]>;
  }> = [
    {
      os: "linux",
      vars: linuxVars,
      candidates: [
        ["${REGISTRY_AUTH_FILE}", undefined],
        ["${XDG_RUNTIME_DIR}/containers/auth.json", "/run/1/containers/auth.json"],
        ["${XDG_CONFIG_HOME}/containers/auth.json", undefined],
        ["${HOME}/.config/containers/auth.json", "/h/.config/containers/auth.json"],
        ["${DOCKER_CONFIG}/config.json", undefined],
        ["${HOME}/.docker/config.json", "/h/.docker/config.json"],
        ["${HOME}/.dockercfg", "/h/.dockercfg"],
      ],
    },
    {
      // containers-auth.json(5): the primary file is $HOME/.config/containers/auth.json
      // on macOS; XDG_RUNTIME_DIR is not used there.
      os: "darwin",
      vars: linuxVars,
      candidates: [
        ["${REGISTRY_AUTH_FILE}", undefined],
        ["${HOME}/.config/containers/auth.json", "/h/.config/containers/auth.json"],
        ["${XDG_CONFIG_HOME}/containers/auth.json", undefined],
        ["${HOME}/.config/containers/auth.json", undefined], // same file as the primary
        ["${DOCKER_CONFIG}/config.json", undefined],
        ["${HOME}/.docker/config.json", "/h/.docker/config.json"],
        ["${HOME}/.dockercfg", "/h/.dockercfg"],
      ],
    },
    {
      os: "freebsd",
      vars: { HOME: "/h", XDG_CONFIG_HOME: "/c", DOCKER_CONFIG: "/d" },
      candidates: [
        ["${REGISTRY_AUTH_FILE}", undefined],
        ["${HOME}/.config/containers/auth.json", "/h/.config/containers/auth.json"],
        ["${XDG_CONFIG_HOME}/containers/auth.json", "/c/containers/auth.json"],
        ["${HOME}/.config/containers/auth.json", undefined],
        ["${DOCKER_CONFIG}/config.json", "/d/config.json"],
        ["${HOME}/.docker/config.json", undefined],
        ["${HOME}/.dockercfg", "/h/.dockercfg"],
      ],
    },
    {
      // docker: %USERPROFILE%\.docker\config.json (os.UserHomeDir); podman:
      // containers/storage homedir.Get() is %USERPROFILE% too.
      os: "windows",
      vars: { ...linuxVars, HOME: "/not/used/on/windows", DOCKER_CONFIG: "D:/docker/" },
      candidates: [
        ["${REGISTRY_AUTH_FILE}", undefined],
        [
          "${USERPROFILE}\\.config\\containers\\auth.json",
          "C:\\Users\\me\\.config\\containers\\auth.json",
        ],
        ["${XDG_CONFIG_HOME}\\containers\\auth.json", undefined],
        ["${USERPROFILE}\\.config\\containers\\auth.json", undefined],
        ["${DOCKER_CONFIG}\\config.json", "D:\\docker\\config.json"],
        ["${USERPROFILE}\\.docker\\config.json", undefined],
        ["${USERPROFILE}\\.dockercfg", "C:\\Users\\me\\.dockercfg"],
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.os, () => {
      const candidates = candidateAuthFiles({ env: envOf(c.vars), os: c.os });
      assert.deepEqual(candidates.map((x) => [x.pattern, x.path]), c.candidates);
      assert.equal(candidates.at(-1)?.legacy, true);
      for (const x of candidates) assert.ok((x.path === undefined) !== (x.skipped === undefined));
    });
  }
  await t.step("windows: an unpermitted %USERPROFILE% skips its candidates", () => {
    const candidates = candidateAuthFiles({
      env: envOf({ USERPROFILE: "!denied", DOCKER_CONFIG: "C:\\d" }),
      os: "windows",
    });
    assert.deepEqual(candidates.flatMap((x) => x.path ?? []), ["C:\\d\\config.json"]);
    assert.equal(
      candidates.filter((x) => x.skipped === "$USERPROFILE is not permitted (--allow-env)").length,
      3,
    );
  });
  await t.step("$REGISTRY_AUTH_FILE is used literally and exclusively on every OS", () => {
    for (const os of ["linux", "darwin", "windows"] as const) {
      const candidates = candidateAuthFiles({
        env: envOf({ REGISTRY_AUTH_FILE: "C:/a//b.json", HOME: "/h", USERPROFILE: "C:\\u" }),
        os,
      });
      assert.deepEqual(candidates.map((x) => x.path), ["C:/a//b.json"]);
    }
  });
  await t.step("paths are joined and normalised", () => {
    const candidates = candidateAuthFiles({ env: envOf({ HOME: "/h/", DOCKER_CONFIG: "/d//" }) });
    assert.ok(candidates.some((x) => x.path === "/d/config.json"));
    assert.ok(candidates.some((x) => x.path === "/h/.dockercfg"));
  });
  await t.step("an unknown os is a TypeError", () => {
    assert.throws(
      () => candidateAuthFiles({ os: "plan9" as typeof Deno.build.os }),
      TypeError,
    );
  });
  await t.step("defaultLoginAuthFile() follows the OS", () => {
    const env = envOf({ HOME: "/h", XDG_RUNTIME_DIR: "/run/1", USERPROFILE: "C:\\u" });
    assert.equal(defaultLoginAuthFile({ env, os: "linux" }), "/run/1/containers/auth.json");
    assert.equal(defaultLoginAuthFile({ env, os: "darwin" }), "/h/.config/containers/auth.json");
    assert.equal(
      defaultLoginAuthFile({ env, os: "windows" }),
      "C:\\u\\.config\\containers\\auth.json",
    );
  });
});
