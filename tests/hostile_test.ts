/**
 * Hostile and quirky registries, as fault-server fixtures that mimic documented behaviour:
 * Docker Hub's 401 for a missing repository, Artifactory's 403 for a missing tag, GCR's
 * challenge only on `/v2/`, realms that must not receive credentials, blob stores on another
 * origin, and answers too large to read. Every fixture is on loopback; the client's `fetch`
 * refuses anything else.
 */
import assert from "node:assert/strict";
import {
  AuthTokenWrapper,
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  type ExistsResult,
  isRegistryError,
  type LogRecord,
} from "../mod.ts";
import {
  countingStream,
  errorResponse,
  type FaultHandler,
  type FaultServer,
  imageResponse,
  jsonResponse,
  type RecordedRequest,
  type RecordingFetch,
  recordingFetch,
  type ServedImage,
  startFaultServer,
} from "./_fault_server.ts";
import { buildImage } from "./_images.ts";

const image: ServedImage = { repository: "org/app", tags: ["1"], ...await buildImage() };
const MiB = 1024 * 1024;

function clientWith(
  recorder: RecordingFetch,
  options: ContainerRegistryClientOptions = {},
): ContainerRegistryClient {
  return new ContainerRegistryClient({
    env: () => undefined,
    fetch: recorder.fetch,
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    retries: 2,
    timeoutMs: 10_000,
    ...options,
  });
}

function describe(result: ExistsResult): string {
  return result.status === "unknown" ? `unknown ${result.code}` : result.status;
}

const isToken = (r: RecordedRequest) => r.path.startsWith("/token");
const manifestOf = (repository: string) => (r: RecordedRequest) =>
  r.path.startsWith(`/v2/${repository}/manifests/`);

interface BearerOptions {
  /** The realm in the challenge, from the fixture's origin. */
  realm?: (origin: string) => string;
  /** Whether 401s on API paths carry a challenge (GCR: only `/v2/` does). */
  challengeOnApi?: boolean;
  /** Handles an authorised API request; undefined falls through to the image. */
  api?: (record: RecordedRequest, origin: string) => Response | undefined;
  /** Answers the token endpoint. */
  token?: (record: RecordedRequest) => Response;
}

/** A Bearer registry on 127.0.0.1 serving `image`, with its token endpoint on the same origin. */
async function bearerRegistry(options: BearerOptions = {}): Promise<FaultServer> {
  const {
    realm = (origin) => `${origin}/token`,
    challengeOnApi = true,
    api,
    token = () => jsonResponse({ token: "hostile-token-secret", expires_in: 300 }),
  } = options;
  let origin = "";
  const challenge = (extra = "") => ({
    "www-authenticate": `Bearer realm="${realm(origin)}",service="fixture"${extra}`,
  });
  const handler: FaultHandler = (record) => {
    if (isToken(record)) return token(record);
    if (record.authorization !== "Bearer hostile-token-secret") {
      const headers = record.path === "/v2/" || challengeOnApi ? challenge() : {};
      return errorResponse(401, "UNAUTHORIZED", headers);
    }
    if (record.path === "/v2/") return jsonResponse({});
    return api?.(record, origin) ?? imageResponse(record, image) ??
      errorResponse(404, "NOT_FOUND");
  };
  const server = await startFaultServer(handler);
  origin = server.url;
  return server;
}

Deno.test("Docker Hub: a 401 for a missing repository is unknown UNAUTHORIZED, not absent", async () => {
  await using server = await bearerRegistry({
    api: (record, origin) => {
      if (!record.path.startsWith("/v2/nosuch/repo/")) return undefined;
      // Docker Hub: a repository that does not exist (or is private) answers 401 with an
      // insufficient_scope challenge, never 404.
      return errorResponse(401, "UNAUTHORIZED", {
        "www-authenticate":
          `Bearer realm="${origin}/token",service="fixture",scope="repository:nosuch/repo:pull",error="insufficient_scope"`,
      });
    },
  });
  const recorder = recordingFetch();
  await using client = clientWith(recorder);
  const missing = await client.exists(`${server.host}/nosuch/repo:1`);
  assert.equal(describe(missing), "unknown UNAUTHORIZED");
  // one renewal and one retry, no loop
  assert.equal(server.count(manifestOf("nosuch/repo")), 2);
  assert.equal(server.count(isToken), 2);
  assert.equal(describe(await client.exists(`${server.host}/org/app:1`)), "present");
  await assert.rejects(
    client.manifest(`${server.host}/nosuch/repo:1`),
    (e: unknown) => isRegistryError(e, "UNAUTHORIZED") && e.status === 401,
  );
  recorder.assertLoopbackOnly();
});

