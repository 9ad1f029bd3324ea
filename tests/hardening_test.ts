/**
 * Hardening (issue #11): credentials and tokens never reach an address, origin or scheme they
 * were not meant for, server text never echoes a secret into a message, a registry that refuses
 * every token costs a bounded number of requests, and an untrusted certificate says what to do.
 * Real `docker-registry` processes where the behaviour is the registry's; loopback fault servers
 * (and a `fetch` that refuses anything else) for what a real registry cannot do.
 */
import assert from "node:assert/strict";
import {
  AuthTokenWrapper,
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  type ExistsResult,
  isRegistryError,
} from "../mod.ts";
import {
  errorResponse,
  type FaultHandler,
  type FaultServer,
  imageResponse,
  jsonResponse,
  pause,
  type RecordedRequest,
  type RecordingFetch,
  recordingFetch,
  type ServedImage,
  startFaultServer,
} from "./_fault_server.ts";
import { buildImage } from "./_images.ts";
import { startRegistry } from "./_registry.ts";
import { redactBody, secretsOf } from "../lib/_redact.ts";
import { compileFlags, passThroughEnv, ROOT } from "./_compile_flags.ts";

const image: ServedImage = { repository: "org/app", tags: ["1"], ...await buildImage() };

function describe(result: ExistsResult): string {
  return result.status === "unknown" ? `unknown ${result.code}` : result.status;
}

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

const isToken = (r: RecordedRequest) => r.path.startsWith("/token");

/** A Bearer registry on loopback serving `image`; the realm is whatever `realm` says. */
async function bearerRegistry(
  realm: (origin: string) => string,
  api?: (record: RecordedRequest) => Response | undefined,
  token: (record: RecordedRequest) => Response = () =>
    jsonResponse({ token: "hardening-token-secret", expires_in: 300 }),
): Promise<FaultServer> {
  let origin = "";
  const handler: FaultHandler = (record) => {
    if (isToken(record)) return token(record);
    if (record.authorization !== "Bearer hardening-token-secret") {
      return errorResponse(401, "UNAUTHORIZED", {
        "www-authenticate": `Bearer realm="${realm(origin)}",service="fixture"`,
      });
    }
    if (record.path === "/v2/") return jsonResponse({});
    return api?.(record) ?? imageResponse(record, image) ?? errorResponse(404, "NOT_FOUND");
  };
  const server = await startFaultServer(handler);
  origin = server.url;
  return server;
}

// ---------------------------------------------------------------------------------------------
// Item 1: IPv6 forms of IPv4 addresses, NAT64 and site-local addresses are internal

/** Realms that name the metadata or a private address in an IPv6 form. */
const EMBEDDED_REALMS = [
  "https://[::ffff:169.254.169.254]/latest/meta-data/", // WHATWG URL: [::ffff:a9fe:a9fe]
  "https://[::ffff:a9fe:a9fe]/token",
  "https://[::ffff:10.0.0.1]/token",
  "https://[::169.254.169.254]/token", // IPv4-compatible
  "https://[64:ff9b::a9fe:a9fe]/token", // NAT64
  "https://[fec0::1]/token", // site-local
];

Deno.test("realms in IPv6 forms of internal addresses are rejected before anything is sent", async (t) => {
  for (const realm of EMBEDDED_REALMS) {
    await t.step(realm, async () => {
      await using server = await bearerRegistry(() => realm);
      const recorder = recordingFetch();
      await using client = clientWith(recorder, {
        username: "alice",
        password: "embedded-v4-pw-secret",
      });
      const result = await client.exists(`${server.host}/org/app:1`);
      assert.equal(describe(result), "unknown REALM_REJECTED", JSON.stringify(result));
      assert.equal(server.count(isToken), 0);
      assert.ok(server.requests.every((r) => r.authorization === null));
      assert.deepEqual(recorder.refused, []);
    });
  }
});

