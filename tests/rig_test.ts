/**
 * Tests of the integration rig itself (`_certs.ts`, `_token_server.ts`, `_registry.ts`,
 * `_images.ts`), with raw `fetch` against the real `docker-registry`: no regkit library code.
 */

import assert from "node:assert/strict";
import { getTestCerts } from "./_certs.ts";
import { freePort, type RegistryFixture, startRegistry } from "./_registry.ts";
import {
  ALL_MANIFEST_TYPES,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
  pushImage,
  pushIndex,
  seedStandardImages,
  sha256,
} from "./_images.ts";
import { startTokenServer } from "./_token_server.ts";

const ACCEPT_ALL = ALL_MANIFEST_TYPES.join(", ");

function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** HEAD a manifest; returns status, digest and content type, body cancelled. */
async function headManifest(
  registry: RegistryFixture,
  repository: string,
  reference: string,
  headers: Record<string, string> = { accept: ACCEPT_ALL },
): Promise<{ status: number; digest: string | null; type: string | null; auth: string | null }> {
  const response = await registry.fetch(`/v2/${repository}/manifests/${reference}`, {
    method: "HEAD",
    headers,
  });
  await response.body?.cancel();
  return {
    status: response.status,
    digest: response.headers.get("docker-content-digest"),
    type: response.headers.get("content-type"),
    auth: response.headers.get("www-authenticate"),
  };
}

