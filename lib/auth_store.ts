/**
 * Writing auth files, as `podman login` and `podman logout` do: every other
 * entry and field is kept, the file is replaced atomically (a temporary file
 * in the same directory, mode 0600, renamed over it), a symlinked file has its
 * target replaced (as docker does), concurrent updates are serialised by a
 * lock on the file, and nothing is read, verified or written unless Deno's
 * permissions allow the whole update.
 *
 * The read half (finding, parsing and looking up auth files) is in
 * `auth_file.ts`.
 *
 * @module
 */

import { basename } from "@std/path/basename";
import { dirname } from "@std/path/dirname";
import { isAbsolute } from "@std/path/is-absolute";
import { join } from "@std/path/join";
import { encodeBase64 } from "@std/encoding/base64";
import { quote, RegistryError } from "./errors.ts";
import { invalid, isObject } from "./auth_file.ts";
import { normalizeKey } from "./auth_keys.ts";

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
   * Runs once the update is known to be permitted and before the file is read:
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

/** Symbolic links followed at most, as the kernel's `ELOOP` limit. */
const MAX_LINKS = 40;

/**
 * The file an update replaces: `path`, or the file its symbolic links lead
 * to (which need not exist yet), so that the link is kept.
 */
async function resolveLinks(path: string): Promise<string> {
  let current = path;
  for (let links = 0; links <= MAX_LINKS; links++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch {
      return current; // missing (to be created) or not readable (the permission check says so)
    }
    if (!info.isSymlink) return current;
    const target = await Deno.readLink(current);
    current = isAbsolute(target) ? target : join(dirname(current), target);
  }
  throw invalid(path, `more than ${MAX_LINKS} symbolic links`);
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Throws `INVALID_CONFIG` unless the whole update is permitted (querying
 * never prompts): reading the file, and writing its directory, where the
 * temporary file is created and renamed over it.
 */
function checkPermitted(file: string, action: string): void {
  const dir = dirname(file);
  if (!granted({ name: "write", path: dir })) {
    throw new RegistryError(
      "INVALID_CONFIG",
      `${action}: writing in ${quote(dir)} is not permitted (--allow-write)`,
    );
  }
  if (!granted({ name: "read", path: file })) {
    throw new RegistryError(
      "INVALID_CONFIG",
      `${action}: reading ${quote(file)} is not permitted (--allow-read)`,
    );
  }
}

/**
 * Runs `update` holding an exclusive lock on `file` (created empty when
 * missing, if `create`), so concurrent logins and logouts, in this process
 * or others, apply one after the other and none is lost. The file is replaced
 * by rename: a waiter that gets the lock on a file replaced meanwhile retries
 * on the new one.
 *
 * @returns What `update` returns, or `undefined` when the file is missing and not `create`.
 */
async function withLock<T>(
  file: string,
  create: boolean,
  update: () => Promise<T>,
): Promise<T | undefined> {
  if (create) await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  for (;;) {
    let handle: Deno.FsFile;
    try {
      handle = await Deno.open(file, { read: true, write: true, create, mode: 0o600 });
    } catch (error) {
      if (!create && error instanceof Deno.errors.NotFound) return undefined;
      throw invalid(file, "cannot be opened for an update", error);
    }
    try {
      await handle.lock(true);
      const locked = await handle.stat();
      const current = await Deno.stat(file).catch(() => undefined);
      if (current === undefined || (locked.ino !== null && current.ino !== locked.ino)) {
        continue; // replaced (or removed) while waiting: lock the file that is there now
      }
      return await update();
    } finally {
      handle.close();
    }
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
 * over the original, and a missing directory is created (mode 0700). A
 * symlinked `path` keeps its link: the file it leads to is replaced.
 * Concurrent calls (in any process) are serialised by a lock on the file.
 *
 * Permissions are checked first (writing in the file's directory, reading
 * the file); then `options.verify` runs (e.g. the login check against the
 * registry); only then is the file locked, read and replaced.
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
 * @throws {RegistryError} `INVALID_CONFIG` when writing in the file's directory
 *   or reading the file is not permitted (before `verify` runs);
 *   `AUTH_FILE_INVALID` when the existing file cannot be
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
  const file = await resolveLinks(path);
  checkPermitted(file, `Cannot store credentials for ${quote(registry)} in ${quote(path)}`);
  await verify?.();
  await withLock(file, true, async () => {
    const data = (await readForUpdate(file)) ?? {};
    const auths = isObject(data.auths) ? data.auths : {};
    const previous = isObject(auths[registry]) ? auths[registry] : {};
    const stored: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(previous)) {
      if (!CREDENTIAL_FIELDS.includes(field)) stored[field] = value;
    }
    stored.auth = encodeBase64(`${username}:${password}`);
    auths[registry] = stored;
    data.auths = auths;
    await writeAtomically(file, data);
  });
}

/**
 * Removes a registry's entry from an auth file, as `podman logout` does.
 * Keys that name the same registry in URL form (`https://quay.io`) are
 * removed too; every other entry and field is kept, and the file (a
 * symlink's target) is replaced atomically, under the same lock as
 * {@linkcode storeCredentials}. A missing file has nothing to remove.
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
 * @throws {RegistryError} `INVALID_CONFIG` when writing in the file's directory
 *   or reading the file is not permitted (checked before the file is read);
 *   `AUTH_FILE_INVALID` when the file cannot
 *   be read, parsed or written.
 */
export async function removeCredentials(path: string, registry: string): Promise<boolean> {
  const file = await resolveLinks(path);
  checkPermitted(file, `Cannot remove credentials for ${quote(registry)} from ${quote(path)}`);
  const removed = await withLock(file, false, async () => {
    const data = await readForUpdate(file);
    if (data === undefined || !isObject(data.auths)) return false;
    const wanted = normalizeKey(registry);
    const keys = Object.keys(data.auths).filter((key) =>
      key === registry || normalizeKey(key) === wanted
    );
    if (keys.length === 0) return false;
    for (const key of keys) delete data.auths[key];
    await writeAtomically(file, data);
    return true;
  });
  return removed === true;
}
