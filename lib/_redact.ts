/**
 * Internal: the one place that removes secrets from URLs, headers and
 * messages before they reach a log, an error or the terminal.
 *
 * @module
 */

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

/** Headers whose values may be logged. Everything else is shown as redacted. */
const SAFE_HEADERS: ReadonlySet<string> = new Set([
  "accept",
  "content-type",
  "content-length",
  "docker-content-digest",
  "docker-distribution-api-version",
  "location",
  "link",
  "retry-after",
  "user-agent",
  "www-authenticate",
]);

/** The text that stands in for a secret. */
export const REDACTED = "[redacted]";

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
 * Renders headers for a debug log with every non-allow-listed value redacted.
 *
 * @param headers The headers.
 * @returns `name: value` pairs joined by `, `.
 */
export function redactHeaders(headers: Headers): string {
  const parts: string[] = [];
  for (const [name, value] of headers) {
    if (!SAFE_HEADERS.has(name)) parts.push(`${name}: ${REDACTED}`);
    else if (name === "location") parts.push(`${name}: ${redactUrl(value)}`);
    else parts.push(`${name}: ${value}`);
  }
  return parts.join(", ");
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