/** Parses `Bearer k="v",k="v"` (test-only; the library has its own parser). */
function parseBearer(header: string | null): Record<string, string> {
  assert.ok(header, "expected a WWW-Authenticate header");
  assert.match(header, /^Bearer /);
  const params: Record<string, string> = {};
  for (const match of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[match[1]] = match[2];
  return params;
}

async function getToken(
  registry: RegistryFixture,
  query: URLSearchParams,
  authorization?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = `${registry.tokenServer!.url}?${query}`;
  const response = await registry.fetch(url, {
    headers: authorization ? { authorization } : {},
  });
  return { status: response.status, body: await response.json() };
}

function decodeJwtPart(part: string): Record<string, unknown> {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function assertStandardImagesResolve(registry: RegistryFixture, headers = {}) {
  const images = await seedStandardImages(registry);
  const expected: Array<[string, string, string]> = [
    ["test/oci", images.oci.digest, OCI_MANIFEST],
    ["test/docker", images.docker.digest, DOCKER_MANIFEST],
    ["test/index", images.index.digest, OCI_INDEX],
    ["public/oci", images.oci.digest, OCI_MANIFEST],
    ["denied/oci", images.oci.digest, OCI_MANIFEST],
  ];
  for (const [repository, digest, type] of expected) {
    const head = await headManifest(registry, repository, "v1", { accept: ACCEPT_ALL, ...headers });
    assert.equal(head.status, 200, repository);
    assert.equal(head.digest, digest, repository);
    assert.equal(head.type, type, repository);
  }
  return images;
}

Deno.test("getTestCerts() makes a CA, a TLS leaf and a signing cert once", async () => {
  const a = await getTestCerts();
  const b = await getTestCerts();
  assert.equal(a, b);
  for (const pem of [a.caCert, a.serverCert, a.signingCert]) {
    assert.match(pem, /BEGIN CERTIFICATE/);
  }
  const text = await new Deno.Command("openssl", {
    args: ["x509", "-in", a.serverCertPath, "-noout", "-text"],
    stdout: "piped",
  }).output();
  const out = new TextDecoder().decode(text.stdout);
  assert.match(out, /IP Address:127\.0\.0\.1/);
  assert.match(out, /DNS:localhost/);
  assert.match(out, /IP Address:0:0:0:0:0:0:0:1/);
  assert.match(out, /CA:FALSE/);
  assert.match(out, /TLS Web Server Authentication/);
  const verify = await new Deno.Command("openssl", {
    args: ["verify", "-CAfile", a.caCertPath, a.serverCertPath],
    stdout: "null",
    stderr: "null",
  }).output();
  assert.ok(verify.success);
});

Deno.test("startRegistry() none: plain HTTP, anonymous, seeded images resolve", async () => {
  await using registry = await startRegistry();
  assert.equal(registry.tls, false);
  assert.equal(registry.caCert, undefined);
  assert.equal(registry.url, `http://${registry.host}`);
  const ping = await fetch(`${registry.url}/v2/`);
  await ping.body?.cancel();
  assert.equal(ping.status, 200);
  const images = await assertStandardImagesResolve(registry);
  assert.equal(images.publicOci.digest, images.oci.digest);
  assert.equal(images.deniedOci.digest, images.oci.digest);
  assert.equal(images.oci.digest, await sha256(images.oci.manifest));
  // index children were pushed by digest
  for (const child of images.index.children) {
    const head = await headManifest(registry, "test/index", child.digest);
    assert.equal(head.status, 200);
    assert.equal(head.digest, child.digest);
  }
  // GET returns the exact bytes pushed
  const get = await registry.fetch("/v2/test/oci/manifests/v1", {
    headers: { accept: ACCEPT_ALL },
  });
  assert.deepEqual(new Uint8Array(await get.arrayBuffer()), images.oci.manifest);
});

Deno.test("registry quirk: HEAD/GET without an OCI Accept", async (t) => {
  await using registry = await startRegistry();
  const images = await seedStandardImages(registry);
  const list = await pushIndex(registry, "test/dlist", "v1", [
    { platform: { os: "linux", architecture: "amd64" } },
    { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
  ], { format: "docker" });

  await t.step("OCI manifest by tag without Accept: 404 MANIFEST_UNKNOWN", async () => {
    assert.equal((await headManifest(registry, "test/oci", "v1", {})).status, 404);
    const get = await registry.fetch("/v2/test/oci/manifests/v1");
    assert.equal(get.status, 404);
    const body = await get.json();
    assert.equal(body.errors[0].code, "MANIFEST_UNKNOWN");
    assert.match(body.errors[0].message, /accept header does not support OCI manifests/);
  });
  await t.step("OCI manifest with Accept */* or Docker v2 only: still 404", async () => {
    assert.equal((await headManifest(registry, "test/oci", "v1", { accept: "*/*" })).status, 404);
    const docker = await headManifest(registry, "test/oci", "v1", { accept: DOCKER_MANIFEST });
    assert.equal(docker.status, 404);
  });
  await t.step("OCI manifest by digest without Accept: 404 too", async () => {
    assert.equal((await headManifest(registry, "test/oci", images.oci.digest, {})).status, 404);
  });
  await t.step("OCI index by tag without Accept: 404", async () => {
    assert.equal((await headManifest(registry, "test/index", "v1", {})).status, 404);
  });
  await t.step("Docker v2 by tag without Accept: 400 MANIFEST_INVALID (no schema1)", async () => {
    assert.equal((await headManifest(registry, "test/docker", "v1", {})).status, 400);
    const get = await registry.fetch("/v2/test/docker/manifests/v1");
    assert.equal(get.status, 400);
    assert.equal((await get.json()).errors[0].code, "MANIFEST_INVALID");
  });
  await t.step("Docker v2 by digest without Accept: 200", async () => {
    const head = await headManifest(registry, "test/docker", images.docker.digest, {});
    assert.equal(head.status, 200);
    assert.equal(head.digest, images.docker.digest);
  });
  await t.step(
    "Docker manifest list, Accept Docker v2 only: 200 with the amd64 child",
    async () => {
      const head = await headManifest(registry, "test/dlist", "v1", { accept: DOCKER_MANIFEST });
      assert.equal(head.status, 200);
      assert.equal(head.type, DOCKER_MANIFEST);
      assert.equal(head.digest, list.children[0].digest);
      const all = await headManifest(registry, "test/dlist", "v1");
      assert.equal(all.type, DOCKER_MANIFEST_LIST);
      assert.equal(all.digest, list.digest);
    },
  );
});

Deno.test("startRegistry() htpasswd: TLS + Basic with special-character passwords", async () => {
  await using registry = await startRegistry({ auth: "htpasswd" });
  assert.equal(registry.tls, true);
  assert.equal(registry.url, `https://${registry.host}`);
  assert.match(registry.caCert ?? "", /BEGIN CERTIFICATE/);
  assert.equal(registry.users.alice, "pa:ss wörd:1");
  await assertStandardImagesResolve(registry, {
    authorization: basic("alice", registry.users.alice),
  });
  const anonymous = await headManifest(registry, "test/oci", "v1");
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.auth ?? "", /^Basic realm=/);
  const wrong = await headManifest(registry, "test/oci", "v1", {
    accept: ACCEPT_ALL,
    authorization: basic("alice", "pa"),
  });
  assert.equal(wrong.status, 401);
  // the CA is required: the default trust store refuses the registry
  await assert.rejects(() => fetch(`${registry.url}/v2/`));
});

Deno.test("startRegistry() token: 401 challenge → token → 200", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const tokens = registry.tokenServer!;
  assert.ok(tokens);
  assert.equal(tokens.url, `https://127.0.0.1:${tokens.port}/token`);
  const images = await seedStandardImages(registry);
  tokens.stats.reset();

  const first = await headManifest(registry, "test/oci", "v1");
  assert.equal(first.status, 401);
  const challenge = parseBearer(first.auth);
  assert.deepEqual(challenge, {
    realm: tokens.url,
    service: tokens.service,
    scope: "repository:test/oci:pull",
  });

  const query = new URLSearchParams({ service: challenge.service, scope: challenge.scope });
  const { status, body } = await getToken(registry, query, basic("alice", registry.users.alice));
  assert.equal(status, 200);
  assert.equal(typeof body.token, "string");
  assert.equal(body.access_token, body.token);
  assert.equal(body.expires_in, 300);
  assert.ok(!Number.isNaN(Date.parse(String(body.issued_at))));
  const [header, claims] = String(body.token).split(".").slice(0, 2).map(decodeJwtPart);
  assert.equal(header.alg, "ES256");
  assert.equal((header.x5c as string[]).length, 1);
  assert.equal(claims.sub, "alice");
  assert.equal(claims.aud, tokens.service);
  assert.equal(claims.iss, tokens.issuer);
  assert.deepEqual(claims.access, [{ type: "repository", name: "test/oci", actions: ["pull"] }]);

  const second = await headManifest(registry, "test/oci", "v1", {
    accept: ACCEPT_ALL,
    authorization: `Bearer ${body.token}`,
  });
  assert.equal(second.status, 200);
  assert.equal(second.digest, images.oci.digest);

  assert.equal(tokens.stats.tokenRequests, 1);
  assert.deepEqual(tokens.stats.requests, [{
    method: "GET",
    scopes: ["repository:test/oci:pull"],
    user: "alice",
    service: tokens.service,
    status: 200,
  }]);
  assert.deepEqual(tokens.stats.issuedTokens, [body.token]);
});

Deno.test("startRegistry() token: every standard image resolves with a token", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seedStandardImages(registry);
  const repos = ["test/oci", "test/docker", "test/index", "public/oci", "denied/oci"];
  const token = await registry.tokenServer!.mintToken(repos.map((r) => `repository:${r}:pull`));
  await assertStandardImagesResolve(registry, { authorization: `Bearer ${token}` });
  assert.equal(images.index.children.length, 2);
});

