/**
 * Writing auth files, as `podman login` and `podman logout` do: every other
 * entry and field is kept, the file is replaced atomically (a temporary file
 * in the same directory, mode 0600, renamed over it), and nothing is read,
 * verified or written unless Deno's permissions allow the write.
 *
 * The read half (finding, parsing and looking up auth files) is in
 * `auth_file.ts`.
 *
 * @module
 */

import { basename, dirname, join } from "@std/path";
import { encodeBase64 } from "@std/encoding/base64";
import { quote, RegistryError } from "./errors.ts";
import { invalid, isObject, normalizeKey } from "./auth_file.ts";

/** What {@linkcode storeCredentials} writes: one `auths` entry. */
export interface LoginEntry {
  /** The key to write, as given (e.g. `quay.io` or `quay.io/org`); see `parseRegistry()`. */
  registry: string;
  /** The username. */
  username: string;
  /** The password. */
  password: string;
}

/** Options for {@linkcode storeCredentials}. */
export interface StoreCredentialsOptions {
  /**
   * Runs once the write is known to be permitted and before the file is read:
   * e.g. checking the credentials against the registry, as `login` does, so a
   * password is never sent when it could not be stored. When it throws,
   * nothing is written and the error propagates.
   *
   * @default {undefined} (nothing to check)
   */
  verify?: () => Promise<unknown>;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

const CREDENTIAL_FIELDS = ["auth", "username", "password", "identitytoken", "registrytoken"];

/** Throws `INVALID_CONFIG` unless writing `path` is granted (querying never prompts). */
function checkWritable(path: string, action: string): void {
  let state: Deno.PermissionState = "denied";
  try {
    state = Deno.permissions.querySync({ name: "write", path }).state;
  } catch { /* treated as denied */ }
  if (state !== "granted") {
    throw new RegistryError(
      "INVALID_CONFIG",
      `${action}: writing is not permitted (--allow-write)`,
    );
  }
}

async function readForUpdate(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = UTF8.decode(await Deno.readFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof TypeError) throw invalid(path, "not valid UTF-8");
    if (error instanceof Deno.errors.IsADirectory) throw invalid(path, "is a directory");
    throw invalid(path, "cannot be read", error);
  }
  if (text.trim() === "") return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(path, "not valid JSON");
  }
  if (!isObject(data)) throw invalid(path, "not a JSON object");
  if (data.auths !== undefined && data.auths !== null && !isObject(data.auths)) {
    throw invalid(path, `"auths" is not an object`);
  }
  return data;
}

async function writeAtomically(path: string, data: Record<string, unknown>): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(temp, JSON.stringify(data, null, "\t") + "\n", {
      createNew: true,
      mode: 0o600,
    });
    if (Deno.build.os !== "windows") await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new RegistryError("AUTH_FILE_INVALID", `Cannot write auth file ${quote(path)}`, {
      cause: error,
    });
  }
}

/**
 * Stores `username:password` for a registry in an auth file, as
 * `podman login` does: every other entry and field is kept, the file is
 * written to a temporary file in the same directory (mode 0600) and renamed
 * over the original, and a missing directory is created (mode 0700).
 *
 * Write permission is checked first; then `options.verify` runs (e.g. the
 * login check against the registry); only then is the file read and replaced.
 *
 * @example Verify, then store (defined, not run: it needs a registry)
 * ```ts
 * import { ContainerRegistryClient, storeCredentials } from "@regkit/regkit";
 *
 * async function login(path: string, username: string, password: string) {
 *   await using client = new ContainerRegistryClient({ username, password });
 *   await storeCredentials(path, { registry: "quay.io", username, password }, {
 *     verify: () => client.verifyCredentials("quay.io"),
 *   });
 * }
 * ```
 * @param path The auth file.
 * @param entry The key, username and password to write.
 * @param options What to check before anything is read or written.
 * @returns Resolves once the file is replaced.
 * @throws {TypeError} When the key or username is empty, or a field is not a string.
 * @throws {RegistryError} `INVALID_CONFIG` when writing `path` is not permitted
 *   (before `verify` runs); `AUTH_FILE_INVALID` when the existing file cannot be
 *   read or parsed (it is then left unchanged), or the new one cannot be
 *   written; whatever `verify` throws.
 */
export async function storeCredentials(
  path: string,
  entry: LoginEntry,
  options: StoreCredentialsOptions = {},
): Promise<void> {
  const { verify } = options;
  const { registry, username, password } = entry;
  if (typeof registry !== "string" || registry === "") {
    throw new TypeError("Cannot store credentials: registry is empty");
  }
  if (typeof username !== "string" || username === "" || typeof password !== "string") {
    throw new TypeError("Cannot store credentials: username and password are required");
  }
  checkWritable(path, `Cannot store credentials for ${quote(registry)} in ${quote(path)}`);
  await verify?.();
  const data = (await readForUpdate(path)) ?? {};
  const auths = isObject(data.auths) ? data.auths : {};
  const previous = isObject(auths[registry]) ? auths[registry] : {};
  const stored: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(previous)) {
    if (!CREDENTIAL_FIELDS.includes(field)) stored[field] = value;
  }
  stored.auth = encodeBase64(`${username}:${password}`);
  auths[registry] = stored;
  data.auths = auths;
  await writeAtomically(path, data);
}

/**
 * Removes a registry's entry from an auth file, as `podman logout` does.
 * Keys that name the same registry in URL form (`https://quay.io`) are
 * removed too; every other entry and field is kept, and the file is replaced
 * atomically. A missing file has nothing to remove.
 *
 * @example Logging out (defined, not run)
 * ```ts
 * import { removeCredentials } from "@regkit/regkit";
 * async function logout(path: string): Promise<boolean> {
 *   return await removeCredentials(path, "quay.io");
 * }
 * ```
 * @param path The auth file.
 * @param registry The key to remove, e.g. `quay.io`.
 * @returns `true` if an entry was removed.
 * @throws {RegistryError} `INVALID_CONFIG` when writing `path` is not permitted
 *   (checked before the file is read); `AUTH_FILE_INVALID` when the file cannot
 *   be read, parsed or written.
 */
export async function removeCredentials(path: string, registry: string): Promise<boolean> {
  checkWritable(path, `Cannot remove credentials for ${quote(registry)} from ${quote(path)}`);
  const data = await readForUpdate(path);
  if (data === undefined || !isObject(data.auths)) return false;
  const wanted = normalizeKey(registry);
  const keys = Object.keys(data.auths).filter((key) =>
    key === registry || normalizeKey(key) === wanted
  );
  if (keys.length === 0) return false;
  for (const key of keys) delete data.auths[key];
  await writeAtomically(path, data);
  return true;
}