Deno.test("Artifactory: a 403 for a missing tag is unknown DENIED, not retried", async () => {
  await using server = await bearerRegistry({
    api: (record) =>
      record.path.includes("/manifests/missing")
        ? jsonResponse({ errors: [{ status: 403, message: "Forbidden" }] }, 403)
        : undefined,
  });
  const recorder = recordingFetch();
  await using client = clientWith(recorder);
  const result = await client.exists(`${server.host}/org/app:missing`);
  assert.equal(describe(result), "unknown DENIED");
  assert.equal(server.count((r) => r.path.includes("/manifests/missing")), 1);
  await assert.rejects(
    client.digest(`${server.host}/org/app:missing`),
    (e: unknown) => isRegistryError(e, "DENIED") && e.status === 403,
  );
  assert.equal(describe(await client.exists(`${server.host}/org/app:1`)), "present");
  recorder.assertLoopbackOnly();
});

Deno.test("GCR: a challenge only on /v2/ is enough (the client pings first)", async () => {
  await using server = await bearerRegistry({ challengeOnApi: false });
  const recorder = recordingFetch();
  await using client = clientWith(recorder);
  const results = [];
  for await (
    const r of client.existsMany([`${server.host}/org/app:1`, `${server.host}/org/app:2`])
  ) {
    results.push(describe(r));
  }
  assert.deepEqual(results, ["present", "absent"]);
  assert.equal(server.count((r) => r.path === "/v2/"), 1);
  // the token went out up front: no manifest request was answered 401
  assert.equal(server.count((r) => r.path.includes("/manifests/") && r.authorization === null), 0);
  assert.equal(server.count(manifestOf("org/app")), 2);
  recorder.assertLoopbackOnly();
});

Deno.test("realms that could leak credentials are rejected before anything is sent", async (t) => {
  const cases: Array<[string, (origin: string) => string]> = [
    ["http on another host", () => "http://auth.registry.example/token"],
    ["not a URL", () => "not a url"],
    ["a relative path", () => "/token"],
    ["a private address", () => "https://10.0.0.1/token"],
    ["the metadata address", () => "https://169.254.169.254/latest/meta-data/"],
    ["a private IPv6 address", () => "https://[fd00::1]/token"],
    ["a LAN address over http", () => "http://192.168.1.10/token"],
    ["a non-http scheme", () => "file:///etc/passwd"],
    ["user info", (origin) => origin.replace("http://", "http://user:pw@") + "/token"],
  ];
  for (const [name, realm] of cases) {
    await t.step(name, async () => {
      await using server = await bearerRegistry({ realm });
      const recorder = recordingFetch();
      const password = "realm-leak-pw-secret";
      await using client = clientWith(recorder, { username: "alice", password });
      const ref = `${server.host}/org/app:1`;
      assert.equal(describe(await client.exists(ref)), "unknown REALM_REJECTED");
      for await (const r of client.existsMany([ref, `${server.host}/org/other:1`])) {
        assert.equal(describe(r), "unknown REALM_REJECTED");
      }
      await assert.rejects(client.manifest(ref), (e) => isRegistryError(e, "REALM_REJECTED"));
      await assert.rejects(
        client.tags("" + `${server.host}/org/app`),
        (e) => isRegistryError(e, "REALM_REJECTED"),
      );
      const [present, message] = await client.checkContainerImageExists(
        ref,
        new AuthTokenWrapper(),
      );
      assert.equal(present, false);
      assert.match(message, /REALM_REJECTED/);
      // the fixture saw pings and 401s only, never a credential, never a token request
      assert.equal(server.count(isToken), 0);
      assert.ok(server.requests.every((r) => r.authorization === null));
      // and nothing went anywhere else
      assert.deepEqual(recorder.refused, []);
      assert.ok(recorder.urls.every((u) => new URL(u).host === server.host), recorder.urls.join());
    });
  }
});

Deno.test("a blob store on another origin never gets the Authorization header", async () => {
  await using store = await startFaultServer((record) => {
    const url = new URL(record.url);
    if (url.searchParams.get("X-Amz-Signature") !== "sig-secret") {
      return new Response(null, { status: 403 });
    }
    return imageResponse({ ...record, path: url.pathname.replace(/^\/bucket/, "") }, image) ??
      errorResponse(404, "NOT_FOUND");
  }, { hostname: "127.0.0.2" });
  await using server = await bearerRegistry({
    api: (record) =>
      record.path.includes("/blobs/")
        ? new Response(null, {
          status: 307,
          headers: {
            location:
              `http://127.0.0.2:${store.port}/bucket${record.path}?X-Amz-Signature=sig-secret`,
          },
        })
        : undefined,
  });
  const recorder = recordingFetch();
  const records: LogRecord[] = [];
  await using client = clientWith(recorder, {
    logLevel: "DEBUG",
    onLog: (r) => records.push(r),
  });
  const info = await client.inspect(`${server.host}/org/app:1`);
  assert.equal(info.Digest, image.digest);
  assert.equal(store.requests.length, 1);
  assert.equal(store.requests[0].authorization, null);
  assert.equal(server.count((r) => r.path.includes("/blobs/")), 1);
  const log = records.map((r) => r.message).join("\n");
  assert.ok(log.includes(`127.0.0.2:${store.port}/bucket`), "the hop is logged");
  assert.ok(!log.includes("sig-secret"), "the signed URL's query is redacted");
  assert.ok(!log.includes("hostile-token-secret"));
  recorder.assertLoopbackOnly();
});

