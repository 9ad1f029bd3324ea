/**
 * Transport behaviour the real registry cannot provoke (issue 4): rate limits with
 * `Retry-After`, persistent 503s, connection resets, cross-origin redirects, realms on other
 * hosts, slow bodies and aborts. Every fixture is on a loopback address; the client's `fetch`
 * refuses anything else, and every test asserts exact request counts.
 */
import assert from "node:assert/strict";
import {
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  type ExistsResult,
  isRegistryError,
} from "../mod.ts";
import {
  errorResponse,
  type FaultHandler,
  imageResponse,
  jsonResponse,
  pause,
  type RecordedRequest,
  type RecordingFetch,
  recordingFetch,
  type ServedImage,
  startFaultServer,
  startRawServer,
  writeResponse,
} from "./_fault_server.ts";
import { buildImage } from "./_images.ts";

const REPO = "app";
const image: ServedImage = { repository: REPO, tags: ["1"], ...await buildImage() };

function clientWith(
  recorder: RecordingFetch,
  options: ContainerRegistryClientOptions = {},
): ContainerRegistryClient {
  return new ContainerRegistryClient({
    env: () => undefined, // no ambient credentials
    fetch: recorder.fetch,
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

function describe(result: ExistsResult): string {
  return result.status === "unknown" ? `unknown ${result.code}` : result.status;
}

const isManifestHead = (r: RecordedRequest) =>
  r.method === "HEAD" && r.path.includes("/manifests/");

/** An anonymous registry whose manifest HEADs are answered by `fault` first. */
function anonymousRegistry(
  fault: (attempt: number, record: RecordedRequest) => Response | undefined,
): FaultHandler {
  let attempt = 0;
  return (record) => {
    if (record.path === "/v2/") return jsonResponse({});
    if (isManifestHead(record)) {
      const injected = fault(attempt++, record);
      if (injected !== undefined) return injected;
    }
    return imageResponse(record, image) ?? errorResponse(404, "NOT_FOUND");
  };
}

Deno.test("exists() retries a 429 with Retry-After: 1 once, then answers present", async () => {
  await using server = await startFaultServer(
    anonymousRegistry((attempt) =>
      attempt === 0 ? errorResponse(429, "TOOMANYREQUESTS", { "retry-after": "1" }) : undefined
    ),
  );
  const recorder = recordingFetch();
  await using client = clientWith(recorder, { retries: 3 });
  const result = await client.exists(`${server.host}/${REPO}:1`);
  assert.equal(describe(result), "present");
  assert.equal(result.status === "present" && result.digest, image.digest);
  assert.equal(server.count(isManifestHead), 2);
  assert.equal(client.stats.retries, 1);
  recorder.assertLoopbackOnly();
});

Deno.test("exists() answers unknown, never absent, after exactly retries+1 503s", async () => {
  for (const retries of [0, 1, 3]) {
    await using server = await startFaultServer(
      anonymousRegistry(() => errorResponse(503, "UNAVAILABLE")),
    );
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries });
    const result = await client.exists(`${server.host}/${REPO}:1`);
    assert.equal(result.status, "unknown", `retries=${retries}`);
    assert.ok(result.status === "unknown");
    assert.equal(result.code, "UNEXPECTED_STATUS");
    assert.equal(result.error.status, 503);
    assert.equal(result.error.temporary, true);
    assert.equal(server.count(isManifestHead), retries + 1, `retries=${retries}`);
    assert.equal(client.stats.retries, retries);
    recorder.assertLoopbackOnly();
  }
});

Deno.test("exists() honours Retry-After given as an HTTP date", async (t) => {
  const httpDate = (offsetMs: number) => new Date(Date.now() + offsetMs).toUTCString();
  await t.step("a date one second ahead: retried once, present", async () => {
    await using server = await startFaultServer(
      anonymousRegistry((attempt) =>
        attempt === 0
          ? errorResponse(429, "TOOMANYREQUESTS", { "retry-after": httpDate(1000) })
          : undefined
      ),
    );
    const recorder = recordingFetch();
    await using client = clientWith(recorder);
    assert.equal(describe(await client.exists(`${server.host}/${REPO}:1`)), "present");
    assert.equal(server.count(isManifestHead), 2);
  });
  await t.step("a date in the past: retried at once, present", async () => {
    await using server = await startFaultServer(
      anonymousRegistry((attempt) =>
        attempt === 0
          ? errorResponse(503, "UNAVAILABLE", { "retry-after": httpDate(-60_000) })
          : undefined
      ),
    );
    const recorder = recordingFetch();
    await using client = clientWith(recorder);
    assert.equal(describe(await client.exists(`${server.host}/${REPO}:1`)), "present");
    assert.equal(server.count(isManifestHead), 2);
  });
  await t.step("a date beyond maxRetryAfterMs: no retry, unknown TOOMANYREQUESTS", async () => {
    // Had the date not been parsed, the client would have backed off and retried.
    await using server = await startFaultServer(
      anonymousRegistry(() =>
        errorResponse(429, "TOOMANYREQUESTS", { "retry-after": httpDate(3_600_000) })
      ),
    );
    const recorder = recordingFetch();
    await using client = clientWith(recorder, {
      retries: 5,
      backoff: { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10_000 },
    });
    const result = await client.exists(`${server.host}/${REPO}:1`);
    assert.equal(describe(result), "unknown TOOMANYREQUESTS");
    assert.equal(server.count(isManifestHead), 1);
    assert.equal(client.stats.retries, 0);
  });
});

/** A raw server: `/v2/` answers 200; manifest HEADs are reset `resets` times, then answered. */
function resettingRegistry(resets: number) {
  let heads = 0;
  return startRawServer(async (request, conn) => {
    if (request.path === "/v2/") {
      await writeResponse(conn, 200, { "content-type": "application/json" }, "{}");
      return;
    }
    if (request.method === "HEAD" && request.path === `/v2/${REPO}/manifests/1`) {
      if (heads++ < resets) return; // close without a byte: the peer sees a reset
      await writeResponse(
        conn,
        200,
        {
          "content-type": image.mediaType,
          "docker-content-digest": image.digest,
          "content-length": String(image.manifest.length),
        },
        image.manifest,
        { head: true },
      );
      return;
    }
    await writeResponse(conn, 404, {}, "");
  });
}

Deno.test("exists() retries a reset connection", async (t) => {
  const headCount = (server: ReturnType<typeof startRawServer>) =>
    server.requests.filter((r) => r.method === "HEAD").length;
  await t.step("two resets, then an answer: present after two retries", async () => {
    await using server = resettingRegistry(2);
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 3 });
    const result = await client.exists(`${server.host}/${REPO}:1`);
    assert.equal(describe(result), "present");
    assert.equal(headCount(server), 3);
    assert.equal(client.stats.retries, 2);
    // one https probe (answered like an HTTP server would), then plain HTTP
    assert.equal(server.tlsProbes, 1);
    recorder.assertLoopbackOnly();
  });
  await t.step("resets outlasting the retries: unknown NETWORK after retries+1", async () => {
    await using server = resettingRegistry(100);
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 2 });
    const result = await client.exists(`${server.host}/${REPO}:1`);
    assert.equal(describe(result), "unknown NETWORK");
    assert.equal(headCount(server), 3);
  });
});

