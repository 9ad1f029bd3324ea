import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import { sha256 } from "./digest.ts";
import { type FetchFunction, Http } from "./http.ts";
import { Logger } from "./log.ts";
import { MANIFEST_ACCEPT, MEDIA_TYPE_OCI_MANIFEST } from "./media_types.ts";
import { parseReference, parseRepository } from "./reference.ts";
import { retryPolicy } from "./retry.ts";
import { Transport } from "./transport.ts";
import {
  getBlob,
  getManifest,
  getTagsPage,
  headBlob,
  headManifest,
  MAX_BLOB_BYTES,
} from "./registry_api.ts";

const HOST = "registry.example";
const MANIFEST = new TextEncoder().encode(
  JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, layers: [] }),
);
const MANIFEST_DIGEST = await sha256(MANIFEST);
const BLOB = new TextEncoder().encode('{"architecture":"amd64"}');
const BLOB_DIGEST = await sha256(BLOB);

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  accept: string | null;
}

/**
 * A scripted registry on `https://registry.example` (nothing is sent anywhere): `/v2/` answers
 * 200 (or a Bearer challenge with `bearer`), the rest from `routes` by "METHOD path".
 */
function registry(
  routes: Record<string, (seen: Seen) => Response>,
  options: { bearer?: boolean } = {},
) {
  const seen: Seen[] = [];
  const fetch: FetchFunction = (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const record = {
      method: init?.method ?? "GET",
      path: url.pathname + url.search,
      authorization: headers.get("authorization"),
      accept: headers.get("accept"),
    };
    seen.push(record);
    const challenge = {
      "www-authenticate": `Bearer realm="https://auth.example/token",service="${HOST}"`,
    };
    if (url.host === "auth.example") {
      return Promise.resolve(Response.json({ token: `t${seen.length}` }));
    }
    if (record.path === "/v2/") {
      return Promise.resolve(
        options.bearer && record.authorization === null
          ? new Response(null, { status: 401, headers: challenge })
          : new Response("{}"),
      );
    }
    if (options.bearer && !record.authorization?.startsWith("Bearer t")) {
      return Promise.resolve(new Response(null, { status: 401, headers: challenge }));
    }
    const route = routes[`${record.method} ${record.path}`];
    return Promise.resolve(route ? route(record) : new Response(null, { status: 404 }));
  };
  const transport = new Transport({
    http: new Http({
      fetch,
      retry: retryPolicy({ retries: 0 }),
      timeoutMs: 1000,
      userAgent: "test",
      logger: new Logger("ERROR"),
    }),
    logger: new Logger("ERROR"),
    credentialsFor: () => Promise.resolve(undefined),
    insecureRegistries: new Set(),
  });
  return { seen, transport, wire: () => seen.filter((s) => s.path !== "/v2/") };
}

const manifestAnswer = (headers: Record<string, string> = {}, body: Uint8Array | null = null) =>
  new Response(body as BodyInit | null, {
    headers: { "content-type": MEDIA_TYPE_OCI_MANIFEST, ...headers },
  });

Deno.test("headManifest() answers present with one HEAD carrying the Accept list", async () => {
  const { transport, wire } = registry({
    "HEAD /v2/org/app/manifests/1": () =>
      manifestAnswer({ "docker-content-digest": MANIFEST_DIGEST }),
  });
  const answer = await headManifest(transport, parseReference(`${HOST}/org/app:1`));
  assert.deepEqual(answer, {
    kind: "present",
    digest: MANIFEST_DIGEST,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
  });
  assert.deepEqual(wire().map((s) => [s.method, s.accept]), [["HEAD", MANIFEST_ACCEPT]]);
});

Deno.test("headManifest() falls back to one GET and hashes the body", async (t) => {
  for (const head of [405, 501, 200]) {
    await t.step(`HEAD answered ${head}${head === 200 ? " without a digest" : ""}`, async () => {
      const { transport, wire } = registry({
        "HEAD /v2/org/app/manifests/1": () => new Response(null, { status: head }),
        "GET /v2/org/app/manifests/1": () => manifestAnswer({}, MANIFEST),
      });
      const answer = await headManifest(transport, parseReference(`${HOST}/org/app:1`));
      assert.equal(answer.kind === "present" && answer.digest, MANIFEST_DIGEST);
      assert.deepEqual(wire().map((s) => s.method), ["HEAD", "GET"]);
    });
  }
});

