import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import { AuthTokenWrapper, checkRealm, TokenCache, type TokenGrant } from "./token.ts";

Deno.test("checkRealm() accepts https realms and loopback http realms", async (t) => {
  const ok: Array<[string, string]> = [
    ["https://auth.docker.io/token", "registry-1.docker.io"],
    ["https://auth.example", "quay.io"], // no path: the seed mangled this
    ["http://127.0.0.1:8080/token", "127.0.0.1:5000"], // loopback (tests)
    ["http://localhost/token", "localhost:5000"],
    ["https://10.0.0.5/token", "10.0.0.5:5000"], // private, but the registry's own host
    ["https://10.0.0.6/token", "10.0.0.5:5000"], // a LAN registry may use another LAN realm
  ];
  for (const [realm, registry] of ok) {
    await t.step(`${realm} for ${registry}`, () => {
      assert.equal(
        checkRealm(realm, { registryHost: registry, what: "x" }).href,
        new URL(realm).href,
      );
    });
  }
});

Deno.test("checkRealm() rejects realms that could leak credentials", async (t) => {
  const bad: Array<[string, string, RegExp]> = [
    ["http://auth.example/token", "quay.io", /plain http/],
    ["not a url", "quay.io", /not a URL/],
    ["/token", "quay.io", /not a URL/],
    ["ftp://auth.example/token", "quay.io", /scheme/],
    ["https://user:pw@auth.example/token", "quay.io", /user info/],
    ["https://10.0.0.1/token", "quay.io", /private address/],
    ["https://169.254.169.254/latest", "quay.io", /private address/],
    ["https://192.168.1.1/token", "quay.io", /private address/],
    ["https://127.0.0.1/token", "quay.io", /private address/],
    ["https://[fd00::1]/token", "quay.io", /private address/],
    ["https://10.0.0.1/token", "127.0.0.1:5000", /private address/], // loopback is no LAN
    ["https://169.254.169.254/token", "10.0.0.5:5000", /private address/], // link-local: never
    ["https://[::ffff:169.254.169.254]/", "quay.io", /private address/], // URL: [::ffff:a9fe:a9fe]
    ["https://[::ffff:10.0.0.1]/token", "quay.io", /private address/],
    ["https://[::ffff:127.0.0.1]/token", "quay.io", /private address/],
    ["https://[::169.254.169.254]/token", "quay.io", /private address/], // IPv4-compatible
    ["https://[64:ff9b::a9fe:a9fe]/token", "quay.io", /private address/], // NAT64
    ["https://[fec0::1]/token", "quay.io", /private address/], // site-local
    ["https://[::ffff:a9fe:a9fe]/token", "10.0.0.5:5000", /private address/],
  ];
  for (const [realm, registry, pattern] of bad) {
    await t.step(`${realm} for ${registry}`, () => {
      assert.throws(
        () => checkRealm(realm, { registryHost: registry, what: "quay.io/org/app:1" }),
        (e: unknown) => isRegistryError(e, "REALM_REJECTED") && pattern.test(e.message),
      );
    });
  }
  await t.step("http on the registry's own host only when it is insecure", () => {
    assert.throws(() =>
      checkRealm("http://reg.lan/token", { registryHost: "reg.lan:5000", what: "x" })
    );
    assert.ok(checkRealm("http://reg.lan/token", {
      registryHost: "reg.lan:5000",
      what: "x",
      allowHttpHost: () => true,
    }));
  });
});

function grant(token: string, lifetimeMs = 300_000): TokenGrant {
  const now = Date.now();
  return { token, issuedAt: now, expiresAt: now + lifetimeMs, renewAt: now + lifetimeMs - 30_000 };
}

Deno.test("TokenCache shares one request among concurrent callers", async () => {
  const cache = new TokenCache();
  let calls = 0;
  const fetchGrant = async (scopes: readonly string[]) => {
    calls++;
    await new Promise((r) => setTimeout(r, 10));
    return grant(`t-${scopes.join("+")}`);
  };
  const tokens = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        cache.get(
          { owner: "id", realm: "r", service: "s", fetchGrant: fetchGrant },
          "repository:a:pull",
        ),
    ),
  );
  assert.equal(calls, 1);
  assert.ok(tokens.every((t) => t === "t-repository:a:pull"));
});

