/**
 * Auth-file keys: how an entry or a credential helper of a parsed auth file
 * is looked up for an image reference, most specific key first, with docker's
 * URL forms and Docker Hub aliases (containers-auth.json(5), then docker).
 *
 * @module
 */

import type { AuthFileContent, Credentials } from "./auth_file.ts";
import { DOCKER_HUB_REGISTRY, type Repository } from "./reference.ts";

const DOCKER_HUB_KEY_ALIASES: ReadonlySet<string> = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
]);

/**
 * The `host[:port]` of a key in URL form, as docker's `ConvertToHostname`
 * finds it: any scheme, the path, query and user info dropped; an
 * unbracketed IPv6 address followed by a port (`https://::1:6555/v2/`) is
 * split at its last `:`. A bracketed IPv6 host keeps its brackets (docker
 * drops them when there is no port), the form regkit names registries in.
 */
function urlKeyHost(key: string): string {
  const rest = key.slice(key.indexOf("://") + 3);
  let authority = rest.split(/[/?#]/, 1)[0];
  authority = authority.slice(authority.lastIndexOf("@") + 1);
  // No host (`unix:///var/run/docker.sock`): docker keeps what is before the first "/".
  if (authority === "") return key.split("/", 1)[0];
  if (authority.startsWith("[")) return authority;
  const colon = authority.lastIndexOf(":");
  if (colon !== authority.indexOf(":")) {
    const address = authority.slice(0, colon);
    const port = authority.slice(colon + 1);
    return address !== "" && /^[0-9]+$/.test(port) ? `[${address}]:${port}` : authority;
  }
  return colon === authority.length - 1 ? authority.slice(0, -1) : authority;
}

/**
 * Normalizes an auth-file key to the form {@linkcode candidateKeys} yields:
 * a key in URL form (`https://host/any/path`, `http://host:5000/v2/`,
 * `ftp://host`) names its host only, as in docker and containers/image;
 * other keys lose a trailing `/` and a trailing `/v1` or `/v2` API path and
 * keep their namespace, except in a legacy file, where every key names a
 * host (containers/image's `normalizeAuthFileKey`). Hosts are lower-cased and
 * Docker Hub aliases map to `docker.io`.
 */
export function normalizeKey(key: string, legacy = false): string {
  let host: string;
  let path = "";
  if (key.includes("://")) {
    host = urlKeyHost(key);
  } else {
    const rest = key.replace(/\/+$/, "").replace(/\/v[12]$/i, "").replace(/\/+$/, "");
    const slash = rest.indexOf("/");
    host = slash === -1 ? rest : rest.slice(0, slash);
    if (slash !== -1 && !legacy) path = rest.slice(slash);
  }
  host = host.toLowerCase();
  if (DOCKER_HUB_KEY_ALIASES.has(host)) host = DOCKER_HUB_REGISTRY;
  return host + path;
}

/**
 * The keys to try for a repository, most specific first: `host/a/b`,
 * `host/a`, `host`. A legacy `.dockercfg` has registry keys only, so there
 * only `host` is tried (containers/image's `authKeyLookupOrder`).
 */
function candidateKeys(repository: Repository, legacy: boolean): string[] {
  if (legacy) return [repository.registry];
  const parts = repository.repository.split("/");
  const keys: string[] = [];
  for (let n = parts.length; n > 0; n--) {
    keys.push(`${repository.registry}/${parts.slice(0, n).join("/")}`);
  }
  keys.push(repository.registry);
  return keys;
}

/**
 * The file keys that match a repository, in lookup order: exact keys most
 * specific first, then keys that match after normalization (URL forms,
 * `/v1/` paths, Docker Hub aliases), most specific first, as containers/image
 * tries them.
 */
function matchingKeys(keys: Iterable<string>, repository: Repository, legacy: boolean): string[] {
  const fileKeys = [...keys];
  const wanted = candidateKeys(repository, legacy);
  const result: string[] = [];
  for (const key of wanted) if (fileKeys.includes(key)) result.push(key);
  for (const key of wanted) {
    for (const fileKey of fileKeys) {
      if (!result.includes(fileKey) && normalizeKey(fileKey, legacy) === key) {
        result.push(fileKey);
      }
    }
  }
  return result;
}

/** The `auths` entry that decides a lookup, as {@linkcode lookupAuthEntry} finds it. */
export interface AuthEntryMatch {
  /** The key as written in the file, e.g. `quay.io/org` or `https://index.docker.io/v1/`. */
  key: string;
  /**
   * The entry's credentials; `undefined` when the entry has none (a `{}`
   * placeholder or an incomplete entry): the file then gives no credentials
   * for the repository, and the search goes on with the next file.
   */
  credentials?: Credentials;
  /** Whether the entry is a `{}` placeholder. */
  placeholder?: boolean;
}

/**
 * Finds the `auths` entry that decides a repository's credentials in one
 * file: keys most specific first (`host/a/b`, `host/a`, `host`), then
 * normalized keys (`https://host/any/path`, `host/v1/`, Docker Hub aliases);
 * in a legacy file the registry key only. As in podman, the first key that
 * exists decides: when its entry holds no credentials (`{}`), this file has
 * none for the repository, even if a less specific key has some.
 *
 * @example Docker Hub keys in URL form, as resolveCredentials looks them up
 * ```ts
 * import { resolveCredentials } from "@regkit/regkit";
 * import { encodeBase64 } from "@std/encoding/base64";
 * import assert from "node:assert/strict";
 * const text = JSON.stringify({
 *   auths: { "https://index.docker.io/v1/": { auth: encodeBase64("me:secret") } },
 * });
 * const resolved = await resolveCredentials("ubuntu", {
 *   authFile: "config.json",
 *   readTextFile: () => Promise.resolve(text),
 * });
 * assert.equal(resolved?.source.key, "https://index.docker.io/v1/");
 * ```
 * @param content A parsed auth file.
 * @param repository The reference or repository to find credentials for.
 * @returns The deciding key and its credentials, or `undefined` when no key matches.
 */
export function lookupAuthEntry(
  content: AuthFileContent,
  repository: Repository,
): AuthEntryMatch | undefined {
  const [key] = matchingKeys(content.auths.keys(), repository, content.legacy);
  if (key === undefined) return undefined;
  const match: AuthEntryMatch = { key };
  const credentials = content.auths.get(key);
  if (credentials !== undefined) match.credentials = credentials;
  if (content.placeholders?.has(key)) match.placeholder = true;
  return match;
}

/** A credential helper found by {@linkcode lookupCredentialHelper}. */
export interface CredentialHelperMatch {
  /** The `credHelpers` key, or `undefined` for `credsStore`. */
  key?: string;
  /** The helper name, without `docker-credential-`. */
  helper: string;
}

/**
 * Finds the `credHelpers` entry for a repository (namespace keys most
 * specific first, then the host, then normalized keys).
 *
 * @example A helper configured for a namespace (defined, not run)
 * ```ts
 * import { resolveCredentials } from "@regkit/regkit";
 * async function viaHelper() {
 *   const text = JSON.stringify({ credHelpers: { "quay.io/org": "secretservice" } });
 *   return await resolveCredentials("quay.io/org/app", {
 *     authFile: "config.json",
 *     readTextFile: () => Promise.resolve(text),
 *   });
 * }
 * ```
 * @param content A parsed auth file.
 * @param repository The reference or repository.
 * @returns The key and helper name, or `undefined` when no key matches.
 */
export function lookupCredentialHelper(
  content: AuthFileContent,
  repository: Repository,
): CredentialHelperMatch | undefined {
  const [key] = matchingKeys(content.credHelpers.keys(), repository, content.legacy);
  return key === undefined ? undefined : { key, helper: content.credHelpers.get(key)! };
}

/**
 * The server URL a credential helper is asked about: the registry host, or
 * `https://index.docker.io/v1/` for Docker Hub, as docker does.
 *
 * @example What a helper is asked for Docker Hub
 * ```ts
 * import { resolveCredentials } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const asked: string[] = [];
 * await resolveCredentials("alpine", {
 *   authFile: "config.json",
 *   readTextFile: () => Promise.resolve(JSON.stringify({ credsStore: "desktop" })),
 *   runHelper: (_helper, serverUrl) => {
 *     asked.push(serverUrl);
 *     return Promise.resolve(undefined);
 *   },
 * });
 * assert.deepEqual(asked, ["https://index.docker.io/v1/"]);
 * ```
 * @param registry The normalized registry, e.g. `quay.io` or `docker.io`.
 * @returns The server URL.
 */
export function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? "https://index.docker.io/v1/" : registry;
}