Deno.test("token server: policy for anonymous, users, denied/ and admin", async (t) => {
  await using registry = await startRegistry({ auth: "token" });
  await seedStandardImages(registry);
  const tokens = registry.tokenServer!;
  const service = tokens.service;
  const alice = basic("alice", registry.users.alice);
  const admin = basic("admin", registry.users.admin);
  const access = (token: unknown) => decodeJwtPart(String(token).split(".")[1]).access;
  const scope = (repository: string, actions = "pull") => `repository:${repository}:${actions}`;

  await t.step("anonymous token for public/oci pulls", async () => {
    const { status, body } = await getToken(
      registry,
      new URLSearchParams({ service, scope: scope("public/oci") }),
    );
    assert.equal(status, 200);
    const head = await headManifest(registry, "public/oci", "v1", {
      accept: ACCEPT_ALL,
      authorization: `Bearer ${body.token}`,
    });
    assert.equal(head.status, 200);
  });

  await t.step("anonymous token for test/oci is refused: 401 insufficient_scope", async () => {
    const { status, body } = await getToken(
      registry,
      new URLSearchParams({ service, scope: scope("test/oci") }),
    );
    assert.equal(status, 200);
    assert.deepEqual(access(body.token), []);
    const head = await headManifest(registry, "test/oci", "v1", {
      accept: ACCEPT_ALL,
      authorization: `Bearer ${body.token}`,
    });
    assert.equal(head.status, 401);
    const challenge = parseBearer(head.auth);
    assert.equal(challenge.error, "insufficient_scope");
    assert.equal(challenge.scope, "repository:test/oci:pull");
  });

  await t.step("anonymous push on public/ is not granted", async () => {
    const { body } = await getToken(
      registry,
      new URLSearchParams({ service, scope: scope("public/oci", "pull,push") }),
    );
    assert.deepEqual(access(body.token), [
      { type: "repository", name: "public/oci", actions: ["pull"] },
    ]);
  });

  await t.step("wrong password: 401 JSON from the token server", async () => {
    const before = tokens.stats.issuedTokens.length;
    const query = new URLSearchParams({ service, scope: scope("test/oci") });
    const { status, body } = await getToken(registry, query, basic("alice", "pa:ss"));
    assert.equal(status, 401);
    assert.equal((body.errors as Array<{ code: string }>)[0].code, "UNAUTHORIZED");
    assert.equal(tokens.stats.issuedTokens.length, before);
    assert.equal(tokens.stats.requests.at(-1)?.user, null);
    assert.equal(tokens.stats.requests.at(-1)?.status, 401);
  });

  await t.step("several repositories in one request are granted together", async () => {
    const query = new URLSearchParams([
      ["service", service],
      ["scope", scope("test/oci")],
      ["scope", scope("test/docker", "pull,push,delete")],
      ["scope", scope("denied/oci")],
    ]);
    const { body } = await getToken(registry, query, alice);
    assert.deepEqual(access(body.token), [
      { type: "repository", name: "test/oci", actions: ["pull"] },
      { type: "repository", name: "test/docker", actions: ["pull", "push"] },
    ]);
    for (const [repository, expected] of [["test/oci", 200], ["test/docker", 200]] as const) {
      const head = await headManifest(registry, repository, "v1", {
        accept: ACCEPT_ALL,
        authorization: `Bearer ${body.token}`,
      });
      assert.equal(head.status, expected, repository);
    }
    assert.deepEqual(tokens.stats.requests.at(-1)?.scopes, [
      scope("test/oci"),
      scope("test/docker", "pull,push,delete"),
      scope("denied/oci"),
    ]);
  });

  await t.step("denied/ gets nothing for alice, everything for admin", async () => {
    const query = new URLSearchParams({ service, scope: scope("denied/oci") });
    const forAlice = await getToken(registry, query, alice);
    assert.deepEqual(access(forAlice.body.token), []);
    const forAdmin = await getToken(registry, query, admin);
    assert.deepEqual(access(forAdmin.body.token), [
      { type: "repository", name: "denied/oci", actions: ["pull"] },
    ]);
    const head = await headManifest(registry, "denied/oci", "v1", {
      accept: ACCEPT_ALL,
      authorization: `Bearer ${forAdmin.body.token}`,
    });
    assert.equal(head.status, 200);
  });

  await t.step("expired or garbage token: 401 invalid_token", async () => {
    const expired = await tokens.mintToken([scope("test/oci")], "admin", { expiresIn: -120 });
    for (const token of [expired, "not.a.jwt"]) {
      const head = await headManifest(registry, "test/oci", "v1", {
        accept: ACCEPT_ALL,
        authorization: `Bearer ${token}`,
      });
      assert.equal(head.status, 401);
      assert.equal(parseBearer(head.auth).error, "invalid_token");
    }
  });
});