/**
 * A token-auth registry on 127.0.0.1 that redirects manifest and blob requests to `target`
 * (another origin), plus the blob store there.
 */
async function redirectingRegistry(targetHost: "127.0.0.2" | "localhost", sameOrigin = false) {
  const store = await startFaultServer(
    (record) => imageResponse(record, image) ?? errorResponse(404, "NOT_FOUND"),
    { hostname: targetHost === "localhost" ? "127.0.0.1" : targetHost },
  );
  const storeOrigin = `http://${targetHost}:${store.port}`;
  const registry = await startFaultServer((record) => {
    const origin = `http://127.0.0.1:${registry.port}`;
    if (record.path === "/v2/" || record.authorization !== "Bearer tok-redirect-secret") {
      if (record.path.startsWith("/token")) {
        return jsonResponse({ token: "tok-redirect-secret", expires_in: 300 });
      }
      if (record.path.startsWith("/stored/")) return errorResponse(401, "UNAUTHORIZED");
      return errorResponse(401, "UNAUTHORIZED", {
        "www-authenticate": `Bearer realm="${origin}/token",service="fixture"`,
      });
    }
    if (record.path.startsWith("/stored/")) {
      return imageResponse({ ...record, path: record.path.slice("/stored".length) }, image) ??
        errorResponse(404, "NOT_FOUND");
    }
    const location = sameOrigin ? `${origin}/stored${record.path}` : `${storeOrigin}${record.path}`;
    return new Response(null, { status: 307, headers: { location } });
  });
  return { registry, store };
}

