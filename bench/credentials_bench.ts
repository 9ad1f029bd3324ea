/**
 * `deno bench` for credential resolution over a realistic auth file: 50
 * `auths` entries with namespaced keys (`quay.io/org7/team`), URL forms and a
 * Docker Hub entry, read through an injected `readTextFile` and `env` (no disk,
 * no `Deno.env`). Each `resolveCredentials` call reads and parses the file, as
 * the library does per repository.
 *
 * @module
 */

import { resolveCredentials } from "../mod.ts";

function auth(user: string, password: string): { auth: string } {
  return { auth: btoa(`${user}:${password}`) };
}

/** 50 entries: namespaced quay keys, plain hosts, URL forms, Docker Hub. */
function makeConfig(): string {
  const auths: Record<string, { auth: string }> = {};
  for (let i = 0; i < 20; i++) auths[`quay.io/org${i}`] = auth(`robot${i}`, `pw-${i}`);
  for (let i = 0; i < 10; i++) auths[`quay.io/org${i}/team`] = auth(`team${i}`, `pw-t${i}`);
  for (let i = 0; i < 10; i++) {
    auths[`registry${i}.example.com:5000`] = auth(`ci${i}`, `pw-r${i}`);
  }
  for (let i = 0; i < 9; i++) {
    auths[`https://mirror${i}.example.net/v1/`] = auth(`m${i}`, `pw-m${i}`);
  }
  auths["https://index.docker.io/v1/"] = auth("hubuser", "hub:pass");
  return JSON.stringify({ auths }, null, 2);
}

const CONFIG = makeConfig();
const HOME = "/home/bench";
const DOCKER_CONFIG_PATH = `${HOME}/.docker/config.json`;

const env = (name: string): string | undefined =>
  ({ HOME, XDG_RUNTIME_DIR: "/run/user/1000" } as Record<string, string | undefined>)[name];

/** Only `~/.docker/config.json` exists: the podman paths before it are misses. */
const readTextFile = (path: string): Promise<string> =>
  path === DOCKER_CONFIG_PATH
    ? Promise.resolve(CONFIG)
    : Promise.reject(new Deno.errors.NotFound(path));

const explicitFile = {
  authFile: "/run/secrets/auth.json",
  env,
  readTextFile: () => Promise.resolve(CONFIG),
};
const search = { env, readTextFile };

Deno.bench({
  name: "resolveCredentials: --authfile, namespaced key (quay.io/org7/team)",
  group: "credentials",
  baseline: true,
  async fn() {
    const r = await resolveCredentials("quay.io/org7/team/app:1", explicitFile);
    if (r?.source.key !== "quay.io/org7/team") throw new Error("wrong key");
  },
});

Deno.bench({
  name: "resolveCredentials: --authfile, host key with port",
  group: "credentials",
  async fn() {
    const r = await resolveCredentials("registry9.example.com:5000/x/y:z", explicitFile);
    if (r?.source.key !== "registry9.example.com:5000") throw new Error("wrong key");
  },
});

Deno.bench({
  name: "resolveCredentials: --authfile, URL-form key (mirror)",
  group: "credentials",
  async fn() {
    const r = await resolveCredentials("mirror8.example.net/lib/app:1", explicitFile);
    if (r === undefined) throw new Error("not found");
  },
});

Deno.bench({
  name: "resolveCredentials: --authfile, no entry (anonymous)",
  group: "credentials",
  async fn() {
    const r = await resolveCredentials("ghcr.io/owner/app:1", explicitFile);
    if (r !== undefined) throw new Error("unexpected credentials");
  },
});

Deno.bench({
  name: "resolveCredentials: AUTH_FILES search (podman paths miss), Docker Hub",
  group: "credentials",
  async fn() {
    const r = await resolveCredentials("ubuntu:24.04", search);
    if (r?.source.key !== "https://index.docker.io/v1/") throw new Error("wrong key");
  },
});
