/**
 * Auth files: how podman's `auth.json` and docker's `config.json` are parsed
 * (containers-auth.json(5), then docker). How an entry or a credential helper
 * is looked up for an image reference is `auth_keys.ts`; where the files are
 * is `auth_paths.ts`.
 *
 * Nothing here reads files on its own: file contents are passed in, so every
 * function is testable with fixtures.
 *
 * @module
 */

import { decodeBase64 } from "@std/encoding/base64";
import { quote, RegistryError } from "./errors.ts";
import type { Repository } from "./reference.ts";
import { REDACTED } from "./_redact.ts";

export type { Repository };

/** What a {@linkcode Credentials} value holds. */
export type CredentialKind = "basic" | "identityToken" | "registryToken";

/**
 * Registry credentials: a username and password, an identity token (an
 * OAuth2 refresh token exchanged for access tokens) or a registry token (a
 * bearer token used as is).
 *
 * The secret lives in a private field and never shows when the value is
 * logged, inspected, stringified or serialised as JSON.
 *
 * @example Secrets stay out of logs
 * ```ts
 * import { Credentials } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const credentials = Credentials.basic("me", "s3cret");
 * assert.equal(credentials.secret, "s3cret");
 * assert.ok(!JSON.stringify(credentials).includes("s3cret"));
 * assert.ok(!Deno.inspect(credentials).includes("s3cret"));
 * assert.ok(!String(credentials).includes("s3cret"));
 * ```
 */
export class Credentials {
  /** What the secret is: a password, an identity token or a registry token. */
  readonly kind: CredentialKind;
  /** The username, if any (identity tokens may have one; registry tokens have none). */
  readonly username?: string;
  readonly #secret: string;

  private constructor(kind: CredentialKind, secret: string, username?: string) {
    this.kind = kind;
    if (username !== undefined) this.username = username;
    this.#secret = secret;
  }

  /**
   * Username and password credentials (HTTP Basic, or a token request).
   *
   * @example
   * ```ts
   * import { Credentials } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * assert.equal(Credentials.basic("me", "pw").kind, "basic");
   * ```
   * @param username The username; not empty.
   * @param password The password.
   * @returns The credentials.
   * @throws {TypeError} When `username` is empty or either is not a string.
   */
  static basic(username: string, password: string): Credentials {
    if (typeof username !== "string" || username === "") {
      throw new TypeError("Cannot create credentials: username must be a non-empty string");
    }
    if (typeof password !== "string") {
      throw new TypeError("Cannot create credentials: password must be a string");
    }
    return new Credentials("basic", password, username);
  }

  /**
   * An identity token: an OAuth2 refresh token exchanged at the registry's
   * token endpoint (docker's `identitytoken`, a helper's `<token>` answer).
   *
   * @example
   * ```ts
   * import { Credentials } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * assert.equal(Credentials.identityToken("refresh").kind, "identityToken");
   * ```
   * @param token The refresh token; not empty.
   * @param username The account name, if known.
   * @returns The credentials.
   * @throws {TypeError} When `token` is empty or not a string.
   */
  static identityToken(token: string, username?: string): Credentials {
    if (typeof token !== "string" || token === "") {
      throw new TypeError("Cannot create credentials: token must be a non-empty string");
    }
    return new Credentials("identityToken", token, username === "" ? undefined : username);
  }

  /**
   * A registry token: a bearer token sent as is (docker's `registrytoken`).
   *
   * @example
   * ```ts
   * import { Credentials } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * assert.equal(Credentials.registryToken("bearer").kind, "registryToken");
   * ```
   * @param token The bearer token; not empty.
   * @returns The credentials.
   * @throws {TypeError} When `token` is empty or not a string.
   */
  static registryToken(token: string): Credentials {
    if (typeof token !== "string" || token === "") {
      throw new TypeError("Cannot create credentials: token must be a non-empty string");
    }
    return new Credentials("registryToken", token);
  }