Deno.test("a redirect to another origin carries no Authorization", async (t) => {
  for (const target of ["127.0.0.2", "localhost"] as const) {
    await t.step(`manifest GET, HEAD and blob GET redirected to ${target}`, async () => {
      const { registry, store } = await redirectingRegistry(target);
      await using _registry = registry;
      await using _store = store;
      const recorder = recordingFetch();
      await using client = clientWith(recorder, { retries: 0 });
      const ref = `${registry.host}/${REPO}:1`;
      const manifest = await client.manifest(ref);
      assert.equal(manifest.digest, image.digest);
      assert.equal(describe(await client.exists(ref)), "present");
      const info = await client.inspect(ref);
      assert.equal(info.Digest, image.digest);
      // the registry saw the token on every redirected request ...
      const redirected = registry.requests.filter((r) => r.path.startsWith(`/v2/${REPO}/`));
      assert.equal(redirected.length, 4); // manifest(), exists(), inspect(): manifest + blob
      assert.ok(redirected.every((r) => r.authorization === "Bearer tok-redirect-secret"));
      // ... the other origin got the four requests, and never an Authorization header
      assert.deepEqual(store.requests.map((r) => `${r.method} ${r.path.split("/")[3]}`), [
        "GET manifests",
        "HEAD manifests",
        "GET manifests",
        "GET blobs",
      ]);
      assert.ok(store.requests.every((r) => r.authorization === null));
      assert.ok(recorder.urls.some((u) => u.startsWith(`http://${target}:${store.port}/`)));
      recorder.assertLoopbackOnly();
    });
  }
  await t.step("a same-origin redirect keeps it (control)", async () => {
    const { registry, store } = await redirectingRegistry("127.0.0.2", true);
    await using _registry = registry;
    await using _store = store;
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 0 });
    const manifest = await client.manifest(`${registry.host}/${REPO}:1`);
    assert.equal(manifest.digest, image.digest);
    const stored = registry.requests.filter((r) => r.path.startsWith("/stored/"));
    assert.equal(stored.length, 1);
    assert.equal(stored[0].authorization, "Bearer tok-redirect-secret");
    assert.equal(store.requests.length, 0);
  });
});

Deno.test("an http realm on another host is rejected before any credential is sent", async () => {
  const realm = "http://auth.registry.example/token";
  await using server = await startFaultServer((record) =>
    record.path === "/v2/"
      ? errorResponse(401, "UNAUTHORIZED", {
        "www-authenticate": `Bearer realm="${realm}",service="fixture"`,
      })
      : errorResponse(401, "UNAUTHORIZED")
  );
  const recorder = recordingFetch();
  await using client = clientWith(recorder, { username: "alice", password: "realm-pw-secret" });
  const result = await client.exists(`${server.host}/${REPO}:1`);
  assert.equal(describe(result), "unknown REALM_REJECTED");
  await assert.rejects(
    client.manifest(`${server.host}/${REPO}:1`),
    (e: unknown) => isRegistryError(e, "REALM_REJECTED"),
  );
  // nothing but the one ping went out, and it carried no credentials
  assert.deepEqual(server.requests.map((r) => r.path), ["/v2/"]);
  assert.ok(server.requests.every((r) => r.authorization === null));
  assert.ok(recorder.urls.every((u) => new URL(u).host === server.host), recorder.urls.join());
  recorder.assertLoopbackOnly();
});

/** An anonymous registry whose manifest answers send headers, then stall the body. */
function stallingRegistry(stall: "headers" | "body") {
  return startFaultServer(async (record, _request, closing) => {
    if (record.path === "/v2/") return jsonResponse({});
    if (stall === "headers") {
      await pause(10_000, closing);
      return errorResponse(503, "UNAVAILABLE");
    }
    const cancelled = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(image.manifest.slice(0, 10));
        await pause(10_000, AbortSignal.any([closing, cancelled.signal]));
        try {
          controller.close();
        } catch {
          // the client went away
        }
      },
      cancel() {
        cancelled.abort();
      },
    });
    return new Response(record.method === "HEAD" ? null : body, {
      headers: { "content-type": image.mediaType, "docker-content-digest": image.digest },
    });
  });
}