Deno.test("redirects to IPv6 forms of internal addresses are refused", async (t) => {
  for (const realm of EMBEDDED_REALMS) {
    const target = realm.replace("https:", "http:");
    await t.step(target, async () => {
      await using server = await bearerRegistry(
        (origin) => `${origin}/token`,
        (record) =>
          record.path.includes("/manifests/")
            ? new Response(null, { status: 307, headers: { location: target } })
            : undefined,
      );
      const recorder = recordingFetch();
      await using client = clientWith(recorder);
      const result = await client.exists(`${server.host}/org/app:1`);
      assert.equal(describe(result), "unknown INVALID_RESPONSE", JSON.stringify(result));
      assert.match(result.status === "unknown" ? result.message : "", /internal address/);
      assert.deepEqual(recorder.refused, []);
    });
  }
});

const LOOPBACK_PROBE = `
import { ContainerRegistryClient } from ${JSON.stringify(`${ROOT}mod.ts`)};
const [host] = Deno.args;
await using client = new ContainerRegistryClient({
  env: () => undefined,
  username: "alice",
  password: "loopback-probe-pw-secret",
  retries: 0,
  timeoutMs: 5000,
});
const answers = [];
for (const repo of ["realm/metadata", "redirect/metadata"]) {
  const result = await client.exists(host + "/" + repo + ":1");
  answers.push({ repo, status: result.status, code: result.code, message: result.message });
}
console.log(JSON.stringify(answers));
`;

