import assert from "node:assert/strict";
import { isRegistryError } from "./errors.ts";
import { type FetchFunction, Http } from "./http.ts";
import { Logger } from "./log.ts";
import { retryPolicy } from "./retry.ts";
import { FakeTime } from "@std/testing/time";

/** A fetch that answers from a table and records every URL it was asked for. Sends nothing. */
function scripted(answers: Record<string, () => Response>) {
  const asked: string[] = [];
  const fetch: FetchFunction = (input) => {
    const url = String(input);
    asked.push(url);
    const answer = answers[url];
    return Promise.resolve(answer ? answer() : new Response("not scripted", { status: 599 }));
  };
  return { asked, fetch };
}

function http(fetch: FetchFunction): Http {
  return new Http({
    fetch,
    retry: retryPolicy({ retries: 0 }),
    timeoutMs: 1000,
    userAgent: "test",
    logger: new Logger("ERROR"),
  });
}

const redirect = (location: string) => () =>
  new Response(null, { status: 307, headers: { location } });

Deno.test("Http refuses redirects from a public registry to internal addresses", async (t) => {
  for (
    const target of [
      "http://169.254.169.254/latest/meta-data",
      "https://10.0.0.1/blob",
      "https://127.0.0.1/x",
      "https://[fd00::1]/x",
    ]
  ) {
    await t.step(target, async () => {
      const { asked, fetch } = scripted({
        "https://registry.example/v2/app/blobs/sha256:1": redirect(target),
      });
      await assert.rejects(
        http(fetch).send({
          method: "GET",
          url: new URL("https://registry.example/v2/app/blobs/sha256:1"),
          maxBytes: 1024,
          what: "registry.example/app",
        }),
        (e: unknown) =>
          isRegistryError(e, "INVALID_RESPONSE") && /internal address/.test(e.message),
      );
      assert.deepEqual(asked, ["https://registry.example/v2/app/blobs/sha256:1"]);
    });
  }
});

Deno.test("Http follows redirects to public hosts and within a LAN, without Authorization", async () => {
  const seen: Array<[string, string | null]> = [];
  const fetch: FetchFunction = (input, init) => {
    const url = String(input);
    seen.push([url, new Headers(init?.headers).get("authorization")]);
    if (url.startsWith("https://10.0.0.5")) {
      return Promise.resolve(redirect("https://10.0.0.9/blob")());
    }
    if (url.startsWith("https://registry.example")) {
      return Promise.resolve(redirect("https://cdn.example/signed?sig=abc")());
    }
    return Promise.resolve(new Response("blob"));
  };
  const client = http(fetch);
  for (const start of ["https://registry.example/v2/a/blobs/x", "https://10.0.0.5/v2/a/blobs/x"]) {
    const response = await client.send({
      method: "GET",
      url: new URL(start),
      headers: { authorization: "Bearer t" },
      maxBytes: 1024,
      what: "a",
    });
    assert.equal(new TextDecoder().decode(response.body), "blob");
  }
  assert.deepEqual(seen, [
    ["https://registry.example/v2/a/blobs/x", "Bearer t"],
    ["https://cdn.example/signed?sig=abc", null],
    ["https://10.0.0.5/v2/a/blobs/x", "Bearer t"],
    ["https://10.0.0.9/blob", null],
  ]);
});