Deno.test("a body slower than timeoutMs ends with TIMEOUT, retried", async (t) => {
  await t.step("manifest(): headers arrive, the body stalls", async () => {
    await using server = await stallingRegistry("body");
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 1, timeoutMs: 300 });
    await assert.rejects(
      client.manifest(`${server.host}/${REPO}:1`),
      (e: unknown) => isRegistryError(e, "TIMEOUT") && e.temporary,
    );
    assert.equal(server.count((r) => r.method === "GET" && r.path.includes("/manifests/")), 2);
  });
  await t.step("exists(): no headers at all", async () => {
    await using server = await stallingRegistry("headers");
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 2, timeoutMs: 300 });
    const result = await client.exists(`${server.host}/${REPO}:1`);
    assert.equal(describe(result), "unknown TIMEOUT");
    assert.equal(server.count(isManifestHead), 3);
  });
});

Deno.test("an aborted signal ends with ABORTED, without retries", async (t) => {
  await t.step("aborted while the registry stalls", async () => {
    const controller = new AbortController();
    await using server = await startFaultServer(async (record, _request, closing) => {
      if (record.path === "/v2/") return jsonResponse({});
      controller.abort();
      await pause(10_000, closing);
      return errorResponse(503, "UNAVAILABLE");
    });
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 5 });
    const result = await client.exists(`${server.host}/${REPO}:1`, { signal: controller.signal });
    assert.equal(describe(result), "unknown ABORTED");
    assert.equal(server.count(isManifestHead), 1);
    assert.equal(client.stats.retries, 0);
  });
  await t.step("aborted before the call: nothing is sent", async () => {
    await using server = await startFaultServer(() => jsonResponse({}));
    const recorder = recordingFetch();
    await using client = clientWith(recorder);
    await assert.rejects(
      client.manifest(`${server.host}/${REPO}:1`, { signal: AbortSignal.abort() }),
      (e: unknown) => isRegistryError(e, "ABORTED"),
    );
    assert.equal(server.requests.length, 0);
    assert.equal(recorder.urls.length, 0);
  });
  await t.step("the client-wide signal aborts a backoff wait", async () => {
    const controller = new AbortController();
    await using server = await startFaultServer(anonymousRegistry(() => {
      controller.abort();
      return errorResponse(429, "TOOMANYREQUESTS", { "retry-after": "20" });
    }));
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 5, signal: controller.signal });
    const result = await client.exists(`${server.host}/${REPO}:1`);
    assert.equal(describe(result), "unknown ABORTED");
    assert.equal(server.count(isManifestHead), 1);
  });
});

Deno.test("a token request redirected to another origin sends it no credential", async (t) => {
  const identityToken = "idt-redirect-secret-7c1";
  for (const status of [307, 308, 302, 303]) {
    await t.step(`POST refresh_token answered ${status}`, async () => {
      await using elsewhere = await startFaultServer(
        () => jsonResponse({ access_token: "tok-from-elsewhere", expires_in: 300 }),
        { hostname: "127.0.0.2" },
      );
      await using server = await startFaultServer((record) => {
        if (record.path.startsWith("/token")) {
          return new Response(null, {
            status,
            headers: { location: `http://127.0.0.2:${elsewhere.port}/token` },
          });
        }
        return errorResponse(401, "UNAUTHORIZED", {
          "www-authenticate": `Bearer realm="${server.url}/token",service="fixture"`,
        });
      });
      const recorder = recordingFetch();
      await using client = clientWith(recorder, {
        retries: 0,
        authFile: "/fixture/auth.json",
        readTextFile: () =>
          Promise.resolve(
            JSON.stringify({ auths: { [server.host]: { identitytoken: identityToken } } }),
          ),
      });
      const result = await client.exists(`${server.host}/${REPO}:1`);
      // 307/308 would resend the form: refused; 302/303 turn it into a GET without it
      assert.equal(
        describe(result),
        status >= 307 ? "unknown INVALID_RESPONSE" : "unknown UNAUTHORIZED",
      );
      assert.equal(elsewhere.requests.length, status >= 307 ? 0 : 2);
      // the realm got the refresh token in its POST body; the other origin never did
      const posts = server.requests.filter((r) => r.method === "POST");
      assert.ok(posts.length >= 1);
      assert.ok(posts.every((r) => r.body.includes(identityToken)));
      for (const request of elsewhere.requests) {
        assert.ok(!request.body.includes(identityToken), `${status}: body leaked`);
        assert.ok(!request.path.includes(identityToken), `${status}: query leaked`);
        assert.equal(request.authorization, null);
      }
      recorder.assertLoopbackOnly();
    });
  }
});