Deno.test("headManifest() answers absent, or failed with the mapped error", async () => {
  const { transport } = registry({
    "HEAD /v2/org/app/manifests/denied": () => new Response(null, { status: 403 }),
  });
  assert.deepEqual(await headManifest(transport, parseReference(`${HOST}/org/app:nope`)), {
    kind: "absent",
  });
  const failed = await headManifest(transport, parseReference(`${HOST}/org/app:denied`), {
    what: "app:denied",
    action: "get the digest of",
  });
  assert.ok(failed.kind === "failed");
  assert.equal(failed.error.code, "DENIED");
  assert.equal(
    failed.error.message,
    'Cannot get the digest of "app:denied": registry answered 403; tried anonymously (no credentials were found; see `regkit auth explain`)',
  );
});

Deno.test("headManifest() refuses digests it cannot trust", async (t) => {
  const other = "sha256:" + "0".repeat(64);
  const cases: Array<[string, string, Record<string, string>, string]> = [
    ["no valid header", "1", { "docker-content-digest": "not a digest" }, "INVALID_RESPONSE"],
    [
      "an md5 header (#11 item 3)",
      "1",
      { "docker-content-digest": "md5:AAAA" },
      "INVALID_RESPONSE",
    ],
    ["a short sha256", "1", { "docker-content-digest": "sha256:abcd" }, "INVALID_RESPONSE"],
    ["another digest than asked", `${other}`, {
      "docker-content-digest": MANIFEST_DIGEST,
    }, "DIGEST_MISMATCH"],
  ];
  for (const [name, reference, headers, code] of cases) {
    await t.step(name, async () => {
      const { transport } = registry({
        [`HEAD /v2/org/app/manifests/${reference}`]: () => manifestAnswer(headers),
      });
      const separator = reference.includes(":") ? "@" : ":";
      await assert.rejects(
        headManifest(transport, parseReference(`${HOST}/org/app${separator}${reference}`)),
        (e: unknown) => isRegistryError(e, code as "INVALID_RESPONSE"),
      );
    });
  }
});

Deno.test("headManifest() in seed mode sends the given Authorization first, then renews once", async () => {
  const { transport, wire } = registry({
    "HEAD /v2/org/app/manifests/1": () =>
      manifestAnswer({ "docker-content-digest": MANIFEST_DIGEST }),
  }, { bearer: true });
  const heard: string[] = [];
  const answer = await headManifest(transport, parseReference(`${HOST}/org/app:1`), {
    firstAuthorization: "Bearer stale",
    onAuthorization: (authorization) => heard.push(authorization),
  });
  assert.equal(answer.kind, "present");
  const sent = wire().filter((s) => s.path.startsWith("/v2/")).map((s) => s.authorization);
  assert.equal(sent.length, 2);
  assert.equal(sent[0], "Bearer stale");
  assert.deepEqual(heard, [sent[1]]);
  assert.ok(sent[1]?.startsWith("Bearer t"));
});

Deno.test("getManifest() returns the verified, parsed manifest", async (t) => {
  await t.step("as served", async () => {
    const { transport } = registry({
      "GET /v2/org/app/manifests/1": () =>
        manifestAnswer({ "docker-content-digest": MANIFEST_DIGEST }, MANIFEST),
    });
    const result = await getManifest(transport, parseReference(`${HOST}/org/app:1`));
    assert.equal(result.digest, MANIFEST_DIGEST);
    assert.equal(result.mediaType, MEDIA_TYPE_OCI_MANIFEST);
    assert.deepEqual(result.bytes, MANIFEST);
    assert.equal(result.json.schemaVersion, 2);
  });
  await t.step("a body that does not match its header is DIGEST_MISMATCH", async () => {
    const { transport } = registry({
      "GET /v2/org/app/manifests/1": () =>
        manifestAnswer({ "docker-content-digest": BLOB_DIGEST }, MANIFEST),
    });
    await assert.rejects(
      getManifest(transport, parseReference(`${HOST}/org/app:1`)),
      (e: unknown) => isRegistryError(e, "DIGEST_MISMATCH"),
    );
  });
  await t.step("not a JSON object is INVALID_RESPONSE; a 404 is MANIFEST_UNKNOWN", async () => {
    const { transport } = registry({
      "GET /v2/org/app/manifests/1": () => manifestAnswer({}, new TextEncoder().encode("[1]")),
    });
    await assert.rejects(
      getManifest(transport, parseReference(`${HOST}/org/app:1`)),
      (e: unknown) => isRegistryError(e, "INVALID_RESPONSE"),
    );
    await assert.rejects(
      getManifest(transport, parseReference(`${HOST}/org/app:2`)),
      (e: unknown) => isRegistryError(e, "MANIFEST_UNKNOWN") && e.status === 404,
    );
  });
});