Deno.test("under --allow-net=127.0.0.1 the client never tries the metadata address", async () => {
  const metadata = "[::ffff:169.254.169.254]";
  await using server = await bearerRegistry(
    (origin) => `${origin}/token`,
    (record) =>
      record.path.includes("/redirect/")
        ? new Response(null, { status: 307, headers: { location: `http://${metadata}/x` } })
        : undefined,
  );
  // A second registry whose realm is the metadata address.
  await using realmServer = await bearerRegistry(() => `https://${metadata}/token`);
  const dir = await Deno.makeTempDir({ prefix: "regkit-hardening-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, LOOPBACK_PROBE);
    const run = async (host: string) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          `--config=${ROOT}deno.json`,
          "--allow-net=127.0.0.1",
          `--allow-read=${ROOT}`,
          `${dir}/probe.ts`,
          host,
        ],
        env: { NO_COLOR: "1", ...passThroughEnv() },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      assert.doesNotMatch(stderr, /NotCapable|Requires net access/);
      return JSON.parse(new TextDecoder().decode(output.stdout)) as Array<
        { repo: string; status: string; code?: string; message?: string }
      >;
    };
    const viaRealm = await run(realmServer.host);
    assert.equal(viaRealm[0].code, "REALM_REJECTED", JSON.stringify(viaRealm));
    const viaRedirect = await run(server.host);
    assert.equal(viaRedirect[1].code, "INVALID_RESPONSE", JSON.stringify(viaRedirect));
    assert.match(viaRedirect[1].message ?? "", /internal address/);
    assert.equal(realmServer.count(isToken), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Item 2: tokens are bound to the registry origin and the identity that minted them

Deno.test("a token minted for registry A with A's user never reaches registry B", async (t) => {
  // One token realm for two registries that name the same realm and service (one credsStore).
  let minted = 0;
  await using realm = await startFaultServer((record) => {
    const header = record.authorization ?? "";
    const user = header.startsWith("Basic ") ? atob(header.slice(6)).split(":")[0] : "anonymous";
    return jsonResponse({ token: `token-for-${user}-${++minted}`, expires_in: 300 });
  });
  const registry = (user: string) =>
    startFaultServer((record) => {
      if (!(record.authorization ?? "").startsWith(`Bearer token-for-${user}-`)) {
        return errorResponse(401, "UNAUTHORIZED", {
          "www-authenticate": `Bearer realm="${realm.url}/token",service="shared"`,
        });
      }
      if (record.path === "/v2/") return jsonResponse({});
      return imageResponse(record, image) ?? errorResponse(404, "NOT_FOUND");
    });
  await using a = await registry("alice");
  await using b = await registry("bob");
  const dir = await Deno.makeTempDir({ prefix: "regkit-hardening-" });
  const authFile = `${dir}/auth.json`;
  await Deno.writeTextFile(authFile, JSON.stringify({ credsStore: "shared-store" }));
  const users: Record<string, [string, string]> = {
    [a.host]: ["alice", "alice-pw-secret"],
    [b.host]: ["bob", "bob-pw-secret"],
  };
  const tokensAt = (server: FaultServer) =>
    server.requests.map((r) => r.authorization).filter((h) => h?.startsWith("Bearer "));
  try {
    for (const bulk of [false, true]) {
      await t.step(bulk ? "existsMany over both" : "exists on A, then on B", async () => {
        a.requests.length = 0;
        b.requests.length = 0;
        realm.requests.length = 0;
        const recorder = recordingFetch();
        await using client = clientWith(recorder, {
          authFile,
          runHelper: (_helper, serverUrl) => {
            const [username, secret] = users[serverUrl.replace(/^https?:\/\//, "")];
            return Promise.resolve({ username, secret });
          },
        });
        const refs = [`${a.host}/org/app:1`, `${b.host}/org/app:1`];
        const results = bulk
          ? await Array.fromAsync(client.existsMany(refs, { concurrency: 1 }))
          : [await client.exists(refs[0]), await client.exists(refs[1])];
        assert.deepEqual(results.map(describe), ["present", "present"]);
        assert.ok(tokensAt(a).every((h) => h!.startsWith("Bearer token-for-alice-")), "A");
        assert.ok(
          tokensAt(b).every((h) => h!.startsWith("Bearer token-for-bob-")),
          `B received ${tokensAt(b).join(", ")}`,
        );
        const asked = realm.requests.map((r) => atob(r.authorization!.slice(6)).split(":")[0]);
        assert.deepEqual(asked.sort(), ["alice", "bob"]);
        recorder.assertLoopbackOnly();
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Item 4: no https -> http downgrade for a registry that is not loopback or insecure

/**
 * A `fetch` that plays `registry.example` (https and http) with a loopback fault server, so the
 * registry is not loopback to the client. Records every URL asked for.
 */
function publicNameFetch(server: FaultServer) {
  const asked: string[] = [];
  const fetch = (input: Request | URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    asked.push(url.href);
    if (url.hostname !== "registry.example") {
      return Promise.reject(new TypeError(`test fetch refused ${url.origin}`));
    }
    const local = new URL(url.pathname + url.search, server.url);
    return globalThis.fetch(local, init);
  };
  return { asked, fetch: fetch as typeof globalThis.fetch };
}

Deno.test("an https -> http redirect is refused unless the registry is insecure", async (t) => {
  await using server = await startFaultServer((record) => {
    if (record.path === "/v2/") return jsonResponse({});
    if (record.path.startsWith("/v2/") && record.path.includes("/manifests/")) {
      return new Response(null, {
        status: 302,
        headers: { location: `http://registry.example/plain${record.path}` },
      });
    }
    return imageResponse({ ...record, path: record.path.replace("/plain", "") }, image) ??
      errorResponse(404, "NOT_FOUND");
  });
  await t.step("public registry: INSECURE_REGISTRY, the http URL is never asked for", async () => {
    const { asked, fetch } = publicNameFetch(server);
    await using client = new ContainerRegistryClient({ env: () => undefined, fetch, retries: 0 });
    const result = await client.exists("registry.example/org/app:1");
    assert.equal(describe(result), "unknown INSECURE_REGISTRY", JSON.stringify(result));
    assert.match(result.status === "unknown" ? result.message : "", /plain http/);
    assert.ok(asked.every((u) => u.startsWith("https://")), asked.join());
    await assert.rejects(
      client.digest("registry.example/org/app:1"),
      (e) => isRegistryError(e, "INSECURE_REGISTRY"),
    );
  });
  await t.step("insecure registry: followed", async () => {
    const { asked, fetch } = publicNameFetch(server);
    await using client = new ContainerRegistryClient({
      env: () => undefined,
      fetch,
      retries: 0,
      insecureRegistries: ["registry.example"],
    });
    assert.equal(describe(await client.exists("registry.example/org/app:1")), "present");
    assert.ok(asked.some((u) => u.startsWith("http://registry.example/plain/")));
  });
});

// ---------------------------------------------------------------------------------------------
// Item 8: server text that echoes a secret is redacted before it enters a message

const PASSWORD = 'ech"o\\pw-s3cret-ö';
const USER = "alice";
const BASIC_BLOB = btoa(
  String.fromCharCode(...new TextEncoder().encode(`${USER}:${PASSWORD}`)),
);

function assertNoSecret(text: string, label: string): void {
  for (
    const secret of [
      PASSWORD,
      JSON.stringify(PASSWORD).slice(1, -1),
      BASIC_BLOB,
      `${USER}:${PASSWORD}`,
      "hardening-token-secret",
    ]
  ) {
    assert.ok(!text.includes(secret), `${label} leaks ${secret}: ${text}`);
  }
}

function echoBody(record: RecordedRequest): string {
  return `server log: got ${record.authorization} (user ${USER}, password ${PASSWORD})`;
}

Deno.test("secretsOf() and redactBody() catch every form a secret comes back in", () => {
  const secrets = secretsOf({ authorization: `Basic ${BASIC_BLOB}` });
  const echo = (text: string) =>
    new TextDecoder().decode(redactBody(new TextEncoder().encode(text), secrets));
  for (
    const form of [
      PASSWORD,
      JSON.stringify(PASSWORD),
      encodeURIComponent(PASSWORD),
      new URLSearchParams({ p: PASSWORD }).toString(),
      BASIC_BLOB,
      `${USER}:${PASSWORD}`,
    ]
  ) {
    assertNoSecret(echo(`before ${form} after`), form);
    assert.match(echo(`before ${form} after`), /^before .*\[REDACTED\].* after$/);
  }
  const bearer = secretsOf({ authorization: "Bearer tok-en-secret", secrets: ["idtoken-secret"] });
  assert.equal(
    new TextDecoder().decode(
      redactBody(new TextEncoder().encode("tok-en-secret idtoken-secret"), bearer),
    ),
    "[REDACTED] [REDACTED]",
  );
  const clean = new TextEncoder().encode("nothing to hide");
  assert.equal(redactBody(clean, secrets), clean, "untouched bodies are the same bytes");
});

Deno.test("error bodies that echo the credentials are redacted in every message", async (t) => {
  await t.step("Basic registry: status error, diagnostics and the seed method", async () => {
    await using server = await startFaultServer((record) => {
      if (record.authorization === null) {
        return errorResponse(401, "UNAUTHORIZED", { "www-authenticate": 'Basic realm="r"' });
      }
      if (record.path === "/v2/") return jsonResponse({});
      if (record.method === "HEAD") return new Response(null, { status: 405 });
      return jsonResponse({
        errors: [{
          code: "DENIED",
          message: echoBody(record),
          detail: { header: record.authorization, password: PASSWORD },
        }],
      }, 403);
    });
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { username: USER, password: PASSWORD });
    const ref = `${server.host}/org/app:1`;
    const result = await client.exists(ref);
    assert.equal(describe(result), "unknown DENIED");
    assert.ok(server.requests.some((r) => r.authorization === `Basic ${BASIC_BLOB}`));
    assertNoSecret(JSON.stringify(result), "ExistsResult");
    assertNoSecret(result.status === "unknown" ? result.message : "", "message");
    await assert.rejects(client.manifest(ref), (e) => {
      assertNoSecret(String(e) + JSON.stringify((e as { diagnostics: unknown }).diagnostics), "e");
      return isRegistryError(e, "DENIED");
    });
    const [present, message] = await client.checkContainerImageExists(
      ref,
      new AuthTokenWrapper(),
    );
    assert.equal(present, false);
    assert.match(message, /403/);
    assertNoSecret(message, "seed message");
  });

  await t.step("Bearer registry: the token echoed by a 500, the seed's token too", async () => {
    await using server = await bearerRegistry(
      (origin) => `${origin}/token`,
      (record) =>
        record.path.includes("/manifests/")
          ? record.method === "HEAD"
            ? new Response(null, { status: 405 })
            : new Response(`server log: got ${record.authorization}`, { status: 500 })
          : undefined,
    );
    const recorder = recordingFetch();
    await using client = clientWith(recorder, { retries: 0 });
    const ref = `${server.host}/org/app:1`;
    const result = await client.exists(ref);
    assert.equal(describe(result), "unknown UNEXPECTED_STATUS");
    assertNoSecret(JSON.stringify(result), "ExistsResult");
    const [, message] = await client.checkContainerImageExists(
      ref,
      new AuthTokenWrapper("hardening-token-secret"),
    );
    assert.match(message, /^Unexpected Error: 500 - server log: got Bearer \[REDACTED\]$/);
    assertNoSecret(message, "seed message");
  });

  await t.step("token realm: 401, 403 and 500 bodies that repeat the password", async () => {
    for (const status of [401, 403, 500]) {
      await using server = await bearerRegistry(
        (origin) => `${origin}/token`,
        undefined,
        (record) =>
          jsonResponse(
            { details: echoBody(record), errors: [{ message: echoBody(record) }] },
            status,
          ),
      );
      const recorder = recordingFetch();
      await using client = clientWith(recorder, { username: USER, password: PASSWORD, retries: 0 });
      const result = await client.exists(`${server.host}/org/app:1`);
      assert.equal(result.status, "unknown", `${status}`);
      assert.ok(server.requests.some((r) => r.authorization === `Basic ${BASIC_BLOB}`));
      assert.match(result.status === "unknown" ? result.message : "", /\[REDACTED\]/);
      assertNoSecret(JSON.stringify(result), `token ${status}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Item 13: a registry that refuses every token costs one renewal per scope

Deno.test("a registry refusing every token: one renewal per scope, then UNAUTHORIZED", async (t) => {
  // The token server grants nothing on denied/*: the real registry answers every token with
  // 401 insufficient_scope, for the very scope that was asked for.
  await using registry = await startRegistry({ auth: "token" });
  const tokens = registry.tokenServer!;
  const [user, password] = Object.entries(registry.users)[0];
  const options = {
    env: () => undefined,
    caCerts: [registry.caCert!],
    username: user,
    password,
    retries: 0,
  };

  await t.step("500 references in 50 repositories, one at a time: exact counts", async () => {
    tokens.stats.reset();
    await registry.clearRequests();
    await using client = new ContainerRegistryClient(options);
    const refs: string[] = [];
    for (let tag = 0; tag < 10; tag++) {
      for (let repo = 0; repo < 50; repo++) refs.push(`${registry.host}/denied/r${repo}:t${tag}`);
    }
    const results = await Array.fromAsync(client.existsMany(refs, { concurrency: 1 }));
    assert.ok(results.every((r) => describe(r) === "unknown UNAUTHORIZED"));
    // 2 batched token requests (25 scopes each) + one renewal per scope
    assert.equal(tokens.stats.tokenRequests, 52);
    // 1 ping + 500 checks + one retry per scope with the renewed token
    assert.equal((await registry.requests()).length, 551);
  });

  await t.step("10 concurrent checks of one repository share one renewal", async () => {
    tokens.stats.reset();
    await registry.clearRequests();
    await using client = new ContainerRegistryClient(options);
    const refs = Array.from({ length: 10 }, (_, i) => `${registry.host}/denied/one:t${i}`);
    const results = await Array.fromAsync(client.existsMany(refs, { concurrency: 10 }));
    assert.ok(results.every((r) => describe(r) === "unknown UNAUTHORIZED"));
    assert.equal(tokens.stats.tokenRequests, 2); // the batch + one renewal
    assert.equal((await registry.requests()).length, 21); // ping + 10 + 10 retries
    // and a later check of that scope makes no renewal at all
    assert.equal(
      describe(await client.exists(`${registry.host}/denied/one:t0`)),
      "unknown UNAUTHORIZED",
    );
    assert.equal(tokens.stats.tokenRequests, 2);
    assert.equal((await registry.requests()).length, 22);
  });
});

// ---------------------------------------------------------------------------------------------
// Item 16: an untrusted certificate is TLS_UNTRUSTED, with the fix in the message

Deno.test("an untrusted TLS certificate is TLS_UNTRUSTED naming --ca-cert, not retried", async () => {
  await using registry = await startRegistry({ auth: "htpasswd" });
  await using client = new ContainerRegistryClient({ env: () => undefined, retries: 3 });
  const ref = `${registry.host}/org/app:1`;
  const result = await client.exists(ref);
  assert.equal(describe(result), "unknown TLS_UNTRUSTED", JSON.stringify(result));
  assert.match(result.status === "unknown" ? result.message : "", /--ca-cert FILE/);
  assert.match(result.status === "unknown" ? result.message : "", /caCerts/);
  assert.equal(client.stats.retries, 0);
  assert.equal(result.status === "unknown" && result.error.temporary, false);

  const home = await Deno.makeTempDir({ prefix: "regkit-hardening-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...compileFlags(), `${ROOT}cli.ts`, "exists", ref],
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        NO_COLOR: "1",
        ...passThroughEnv(),
      },
      stdout: "piped",
      stderr: "piped",
      cwd: home,
    }).output();
    const out = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 2, out);
    assert.match(out, /TLS_UNTRUSTED/);
    assert.match(out, /pass the registry's CA with --ca-cert FILE/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Item 15: a missing or too narrow --allow-net is a configuration error; so is a bad token

const NET_PROBE = `
import { ContainerRegistryClient } from ${JSON.stringify(`${ROOT}mod.ts`)};
await using client = new ContainerRegistryClient({ env: () => undefined, retries: 3 });
const result = await client.exists(Deno.args[0]);
console.log(JSON.stringify({ ...result, retries: client.stats.retries }));
`;

Deno.test("a missing or too narrow --allow-net is INVALID_CONFIG naming the flag, not retried", async (t) => {
  await using registry = await startRegistry();
  const ref = `${registry.host}/org/app:1`;
  const dir = await Deno.makeTempDir({ prefix: "regkit-hardening-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, NET_PROBE);
    for (const net of ["--allow-net=127.0.0.2", undefined]) {
      await t.step(`library, ${net ?? "no --allow-net"}`, async () => {
        const output = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--no-prompt",
            `--config=${ROOT}deno.json`,
            `--allow-read=${ROOT}`,
            ...(net === undefined ? [] : [net]),
            `${dir}/probe.ts`,
            ref,
          ],
          env: { NO_COLOR: "1", ...passThroughEnv() },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 0, stderr);
        const result = JSON.parse(new TextDecoder().decode(output.stdout));
        assert.equal(result.code, "INVALID_CONFIG", JSON.stringify(result));
        assert.ok(result.message.includes(`--allow-net=${registry.host}`), result.message);
        assert.equal(result.retries, 0);
      });
    }
    await t.step("CLI: exit 2", async () => {
      const flags = compileFlags().map((f) => f === "--allow-net" ? "--allow-net=127.0.0.2" : f);
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...flags, `${ROOT}cli.ts`, "exists", ref],
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: dir,
          NO_COLOR: "1",
          ...passThroughEnv(),
        },
        stdout: "piped",
        stderr: "piped",
        cwd: dir,
      }).output();
      const out = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 2, out);
      assert.match(out, /INVALID_CONFIG/);
      assert.ok(out.includes(`--allow-net=${registry.host}`), out);
    });
    assert.deepEqual(await registry.requests(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a token that is no valid header value is TOKEN_EXCHANGE_FAILED, not retried", async (t) => {
  for (const token of ["bad\r\nx-injected: 1", "tök€n-secret", "has space"]) {
    await t.step(JSON.stringify(token), async () => {
      await using server = await bearerRegistry(
        (origin) => `${origin}/token`,
        undefined,
        () => jsonResponse({ token, expires_in: 300 }),
      );
      const recorder = recordingFetch();
      await using client = clientWith(recorder, { retries: 3 });
      const result = await client.exists(`${server.host}/org/app:1`);
      assert.equal(describe(result), "unknown TOKEN_EXCHANGE_FAILED", JSON.stringify(result));
      assert.ok(!JSON.stringify(result).includes(token));
      assert.equal(server.count(isToken), 1);
      assert.equal(client.stats.retries, 0);
      assert.equal(server.count((r) => r.path.includes("/manifests/")), 0);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Item 14: one ping per registry shared by the bulk preparation and the checks; a deadline

Deno.test("a stalled registry is pinged once for a whole batch, preparation included", async () => {
  await using server = await startFaultServer(async (_record, _request, closing) => {
    await pause(10_000, closing);
    return new Response("late", { status: 500 });
  });
  const recorder = recordingFetch();
  await using client = clientWith(recorder, {
    timeoutMs: 100,
    retries: 2,
    backoff: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  const refs = Array.from({ length: 20 }, (_, i) => `${server.host}/org/app${i % 5}:${i}`);
  const results = await Array.fromAsync(client.existsMany(refs, { concurrency: 4 }));
  assert.ok(results.every((r) => describe(r) === "unknown TIMEOUT"), results.map(describe).join());
  // one ping of retries + 1 attempts, shared by the preparation and all 20 checks
  assert.equal(server.requests.length, 3);
  assert.ok(server.requests.every((r) => r.path === "/v2/"));
  // a check right after the batch reuses the failed ping too
  assert.equal(describe(await client.exists(refs[0])), "unknown TIMEOUT");
  assert.equal(server.requests.length, 3);
});

Deno.test("one request cannot take more than (retries + 2) x timeoutMs across its phases", async () => {
  // Every phase (ping, token, manifest) stalls on all but its last attempt: each alone fits
  // its retry budget, together they would take three budgets.
  const stalls = new Map<string, number>();
  await using server = await bearerRegistry(
    (origin) => `${origin}/token`,
  );
  const retries = 3;
  const timeoutMs = 500;
  await using stalling = await startFaultServer(async (record, request, closing) => {
    const phase = record.path.startsWith("/token")
      ? "token"
      : record.path === "/v2/"
      ? "ping"
      : "manifest";
    const seen = (stalls.get(phase) ?? 0) + 1;
    stalls.set(phase, seen);
    if (seen <= retries) await pause(10_000, closing);
    const url = new URL(record.path, server.url);
    const forwarded = await fetch(url, { method: request.method, headers: request.headers });
    const body = request.method === "HEAD" ? null : await forwarded.arrayBuffer();
    const headers = new Headers(forwarded.headers);
    const challenge = headers.get("www-authenticate");
    if (challenge) headers.set("www-authenticate", challenge.replace(server.url, stalling.url));
    return new Response(body, { status: forwarded.status, headers });
  });
  const recorder = recordingFetch();
  await using client = clientWith(recorder, {
    timeoutMs,
    retries,
    backoff: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  const result = await client.exists(`${stalling.host}/org/app:1`);
  assert.equal(describe(result), "unknown TIMEOUT", JSON.stringify(result));
  assert.match(result.status === "unknown" ? result.message : "", /within 2500 ms/);
  // the ping took its whole budget, the token phase was cut short, no manifest was asked for
  assert.equal(stalls.get("ping"), retries + 1);
  assert.ok((stalls.get("token") ?? 0) >= 1 && (stalls.get("token") ?? 0) <= retries);
  assert.equal(stalls.get("manifest"), undefined);
});