Deno.test("token server: POST grants (password, refresh_token, offline)", async () => {
  await using registry = await startRegistry({
    auth: "token",
    identityTokens: { "idt-alice-secret": "alice" },
  });
  await seedStandardImages(registry);
  const tokens = registry.tokenServer!;
  const post = async (form: Record<string, string>) => {
    const response = await registry.fetch(tokens.url, {
      method: "POST",
      body: new URLSearchParams({ service: tokens.service, client_id: "regkit-test", ...form }),
    });
    return { status: response.status, body: await response.json() };
  };

  const refresh = await post({
    grant_type: "refresh_token",
    refresh_token: "idt-alice-secret",
    scope: "repository:test/oci:pull",
  });
  assert.equal(refresh.status, 200);
  assert.equal(refresh.body.scope, "repository:test/oci:pull");
  assert.equal(refresh.body.refresh_token, undefined);
  assert.equal(typeof refresh.body.issued_at, "string");
  const head = await headManifest(registry, "test/oci", "v1", {
    accept: ACCEPT_ALL,
    authorization: `Bearer ${refresh.body.access_token}`,
  });
  assert.equal(head.status, 200);

  const unknown = await post({
    grant_type: "refresh_token",
    refresh_token: "idt-nobody",
    scope: "repository:test/oci:pull",
  });
  assert.equal(unknown.status, 401);

  const password = await post({
    grant_type: "password",
    username: "alice",
    password: registry.users.alice,
    scope: "repository:test/oci:pull",
    access_type: "offline",
  });
  assert.equal(password.status, 200);
  assert.equal(typeof password.body.refresh_token, "string");
  assert.ok(tokens.stats.issuedTokens.includes(password.body.refresh_token));
  const again = await post({
    grant_type: "refresh_token",
    refresh_token: password.body.refresh_token,
    scope: "repository:test/docker:pull",
  });
  assert.equal(again.status, 200);
  assert.equal(again.body.scope, "repository:test/docker:pull");

  const badPassword = await post({
    grant_type: "password",
    username: "alice",
    password: "nope",
    scope: "repository:test/oci:pull",
  });
  assert.equal(badPassword.status, 401);
  assert.deepEqual(
    tokens.stats.requests.map((r) => [r.method, r.grantType, r.user, r.status]),
    [
      ["POST", "refresh_token", "alice", 200],
      ["POST", "refresh_token", null, 401],
      ["POST", "password", "alice", 200],
      ["POST", "refresh_token", "alice", 200],
      ["POST", "password", null, 401],
    ],
  );
});

