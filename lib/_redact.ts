/**
 * Internal: the one place that removes secrets from URLs and shortens
 * untrusted text before it reaches a log, an error or the terminal, and the
 * one placeholder that stands in for a secret.
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
