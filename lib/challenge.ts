/**
 * `WWW-Authenticate` parsing (RFC 7235 §4.1, RFC 9110 §11.6.1): several
 * challenges per header or per response, case-insensitive schemes and
 * parameter names, quoted strings with escapes, `token68` values.
 *
 * @module
 */

/** One challenge: a scheme and its parameters (names lowercased). */
export interface Challenge {
  /** The scheme, lowercased: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameters with lowercased names, e.g. `realm`, `service`, `scope`, `error`. */
  params: Record<string, string>;
  /** The `token68` value, for schemes that use one instead of parameters. */
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? "";
  }
  skipSpace(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  skipSpaceAndCommas(): boolean {
    let sawComma = false;
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t") this.pos++;
      else if (c === ",") {
        sawComma = true;
        this.pos++;
      } else return sawComma;
    }
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  quoted(): string {
    // assumes peek() === '"'
    this.pos++;
    let value = "";
    while (!this.done) {
      const c = this.text[this.pos++];
      if (c === "\\") {
        if (!this.done) value += this.text[this.pos++];
      } else if (c === '"') {
        return value;
      } else {
        value += c;
      }
    }
    return value; // unterminated: take what is there
  }
}

/**
 * Tries to read `name = value` at the scanner; restores position when it is not one.
 */
function readParam(s: Scanner): [string, string] | undefined {
  const start = s.pos;
  const name = s.token();
  if (name === "") return undefined;
  s.skipSpace();
  if (s.peek() !== "=") {
    s.pos = start;
    return undefined;
  }
  s.pos++;
  s.skipSpace();
  if (s.peek() === "=") {
    // "token68==" style, not a parameter
    s.pos = start;
    return undefined;
  }
  const value = s.peek() === '"' ? s.quoted() : s.token();
  return [name.toLowerCase(), value];
}

function readToken68(s: Scanner): string | undefined {
  const start = s.pos;
  while (!s.done && TOKEN68_CHAR.test(s.peek())) s.pos++;
  if (s.pos === start) return undefined;
  while (s.peek() === "=") s.pos++;
  const end = s.pos;
  s.skipSpace();
  if (!s.done && s.peek() !== ",") {
    s.pos = start;
    return undefined;
  }
  return s.text.slice(start, end);
}

/**
 * Parses `WWW-Authenticate` values into challenges. Never throws: malformed
 * parts are skipped.
 *
 * @example A registry's Bearer challenge
 * ```ts
 * import { parseChallenges } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const [c] = parseChallenges(
 *   'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
 * );
 * assert.equal(c.scheme, "bearer");
 * assert.equal(c.params.realm, "https://auth.example/token");
 * ```
 * @param headers One header value, or several (one per header line).
 * @returns Every challenge found, in order.
 */
export function parseChallenges(
  headers: string | readonly string[] | null | undefined,
): Challenge[] {
  if (headers === null || headers === undefined) return [];
  // Anything else than a string or an array (a caller's mistake) has no challenges either.
  const values: readonly unknown[] = typeof headers === "string"
    ? [headers]
    : Array.isArray(headers)
    ? headers
    : [];
  const challenges: Challenge[] = [];
  for (const value of values) {
    if (typeof value !== "string") continue;
    const s = new Scanner(value);
    s.skipSpaceAndCommas();
    while (!s.done) {
      const scheme = s.token();
      if (scheme === "") {
        s.pos++; // not a token character: skip it
        s.skipSpaceAndCommas();
        continue;
      }
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      challenges.push(challenge);
      const afterScheme = s.pos;
      s.skipSpace();
      if (s.pos === afterScheme && !s.done && s.peek() !== ",") {
        // scheme directly followed by a non-space: malformed; resynchronise
        s.pos++;
        s.skipSpaceAndCommas();
        continue;
      }
      // A token68 or a list of parameters follows; a bare token starts the next challenge.
      const param = readParam(s);
      if (param === undefined) {
        const t68 = readToken68(s);
        if (t68 !== undefined) challenge.token68 = t68;
        else while (!s.done && s.peek() !== ",") s.pos++; // junk: skip to the next item
        s.skipSpaceAndCommas();
        continue;
      }
      challenge.params[param[0]] = param[1];
      for (;;) {
        s.skipSpace();
        if (s.peek() !== ",") break;
        s.skipSpaceAndCommas();
        const next = readParam(s);
        if (next === undefined) break; // next challenge (or junk) starts here
        if (!(next[0] in challenge.params)) challenge.params[next[0]] = next[1];
      }
      s.skipSpaceAndCommas();
    }
  }
  return challenges;
}

/** What a registry's challenge asks for, in the shape the token flow needs. */
export interface AuthChallenge {
  /** `bearer` or `basic` (other schemes are not supported). */
  scheme: "bearer" | "basic";
  /** The token endpoint (Bearer) or the protection space name (Basic). */
  realm?: string;
  /** The `service` parameter (Bearer). */
  service?: string;
  /** The scopes named by the challenge (space-separated in the header). */
  scopes: string[];
  /** `error` parameter, e.g. `insufficient_scope` or `invalid_token`. */
  error?: string;
}

/**
 * Picks the challenge regkit can answer: Bearer first, then Basic.
 *
 * @example
 * ```ts
 * import { selectChallenge } from "@regkit/regkit";
 * import assert from "node:assert/strict";
 * const c = selectChallenge('Basic realm="r", Bearer realm="https://a/t",scope="x y"');
 * assert.equal(c?.scheme, "bearer");
 * assert.deepEqual(c?.scopes, ["x", "y"]);
 * ```
 * @param headers The `WWW-Authenticate` value(s).
 * @returns The chosen challenge, or `undefined` when none is supported.
 */
export function selectChallenge(
  headers: string | readonly string[] | null | undefined,
): AuthChallenge | undefined {
  const challenges = parseChallenges(headers);
  const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm);
  const chosen = bearer ?? challenges.find((c) => c.scheme === "basic");
  if (chosen === undefined) return undefined;
  const result: AuthChallenge = {
    scheme: chosen.scheme as "bearer" | "basic",
    scopes: (chosen.params.scope ?? "").split(" ").filter((s) => s !== ""),
  };
  if (chosen.params.realm !== undefined) result.realm = chosen.params.realm;
  if (chosen.params.service !== undefined) result.service = chosen.params.service;
  if (chosen.params.error !== undefined) result.error = chosen.params.error;
  return result;
}
