/**
 * Internal: the one place that removes secrets from URLs and shortens
 * untrusted text before it reaches a log, an error or the terminal, and the
 * one placeholder that stands in for a secret.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "@std/encoding/base64";

/** Query parameters that are protocol, not secrets, and may be shown. */
const SAFE_QUERY_PARAMS: ReadonlySet<string> = new Set([
  "scope",
  "service",
  "n",
  "last",
  "digest",
  "mount",
  "from",
]);

/** The text that stands in for a secret. */
export const REDACTED = "[REDACTED]";

/**
 * Returns `url` with user info and non-protocol query values replaced.
 *
 * @param url The URL.
 * @returns A string safe to log.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return REDACTED;
  }
  if (parsed.username !== "" || parsed.password !== "") {
    parsed.username = "";
    parsed.password = "";
  }
  const params = new URLSearchParams();
  for (const [key, value] of parsed.searchParams) {
    params.append(key, SAFE_QUERY_PARAMS.has(key.toLowerCase()) ? value : REDACTED);
  }
  const query = params.toString();
  parsed.search = query === ""
    ? ""
    : `?${query.replaceAll(encodeURIComponent(REDACTED), REDACTED)}`;
  // A Location header may point to a signed blob URL: only its origin and path are shown.
  return parsed.href;
}

/**
 * Shortens an untrusted body for a message: one line, at most `max` characters.
 *
 * @param text The body text.
 * @param max The longest result.
 * @returns The shortened text.
 */
export function snippet(text: string, max = 200): string {
  // deno-lint-ignore no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** What a request carried that a server might repeat back. */
export interface RequestSecrets {
  /** The `Authorization` header sent, if any (`Basic …` is decoded into user:password). */
  authorization?: string;
  /** Other secrets of the request: a password, an identity or registry token. */
  secrets?: Iterable<string | undefined>;
  /** The username, to also catch `user:password`. */
  username?: string;
}

function decodeBasic(blob: string): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(decodeBase64(blob));
  } catch {
    return undefined;
  }
}

function base64Utf8(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

/**
 * Every form in which a request's secrets may come back in a server's text:
 * each secret as is, JSON-escaped and URL-encoded, the `auth` blob
 * (base64 of `user:password`), the decoded pair, and the tokens of the
 * `Authorization` header. Longest first, so a pair is replaced before its parts.
 *
 * @param request The request's header and secrets.
 * @returns The strings to redact.
 */
export function secretsOf(request: RequestSecrets): string[] {
  const { authorization, secrets = [], username } = request;
  const plain = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret === "") continue;
    plain.add(secret);
    if (username !== undefined) {
      plain.add(`${username}:${secret}`);
      plain.add(base64Utf8(`${username}:${secret}`));
    }
  }
  if (authorization !== undefined) {
    const [scheme, value] = authorization.trim().split(/\s+/, 2);
    if (value !== undefined && value !== "") {
      plain.add(value);
      if (scheme.toLowerCase() === "basic") {
        const pair = decodeBasic(value);
        if (pair !== undefined) {
          plain.add(pair);
          const colon = pair.indexOf(":");
          if (colon !== -1) plain.add(pair.slice(colon + 1));
        }
      }
    }
  }
  const forms = new Set<string>();
  for (const secret of plain) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * Redacts a server's body against the secrets of the request it answers, so
 * no message, diagnostic or snippet made from it can repeat one. Bodies that
 * hold none are returned as they are.
 *
 * @param body The body bytes.
 * @param secrets From {@linkcode secretsOf}.
 * @returns The body, with every secret replaced by {@linkcode REDACTED}.
 */
export function redactBody(body: Uint8Array, secrets: readonly string[]): Uint8Array {
  if (body.byteLength === 0 || secrets.length === 0) return body;
  const text = new TextDecoder().decode(body);
  const redacted = redactSecrets(text, secrets);
  return redacted === text ? body : new TextEncoder().encode(redacted);
}

/**
 * Replaces every occurrence of each secret in `text`.
 *
 * @param text The text.
 * @param secrets Values that must not appear (empty strings are ignored).
 * @returns The text with secrets replaced.
 */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) result = result.replaceAll(secret, REDACTED);
  }
  return result;
}