Deno.test("headBlob() and getBlob() check a blob by digest, bounded", async (t) => {
  const ref = parseReference(`${HOST}/org/app@${BLOB_DIGEST}`);
  const path = `/v2/org/app/blobs/${BLOB_DIGEST}`;
  await t.step("HEAD: present with its size, absent as undefined", async () => {
    const { transport } = registry({
      [`HEAD ${path}`]: () =>
        new Response(null, {
          headers: { "docker-content-digest": BLOB_DIGEST, "content-length": "24" },
        }),
    });
    assert.deepEqual(await headBlob(transport, ref), { digest: BLOB_DIGEST, size: 24 });
    const missing = parseReference(`${HOST}/org/app@sha256:${"1".repeat(64)}`);
    assert.equal(await headBlob(transport, missing), undefined);
  });
  await t.step("GET: the verified bytes; a wrong body, size or 404 fails typed", async () => {
    const { transport } = registry({
      [`GET ${path}`]: () => new Response(BLOB),
      [`GET /v2/org/app/blobs/sha256:${"2".repeat(64)}`]: () => new Response(BLOB),
    });
    assert.deepEqual(await getBlob(transport, ref, { size: BLOB.byteLength }), BLOB);
    await assert.rejects(
      getBlob(transport, ref, { size: 1 }),
      (e: unknown) => isRegistryError(e, "DIGEST_MISMATCH"),
    );
    await assert.rejects(
      getBlob(transport, ref, { maxBytes: 4 }),
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE"),
    );
    await assert.rejects(
      getBlob(transport, parseReference(`${HOST}/org/app@sha256:${"2".repeat(64)}`)),
      (e: unknown) => isRegistryError(e, "DIGEST_MISMATCH"),
    );
    await assert.rejects(
      getBlob(transport, parseReference(`${HOST}/org/app@sha256:${"3".repeat(64)}`)),
      (e: unknown) => isRegistryError(e, "BLOB_UNKNOWN") && e.status === 404,
    );
    assert.equal(MAX_BLOB_BYTES, 8 * 1024 * 1024);
  });
});

Deno.test("getTagsPage() returns one page, where it came from and the next one", async () => {
  const { transport, wire } = registry({
    "GET /v2/org/app/tags/list": () =>
      Response.json({ name: "org/app", tags: ["1", 2, "3"] }, {
        headers: { link: '</v2/org/app/tags/list?last=3&n=2>; rel="next"' },
      }),
    "GET /v2/org/app/tags/list?last=3&n=2": () => Response.json({ tags: ["4"] }),
  });
  const repo = parseRepository(`${HOST}/org/app`);
  const first = await getTagsPage(transport, repo);
  const firstBody = JSON.stringify({ name: "org/app", tags: ["1", 2, "3"] });
  assert.deepEqual(first, {
    tags: ["1", "3"],
    location: "/v2/org/app/tags/list",
    next: "/v2/org/app/tags/list?last=3&n=2",
    bytes: firstBody.length,
  });
  const second = await getTagsPage(transport, repo, { page: first.next });
  assert.deepEqual(second, {
    tags: ["4"],
    location: "/v2/org/app/tags/list?last=3&n=2",
    bytes: JSON.stringify({ tags: ["4"] }).length,
  });
  await assert.rejects(
    getTagsPage(transport, repo, { maxBytes: firstBody.length - 1 }),
    (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE"),
  );
  assert.deepEqual(wire().map((s) => s.accept), Array(3).fill("application/json"));
  await assert.rejects(
    getTagsPage(transport, parseRepository(`${HOST}/org/none`)),
    (e: unknown) => isRegistryError(e, "NAME_UNKNOWN"),
  );
});

Deno.test("headManifest() does not call a 200 that is no manifest present (#11 item 3)", async (t) => {
  const bodies: Array<[string, string, string]> = [
    ["an SSO login page", "text/html; charset=utf-8", "<html><body>Sign in</body></html>"],
    ["JSON that is no manifest", "application/json", '{"ok":true}'],
    ["not JSON at all", "application/vnd.oci.image.manifest.v1+json", "hello"],
  ];
  for (const [name, type, body] of bodies) {
    await t.step(name, async () => {
      const { transport, wire } = registry({
        "HEAD /v2/org/app/manifests/1": () => new Response(null, { status: 200 }),
        "GET /v2/org/app/manifests/1": () =>
          new Response(body, { status: 200, headers: { "content-type": type } }),
      });
      await assert.rejects(
        headManifest(transport, parseReference(`${HOST}/org/app:1`)),
        (e: unknown) =>
          isRegistryError(e, "INVALID_RESPONSE") && /answered 200 with/.test(e.message),
      );
      assert.deepEqual(wire().map((s) => s.method), ["HEAD", "GET"]);
    });
  }
});