Deno.test("oversized answers are read bounded and fail typed", async (t) => {
  await t.step("a streamed manifest over 4 MiB: RESPONSE_TOO_LARGE, stream cancelled", async () => {
    const body = countingStream();
    await using server = await bearerRegistry({
      api: (record) =>
        record.path.includes("/manifests/")
          ? new Response(body.stream, { headers: { "content-type": image.mediaType } })
          : undefined,
    });
    const recorder = recordingFetch();
    await using client = clientWith(recorder);
    await assert.rejects(
      client.manifest(`${server.host}/org/app:1`),
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE") && !e.temporary,
    );
    assert.equal(server.count(manifestOf("org/app")), 1, "not retried");
    await waitFor(() => body.cancelled());
    assert.ok(body.produced() < 4 * MiB + 16 * MiB, `produced ${body.produced()} bytes`);
  });
  await t.step("a declared Content-Length over 4 MiB: refused before reading", async () => {
    const body = countingStream({ total: 5 * MiB });
    await using server = await bearerRegistry({
      api: (record) =>
        record.path.includes("/manifests/")
          ? new Response(body.stream, {
            headers: { "content-type": image.mediaType, "content-length": String(5 * MiB) },
          })
          : undefined,
    });
    const recorder = recordingFetch();
    await using client = clientWith(recorder);
    await assert.rejects(
      client.manifest(`${server.host}/org/app:1`),
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE") && /5242880 bytes/.test(e.message),
    );
    await waitFor(() => body.cancelled() || body.produced() === 5 * MiB);
    assert.ok(body.produced() < 5 * MiB, `produced ${body.produced()} bytes`);
  });
  await t.step("a token response over 1 MiB: RESPONSE_TOO_LARGE", async () => {
    const bodies: ReturnType<typeof countingStream>[] = [];
    await using server = await bearerRegistry({
      token: () => {
        const body = countingStream();
        bodies.push(body);
        return new Response(body.stream, { headers: { "content-type": "application/json" } });
      },
    });
    const recorder = recordingFetch();
    await using client = clientWith(recorder);
    assert.equal(
      describe(await client.exists(`${server.host}/org/app:1`)),
      "unknown RESPONSE_TOO_LARGE",
    );
    await assert.rejects(
      client.manifest(`${server.host}/org/app:1`),
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE"),
    );
    assert.ok(bodies.length >= 2);
    await waitFor(() => bodies.every((b) => b.cancelled()));
    for (const b of bodies) assert.ok(b.produced() < 1 * MiB + 16 * MiB);
    // the token never arrived: no manifest request carried one
    assert.ok(server.requests.every((r) => r.authorization === null));
  });
  await t.step("an error body over 64 KiB: the status error, body truncated", async () => {
    const bodies: ReturnType<typeof countingStream>[] = [];
    await using server = await bearerRegistry({
      api: (record) => {
        if (!record.path.includes("/manifests/")) return undefined;
        const body = countingStream({ fill: 0x7b });
        bodies.push(body);
        const status = record.path.endsWith("/denied") ? 403 : 500;
        return new Response(body.stream, { status, headers: { "content-type": "text/plain" } });
      },
    });
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 2 });
    await assert.rejects(
      client.manifest(`${server.host}/org/app:denied`),
      (e: unknown) => isRegistryError(e, "DENIED") && e.status === 403,
    );
    assert.equal(bodies.length, 1);
    await assert.rejects(
      client.manifest(`${server.host}/org/app:broken`),
      (e: unknown) =>
        isRegistryError(e, "UNEXPECTED_STATUS") && e.status === 500 && e.message.length < 1000,
    );
    assert.equal(bodies.length, 4, "the 500 was retried twice, each body cancelled");
    await waitFor(() => bodies.every((b) => b.cancelled()));
    for (const b of bodies) assert.ok(b.produced() < 64 * 1024 + 16 * MiB);
  });
});

/** Polls `condition` (a server-side callback that runs asynchronously) for up to 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(condition(), "condition not met in time");
}