Deno.test("TokenCache files a multi-scope grant under each scope", async () => {
  const cache = new TokenCache();
  const asked: string[][] = [];
  const fetchGrant = (scopes: readonly string[]) => {
    asked.push([...scopes]);
    return Promise.resolve(grant(`t${asked.length}`));
  };
  const scopes = Array.from({ length: 30 }, (_, i) => `repository:r${i}:pull`);
  cache.prefetch({ owner: "id", realm: "r", service: "s", fetchGrant: fetchGrant }, scopes);
  assert.deepEqual(asked.map((a) => a.length), [25, 5]);
  assert.equal(
    await cache.get(
      { owner: "id", realm: "r", service: "s", fetchGrant: fetchGrant },
      "repository:r3:pull",
    ),
    "t1",
  );
  assert.equal(
    await cache.get(
      { owner: "id", realm: "r", service: "s", fetchGrant: fetchGrant },
      "repository:r29:pull",
    ),
    "t2",
  );
  cache.prefetch({ owner: "id", realm: "r", service: "s", fetchGrant: fetchGrant }, scopes); // all covered: nothing asked
  assert.equal(asked.length, 2);
  // another identity does not share tokens
  assert.equal(
    await cache.get(
      { owner: "other", realm: "r", service: "s", fetchGrant: fetchGrant },
      "repository:r3:pull",
    ),
    "t3",
  );
});

Deno.test("TokenCache renews expiring tokens and forgets failures", async () => {
  const cache = new TokenCache();
  let n = 0;
  const short = () => Promise.resolve(grant(`t${++n}`, 1_000)); // renewAt already passed
  assert.equal(
    await cache.get({ owner: "id", realm: "r", service: "s", fetchGrant: short }, "x"),
    "t1",
  );
  assert.equal(
    await cache.get({ owner: "id", realm: "r", service: "s", fetchGrant: short }, "x"),
    "t2",
  );
  const failing = () => Promise.reject(new Error("boom"));
  await assert.rejects(
    cache.get({ owner: "id", realm: "r", service: "s", fetchGrant: failing }, "y"),
    /boom/,
  );
  const ok = () => Promise.resolve(grant("fresh"));
  assert.equal(
    await cache.get({ owner: "id", realm: "r", service: "s", fetchGrant: ok }, "y"),
    "fresh",
  );
  assert.equal(
    await cache.get({ owner: "id", realm: "r", service: "s", fetchGrant: ok }, "y", {
      force: true,
    }),
    "fresh",
  );
});

Deno.test("TokenCache.renew() shares one renewal and stops after a refused renewal", async () => {
  const cache = new TokenCache();
  let n = 0;
  const fetchGrant = async () => {
    await new Promise((r) => setTimeout(r, 5));
    return grant(`t${++n}`);
  };
  const first = await cache.get(
    { owner: "o", realm: "r", service: "s", fetchGrant: fetchGrant },
    "x",
  );
  assert.equal(first, "t1");
  // ten callers saw t1 refused: one renewal, shared
  const renewed = await Promise.all(
    Array.from(
      { length: 10 },
      () =>
        cache.renew({ owner: "o", realm: "r", service: "s", fetchGrant: fetchGrant }, {
          scope: "x",
          refused: "t1",
        }),
    ),
  );
  assert.deepEqual(new Set(renewed), new Set(["t2"]));
  assert.equal(n, 2);
  // a late caller that still saw t1 refused gets t2 without a request
  assert.equal(
    await cache.renew({ owner: "o", realm: "r", service: "s", fetchGrant: fetchGrant }, {
      scope: "x",
      refused: "t1",
    }),
    "t2",
  );
  // the renewal t2 refused too: no second renewal
  assert.equal(
    await cache.renew({ owner: "o", realm: "r", service: "s", fetchGrant: fetchGrant }, {
      scope: "x",
      refused: "t2",
    }),
    undefined,
  );
  assert.equal(n, 2);
  // another owner or scope is not affected
  assert.equal(
    await cache.renew({ owner: "other", realm: "r", service: "s", fetchGrant: fetchGrant }, {
      scope: "x",
      refused: "t2",
    }),
    "t3",
  );
});

Deno.test("AuthTokenWrapper never shows its token", () => {
  const holder = new AuthTokenWrapper("s3cr3t-token");
  assert.ok(!JSON.stringify(holder).includes("s3cr3t"));
  assert.ok(!Deno.inspect(holder).includes("s3cr3t"));
  assert.ok(!String(holder).includes("s3cr3t"));
  assert.equal(holder.token, "s3cr3t-token");
});