Deno.test("Http retries only network failures; a bad argument is rethrown as is, once", async (t) => {
  const cases: Array<[string, () => unknown, "NETWORK" | "rethrown"]> = [
    ["fetch failed (connection refused)", () =>
      new TypeError("fetch failed", {
        cause: new Error("tcp connect error: Connection refused (os error 111)"),
      }), "NETWORK"],
    ["a body cut off", () => new TypeError("error reading a body from connection"), "NETWORK"],
    ["a Deno network error", () => new Deno.errors.ConnectionReset("reset by peer"), "NETWORK"],
    [
      "an invalid header value",
      () => new TypeError('Invalid header value: "a\nconnection"'),
      "rethrown",
    ],
    ["a bug in a custom fetch", () => new TypeError("x is not a function"), "rethrown"],
    ["a RangeError", () => new RangeError("Invalid array length"), "rethrown"],
  ];
  for (const [name, failure, expected] of cases) {
    await t.step(name, async () => {
      let calls = 0;
      const thrown = failure();
      const client = new Http({
        fetch: () => {
          calls++;
          return Promise.reject(thrown);
        },
        retry: retryPolicy({ retries: 2, baseDelayMs: 0, maxDelayMs: 0 }),
        timeoutMs: 1000,
        userAgent: "test",
        logger: new Logger("ERROR"),
      });
      const request = { method: "GET", url: new URL("https://registry.example/v2/"), maxBytes: 64 };
      const error = await client.send({ ...request, what: "registry.example" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (expected === "NETWORK") {
        assert.ok(isRegistryError(error, "NETWORK"), String(error));
        assert.equal(calls, 3);
        assert.equal(client.stats.retries, 2);
      } else {
        assert.equal(error, thrown);
        assert.equal(calls, 1);
        assert.equal(client.stats.retries, 0);
      }
    });
  }
});

Deno.test("Http refuses an https -> http redirect unless the host is loopback or allowed", async (t) => {
  const cases: Array<[string, string, boolean | undefined, boolean]> = [
    ["https://registry.example/v2/", "http://registry.example/v2/", undefined, false],
    ["https://registry.example/v2/", "http://cdn.example/blob", undefined, false],
    ["https://registry.example/v2/", "http://registry.example/v2/", true, true], // insecure
    ["https://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/", undefined, true], // loopback
    ["http://registry.example/v2/", "http://cdn.example/blob", undefined, true], // no downgrade
  ];
  for (const [start, target, allowHttp, followed] of cases) {
    await t.step(`${start} -> ${target} (allowHttp ${allowHttp})`, async () => {
      const { asked, fetch } = scripted({
        [start]: redirect(target),
        [target]: () => new Response("ok"),
      });
      const send = http(fetch).send({
        method: "GET",
        url: new URL(start),
        maxBytes: 1024,
        what: "a",
        ...(allowHttp === undefined ? {} : { allowHttp }),
      });
      if (followed) {
        assert.equal((await send).status, 200);
        assert.deepEqual(asked, [start, target]);
      } else {
        await assert.rejects(
          send,
          (e: unknown) => isRegistryError(e, "INSECURE_REGISTRY") && /downgrade/.test(e.message),
        );
        assert.deepEqual(asked, [start]);
      }
    });
  }
});

Deno.test("Http waits exactly what Retry-After asks before the retry (FakeTime, no real sleep)", async () => {
  using time = new FakeTime();
  const asked: number[] = [];
  let calls = 0;
  const fetch: FetchFunction = () => {
    asked.push(Date.now());
    calls++;
    return Promise.resolve(
      calls === 1
        ? new Response("busy", { status: 503, headers: { "retry-after": "30" } })
        : new Response("ok", { status: 200 }),
    );
  };
  const client = new Http({
    fetch,
    retry: retryPolicy({ retries: 1, maxRetryAfterMs: 60_000 }),
    timeoutMs: 120_000,
    userAgent: "test",
    logger: new Logger("ERROR"),
  });
  const start = Date.now();
  const pending = client.send({
    method: "GET",
    url: new URL("https://registry.example/v2/"),
    maxBytes: 1024,
    what: "registry.example",
  });
  await time.tickAsync(29_999);
  assert.equal(calls, 1, "no retry before Retry-After has passed");
  await time.tickAsync(1);
  const response = await pending;
  assert.equal(response.status, 200);
  assert.deepEqual(asked.map((t) => t - start), [0, 30_000]);
});

Deno.test("Http backs off with full jitter between retries (FakeTime)", async () => {
  using time = new FakeTime();
  const asked: number[] = [];
  const fetch: FetchFunction = () => {
    asked.push(Date.now());
    return Promise.resolve(new Response("down", { status: 502 }));
  };
  const client = new Http({
    fetch,
    // random() = 0.5: each wait is half the window 100, 200, 400 ms.
    retry: retryPolicy({ retries: 3, baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 }),
    timeoutMs: 120_000,
    userAgent: "test",
    logger: new Logger("ERROR"),
  });
  const start = Date.now();
  const pending = client.send({
    method: "GET",
    url: new URL("https://registry.example/v2/"),
    maxBytes: 1024,
    what: "registry.example",
  });
  for (let i = 0; i < 100; i++) await time.tickAsync(10);
  const response = await pending;
  assert.equal(response.status, 502, "the last answer is returned once the retries are spent");
  assert.deepEqual(asked.map((t) => t - start), [0, 50, 150, 350]);
});