Deno.test("startTokenServer() alone: custom policy and expiry, closes", async () => {
  await using tokens = await startTokenServer({
    users: { bob: "b:ob" },
    expiresIn: 42,
    policy: (user) => (user === "bob" ? ["pull"] : []),
  });
  const certs = await getTestCerts();
  using client = Deno.createHttpClient({ caCerts: [certs.caCert] });
  const response = await fetch(
    `${tokens.url}?service=${tokens.service}&scope=repository:x/y:pull,push`,
    { client, headers: { authorization: basic("bob", "b:ob") } },
  );
  const body = await response.json();
  assert.equal(body.expires_in, 42);
  const claims = decodeJwtPart(body.token.split(".")[1]);
  assert.deepEqual(claims.access, [{ type: "repository", name: "x/y", actions: ["pull"] }]);
  assert.equal((claims.exp as number) - (claims.iat as number), 42);
});

Deno.test("requests() counts manifest requests exactly", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seedStandardImages(registry);
  await registry.clearRequests();
  assert.deepEqual(await registry.requests(), []);
  const token = await registry.tokenServer!.mintToken(["repository:test/oci:pull"]);
  await headManifest(registry, "test/oci", "v1"); // 401
  await headManifest(registry, "test/oci", "v1", {
    accept: ACCEPT_ALL,
    authorization: `Bearer ${token}`,
  });
  const get = await registry.fetch(`/v2/test/oci/manifests/${images.oci.digest}`, {
    headers: { accept: ACCEPT_ALL, authorization: `Bearer ${token}` },
  });
  await get.body?.cancel();
  const requests = await registry.requests();
  assert.deepEqual(requests, [
    { method: "HEAD", path: "/v2/test/oci/manifests/v1", status: 401 },
    { method: "HEAD", path: "/v2/test/oci/manifests/v1", status: 200 },
    { method: "GET", path: `/v2/test/oci/manifests/${images.oci.digest}`, status: 200 },
  ]);
});

Deno.test("restart() keeps the port and the storage", async () => {
  await using registry = await startRegistry();
  const image = await pushImage(registry, "test/restart", "v1");
  const { pid, port } = registry;
  await registry.restart();
  assert.notEqual(registry.pid, pid);
  assert.equal(registry.port, port);
  assert.ok(!(await Deno.stat(`/proc/${pid}`).then(() => true, () => false)));
  const head = await headManifest(registry, "test/restart", "v1");
  assert.equal(head.status, 200);
  assert.equal(head.digest, image.digest);
  await registry.kill();
  await assert.rejects(() => registry.fetch("/v2/").then((r) => r.body?.cancel()));
  await registry.restart();
  assert.equal((await headManifest(registry, "test/restart", "v1")).status, 200);
});

Deno.test("dispose stops the registry and removes its temp dir, even when a test fails", async () => {
  const alive = (pid: number) => Deno.stat(`/proc/${pid}`).then(() => true, () => false);
  let pid = 0;
  let dir = "";
  let tokenPort = 0;
  await assert.rejects(async () => {
    await using registry = await startRegistry({ auth: "token" });
    pid = registry.pid;
    dir = registry.dir;
    tokenPort = registry.tokenServer!.port;
    assert.ok(await alive(pid));
    throw new Error("test failure");
  }, /test failure/);
  assert.equal(await alive(pid), false);
  assert.equal(await Deno.stat(dir).then(() => true, () => false), false);
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: tokenPort }));
});

Deno.test("startRegistry() without docker-registry says how to install it", async () => {
  await assert.rejects(
    () => startRegistry({ binary: "/nonexistent/docker-registry" }),
    (error: Error) => error.message.includes("apt-get install -y docker-registry"),
  );
});

Deno.test("freePort() returns a bindable port", () => {
  const port = freePort();
  assert.ok(port > 0 && port < 65536);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
});