  /**
   * The password, identity token or registry token. Read it only to send it.
   *
   * @example
   * ```ts
   * import { Credentials } from "@regkit/regkit";
   * import assert from "node:assert/strict";
   * assert.equal(Credentials.registryToken("t").secret, "t");
   * ```
   */
  get secret(): string {
    return this.#secret;
  }

  /**
   * A redacted JSON form: kind and username, the secret replaced.
   *
   * @returns `{ kind, username?, secret: "[REDACTED]" }`.
   */
  toJSON(): { kind: CredentialKind; username?: string; secret: string } {
    return this.username === undefined
      ? { kind: this.kind, secret: REDACTED }
      : { kind: this.kind, username: this.username, secret: REDACTED };
  }

  /**
   * A redacted description, e.g. `Credentials(basic, username "me")`.
   *
   * @returns The description, without the secret.
   */
  toString(): string {
    const user = this.username === undefined ? "" : `, username ${quote(this.username)}`;
    return `Credentials(${this.kind}${user}, secret ${REDACTED})`;
  }

  /**
   * What `Deno.inspect` and `console.log` show: the redacted description.
   *
   * @returns The redacted description.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * What Node's `util.inspect` shows: the redacted description.
   *
   * @returns The redacted description.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** The parsed, validated content of one auth file. */
export interface AuthFileContent {
  /** The file's path, for messages. */
  path: string;
  /** Whether the file uses the legacy `.dockercfg` format. */
  legacy: boolean;
  /**
   * Credentials by key, in file order; `undefined` for placeholders (`{}`) and
   * entries without usable fields.
   */
  auths: ReadonlyMap<string, Credentials | undefined>;
  /**
   * The `auths` keys whose entry is a `{}` placeholder (docker writes them
   * when a credential store holds the secret). Like any entry without
   * credentials, a placeholder at the best-matching key means "nothing in
   * this file" for that reference.
   */
  placeholders?: ReadonlySet<string>;
  /** `credHelpers`: helper name (without `docker-credential-`) by registry key. */
  credHelpers: ReadonlyMap<string, string>;
  /** `credsStore`: the helper for every registry, if set. */
  credsStore?: string;
}

/** Options for {@linkcode parseAuthFile}. */
export interface ParseAuthFileOptions {
  /**
   * Whether the file is a legacy `.dockercfg`: registries at the top level,
   * without an `auths` wrapper.
   *
   * @default {false}
   */
  legacy?: boolean;
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** An `AUTH_FILE_INVALID` error naming the file and what is wrong, never a value. */
export function invalid(path: string, detail: string, cause?: unknown): RegistryError {
  return new RegistryError(
    "AUTH_FILE_INVALID",
    `Cannot use auth file ${quote(path)}: ${detail}`,
    cause === undefined ? {} : { cause },
  );
}

/** Whether `value` is a JSON object (not `null`, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(
  path: string,
  key: string,
  entry: Record<string, unknown>,
  field: string,
): string | undefined {
  const value = entry[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw invalid(path, `field ${quote(field)} of entry ${quote(key)} is not a string`);
  }
  return value === "" ? undefined : value;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function decodeAuth(path: string, key: string, auth: string): [string, string] {
  let text: string;
  try {
    text = UTF8.decode(decodeBase64(auth.trim()));
  } catch {
    throw invalid(path, `field "auth" of entry ${quote(key)} is not base64-encoded UTF-8`);
  }
  const colon = text.indexOf(":");
  if (colon === -1) {
    throw invalid(path, `field "auth" of entry ${quote(key)} is not "username:password"`);
  }
  // docker and containers/image both trim NUL bytes around the password.
  return [text.slice(0, colon), text.slice(colon + 1).replace(/^\0+|\0+$/g, "")];
}

function parseEntry(path: string, key: string, entry: unknown): Credentials | undefined {
  if (!isObject(entry)) throw invalid(path, `entry ${quote(key)} is not an object`);
  const auth = optionalString(path, key, entry, "auth");
  let username = optionalString(path, key, entry, "username");
  let password = optionalString(path, key, entry, "password");
  const identityToken = optionalString(path, key, entry, "identitytoken");
  const registryToken = optionalString(path, key, entry, "registrytoken");
  if (auth !== undefined) {
    const [user, pass] = decodeAuth(path, key, auth);
    username = user === "" ? undefined : user;
    password = pass === "" ? undefined : pass;
  }
  if (registryToken !== undefined) return Credentials.registryToken(registryToken);
  if (identityToken !== undefined) return Credentials.identityToken(identityToken, username);
  if (username !== undefined && password !== undefined) {
    return Credentials.basic(username, password);
  }
  return undefined;
}

/**
 * Parses and validates an auth file (`auth.json`, `config.json` or the legacy
 * `.dockercfg`). Every entry is checked, as docker does, so a broken entry
 * fails every lookup in that file. A file without `auths` has no entries;
 * an empty file is an empty object.
 *
 * Entries: `auth` (base64 `username:password`, split at the first `:`, NUL
 * bytes around the password trimmed as docker and podman trim them),
 * `username`/`password`, `identitytoken` (an OAuth2 refresh token) and
 * `registrytoken` (a bearer token used as is). `registrytoken` wins over
 * `identitytoken`, which wins over a password.
 *
 * @example
 * ```ts
 * import { parseAuthFile } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "@std/encoding/base64";
 * const text = JSON.stringify({ auths: { "quay.io": { auth: encodeBase64("me:pa:ss") } } });
 * const content = parseAuthFile("/tmp/auth.json", text);
 * assert.equal(content.auths.get("quay.io")?.secret, "pa:ss");
 * ```
 * @param path The file's path, used in error messages.
 * @param text The file's content.
 * @param options Whether the file is in the legacy format.
 * @returns The validated content.
 * @throws {RegistryError} `AUTH_FILE_INVALID` naming the path and key (never a
 *   value) for malformed JSON, `auths` that is not an object, invalid base64,
 *   `auth` without `:`, or a field of the wrong type.
 */
export function parseAuthFile(
  path: string,
  text: string,
  options: ParseAuthFileOptions = {},
): AuthFileContent {
  const { legacy = false } = options;
  let data: unknown;
  if (text.trim() === "") {
    data = {};
  } else {
    try {
      data = JSON.parse(text);
    } catch {
      // The parser's message may quote the content: leave it out.
      throw invalid(path, "not valid JSON");
    }
  }
  if (!isObject(data)) throw invalid(path, "not a JSON object");
  const auths = new Map<string, Credentials | undefined>();
  const placeholders = new Set<string>();
  const credHelpers = new Map<string, string>();
  const content: AuthFileContent = { path, legacy, auths, placeholders, credHelpers };
  const entries = legacy ? data : data.auths;
  if (entries !== undefined && entries !== null || legacy) {
    if (!isObject(entries)) throw invalid(path, `"auths" is not an object`);
    for (const [key, entry] of Object.entries(entries)) {
      auths.set(key, parseEntry(path, key, entry));
      if (isObject(entry) && Object.keys(entry).length === 0) placeholders.add(key);
    }
  }
  if (legacy) return content;
  if (data.credHelpers !== undefined && data.credHelpers !== null) {
    if (!isObject(data.credHelpers)) throw invalid(path, `"credHelpers" is not an object`);
    for (const [key, helper] of Object.entries(data.credHelpers)) {
      if (typeof helper !== "string" || !HELPER_NAME.test(helper)) {
        throw invalid(path, `"credHelpers" entry ${quote(key)} is not a helper name`);
      }
      credHelpers.set(key, helper);
    }
  }
  if (data.credsStore !== undefined && data.credsStore !== null && data.credsStore !== "") {
    if (typeof data.credsStore !== "string" || !HELPER_NAME.test(data.credsStore)) {
      throw invalid(path, `"credsStore" is not a helper name`);
    }
    content.credsStore = data.credsStore;
  }
  return content;
}
