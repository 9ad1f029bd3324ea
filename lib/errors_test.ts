import assert from "node:assert/strict";
import {
  parseDiagnostics,
  RegistryError,
  type RegistryErrorCode,
  type StatusContext,
  statusError,
  TEMPORARY_STATUSES,
} from "./errors.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const oci = (code: string, message?: string) =>
  JSON.stringify({ errors: [{ code, ...(message === undefined ? {} : { message }) }] });

const BODIES = {
  empty: "",
  text: "<html>Bad Gateway</html>",
  nameUnknown: oci("NAME_UNKNOWN", "repository name not known to registry"),
  blobUnknown: oci("BLOB_UNKNOWN"),
  tagInvalid: oci("TAG_INVALID", "manifest tag did not match URI"),
  unsupported: oci("UNSUPPORTED"),
  denied: oci("DENIED", "requested access to the resource is denied"),
  oauth: JSON.stringify({ error: "invalid_grant", error_description: "bad refresh token" }),
} as const;

type Body = keyof typeof BODIES;

/** status, body, context → code. Every row is a decision someone relies on. */
const TABLE: Array<[number, Body, StatusContext, RegistryErrorCode]> = [
  // 401, 403 and 429 mean the same from anyone, whatever the body says
  [401, "empty", "manifest", "UNAUTHORIZED"],
  [401, "denied", "tags", "UNAUTHORIZED"],
  [401, "oauth", "token", "UNAUTHORIZED"],
  [401, "empty", "api", "UNAUTHORIZED"],
  [403, "empty", "manifest", "DENIED"],
  [403, "text", "blob", "DENIED"],
  [403, "oauth", "token", "DENIED"],
  [403, "empty", "api", "DENIED"], // a 403 on a Basic login is DENIED, as everywhere else
  [429, "empty", "manifest", "TOOMANYREQUESTS"],
  [429, "empty", "token", "TOOMANYREQUESTS"],
  [429, "empty", "api", "TOOMANYREQUESTS"],
  // 404: the body's *_UNKNOWN code, else what was asked for
  [404, "empty", "manifest", "MANIFEST_UNKNOWN"],
  [404, "nameUnknown", "manifest", "NAME_UNKNOWN"],
  [404, "blobUnknown", "manifest", "BLOB_UNKNOWN"],
  [404, "text", "manifest", "MANIFEST_UNKNOWN"],
  [404, "empty", "blob", "BLOB_UNKNOWN"],
  [404, "nameUnknown", "blob", "NAME_UNKNOWN"],
  [404, "empty", "tags", "NAME_UNKNOWN"],
  [404, "tagInvalid", "manifest", "MANIFEST_UNKNOWN"],
  [404, "empty", "api", "UNEXPECTED_STATUS"], // no /v2/: not a registry answer about an image
  [404, "nameUnknown", "token", "TOKEN_EXCHANGE_FAILED"], // a realm's body is not the registry's
  // other statuses: a registry's spec code is kept, else UNEXPECTED_STATUS
  [400, "tagInvalid", "manifest", "TAG_INVALID"],
  [400, "unsupported", "tags", "UNSUPPORTED"],
  [400, "empty", "manifest", "UNEXPECTED_STATUS"],
  [400, "denied", "manifest", "UNEXPECTED_STATUS"],
  [405, "unsupported", "manifest", "UNSUPPORTED"],
  [500, "empty", "manifest", "UNEXPECTED_STATUS"],
  [502, "text", "blob", "UNEXPECTED_STATUS"],
  [503, "empty", "api", "UNEXPECTED_STATUS"],
  // a token realm's failures are token exchange failures
  [400, "oauth", "token", "TOKEN_EXCHANGE_FAILED"],
  [400, "tagInvalid", "token", "TOKEN_EXCHANGE_FAILED"],
  [500, "empty", "token", "TOKEN_EXCHANGE_FAILED"],
  [502, "text", "token", "TOKEN_EXCHANGE_FAILED"],
];

Deno.test("statusError() maps status × body × context to one code", async (t) => {
  for (const [status, body, context, code] of TABLE) {
    await t.step(`${status} ${body} ${context} → ${code}`, () => {
      const error = statusError(
        { status, headers: new Headers(), body: encode(BODIES[body]) },
        { action: "check", what: "quay.io/org/app:1", context },
      );
      assert.ok(error instanceof RegistryError);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assert.equal(error.temporary, TEMPORARY_STATUSES.has(status));
    });
  }
});

