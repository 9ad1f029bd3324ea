/**
 * RFC 8288 `Link` header parsing, for tag-list pagination.
 *
 * @module
 */

/** One link: its target and parameters (names lowercased). */
export interface Link {
  /** The target as written (may be relative). */
  target: string;
  /** Parameters such as `rel`. */
  params: Record<string, string>;
}

/**
 * Parses a `Link` header. Never throws: malformed entries are skipped.
 *
 * @example
 * ```ts
 * import { parseLinkHeader } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const [link] = parseLinkHeader('</v2/app/tags/list?last=b&n=2>; rel="next"');
 * assert.equal(link.target, "/v2/app/tags/list?last=b&n=2");
 * assert.equal(link.params.rel, "next");
 * ```
 * @param header The header value.
 * @returns The links in order.
 */
export function parseLinkHeader(header: string | null | undefined): Link[] {
  if (typeof header !== "string") return [];
  const links: Link[] = [];
  let i = 0;
  const n = header.length;
  while (i < n) {
    const open = header.indexOf("<", i);
    if (open === -1) break;
    const close = header.indexOf(">", open + 1);
    if (close === -1) break;
    const link: Link = { target: header.slice(open + 1, close).trim(), params: {} };
    i = close + 1;
    // parameters until the next comma outside quotes
    while (i < n) {
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      if (header[i] !== ";") break;
      i++;
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      const nameStart = i;
      while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i])) i++;
      const name = header.slice(nameStart, i).toLowerCase();
      while (i < n && (header[i] === " " || header[i] === "\t")) i++;
      let value = "";
      if (header[i] === "=") {
        i++;
        while (i < n && (header[i] === " " || header[i] === "\t")) i++;
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === "\\" && i + 1 < n) i++;
            value += header[i++];
          }
          i++;
        } else {
          const start = i;
          while (i < n && header[i] !== ";" && header[i] !== ",") i++;
          value = header.slice(start, i).trim();
        }
      }
      if (name !== "" && !(name in link.params)) link.params[name] = value;
    }
    const comma = header.indexOf(",", i);
    i = comma === -1 ? n : comma + 1;
    links.push(link);
  }
  return links;
}

/**
 * The target of the first link whose `rel` includes `next`.
 *
 * @param header The `Link` header.
 * @returns The target, or `undefined`.
 */
export function nextLink(header: string | null | undefined): string | undefined {
  return parseLinkHeader(header).find((l) => (l.params.rel ?? "").split(/\s+/).includes("next"))
    ?.target;
}