Deno.test("statusError() says what could not be done, who answered and the registry's words", async (t) => {
  const cases: Array<[Body, string | undefined, string]> = [
    ["empty", undefined, 'Cannot check "quay.io/org/app:1": registry answered 404'],
    [
      "nameUnknown",
      undefined,
      'Cannot check "quay.io/org/app:1": registry answered 404 NAME_UNKNOWN: repository name not known to registry',
    ],
    [
      "blobUnknown",
      undefined,
      'Cannot check "quay.io/org/app:1": registry answered 404 BLOB_UNKNOWN',
    ],
    [
      "oauth",
      "the token realm https://auth.example",
      'Cannot check "quay.io/org/app:1": the token realm https://auth.example answered 404: bad refresh token',
    ],
    ["text", undefined, 'Cannot check "quay.io/org/app:1": registry answered 404'],
  ];
  for (const [body, from, message] of cases) {
    await t.step(body, () => {
      const error = statusError(
        { status: 404, headers: new Headers(), body: encode(BODIES[body]) },
        { action: "check", what: "quay.io/org/app:1", ...(from === undefined ? {} : { from }) },
      );
      assert.equal(error.message, message);
    });
  }
});

Deno.test("statusError() ends a 401 or 403 message with the credentials tried, nothing else", () => {
  const tried = 'user "alice" from /run/auth.json (key "quay.io")';
  const message = (status: number) =>
    statusError(
      { status, headers: new Headers(), body: encode(BODIES.empty), tried },
      { action: "check", what: "quay.io/org/app:1" },
    ).message;
  assert.equal(
    message(401),
    `Cannot check "quay.io/org/app:1": registry answered 401; tried ${tried}`,
  );
  assert.equal(
    message(403),
    `Cannot check "quay.io/org/app:1": registry answered 403; tried ${tried}`,
  );
  for (const status of [404, 429, 500]) {
    assert.ok(!message(status).includes("tried"), String(status));
  }
});

Deno.test("statusError() keeps Retry-After given as seconds or as an HTTP date", async (t) => {
  const answer = (value: string) => ({
    status: 429,
    headers: new Headers({ "retry-after": value }),
    body: new Uint8Array(),
  });
  const context = { action: "check", what: "x" };
  await t.step("seconds", () => {
    assert.equal(statusError(answer("7"), context).retryAfterSeconds, 7);
  });
  await t.step("a date in the future", () => {
    const date = new Date(Date.now() + 90_000).toUTCString();
    const seconds = statusError(answer(date), context).retryAfterSeconds;
    assert.ok(seconds !== undefined && seconds > 80 && seconds <= 90, String(seconds));
  });
  await t.step("a date in the past, 0 or garbage: not set", () => {
    for (const value of [new Date(0).toUTCString(), "0", "soon", "-3"]) {
      assert.equal(statusError(answer(value), context).retryAfterSeconds, undefined, value);
    }
  });
});

Deno.test("statusError() bounds what a hostile body puts in the message", () => {
  const long = "x".repeat(10_000);
  for (const body of [oci("DENIED", `${long}\n\u001b[2Jforged`), JSON.stringify({ error: long })]) {
    const error = statusError(
      { status: 403, headers: new Headers(), body: encode(body) },
      { action: "check", what: "x", context: "token" },
    );
    assert.ok(error.message.length < 400, String(error.message.length));
    assert.ok(!error.message.includes("\n") && !error.message.includes("\u001b"));
  }
});

Deno.test("parseDiagnostics() reads OCI error bodies and nothing else", () => {
  assert.deepEqual(parseDiagnostics(encode(oci("NAME_UNKNOWN", "gone"))), [
    { code: "NAME_UNKNOWN", message: "gone" },
  ]);
  assert.deepEqual(
    parseDiagnostics(encode(JSON.stringify({ errors: [{ code: "X", detail: { a: 1 } }, 3] }))),
    [{ code: "X", detail: { a: 1 } }],
  );
  for (const body of ["", "null", "[]", "not json", BODIES.oauth, '{"errors":"no"}']) {
    assert.deepEqual(parseDiagnostics(encode(body)), [], body);
  }
  const many = JSON.stringify({ errors: Array.from({ length: 50 }, () => ({ code: "X" })) });
  assert.equal(parseDiagnostics(encode(many)).length, 20);
});

Deno.test("TEMPORARY_STATUSES is what RegistryError.temporary reads", () => {
  assert.deepEqual([...TEMPORARY_STATUSES].sort(), [408, 429, 500, 502, 503, 504]);
  for (const status of [400, 401, 403, 404, 501]) {
    assert.equal(new RegistryError("UNEXPECTED_STATUS", "x", { status }).temporary, false);
  }
});
