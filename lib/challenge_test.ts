import assert from "node:assert/strict";
import { parseChallenges, selectChallenge } from "./challenge.ts";

Deno.test("parseChallenges() reads RFC 7235 challenge lists", async (t) => {
  const cases: Array<[string, string | string[], unknown]> = [
    [
      "a registry's Bearer challenge",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
      [{
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/ubuntu:pull",
        },
      }],
    ],
    ["Basic (crashed the seed)", 'Basic realm="Registry Realm"', [{
      scheme: "basic",
      params: { realm: "Registry Realm" },
    }]],
    [
      "Bearer without scope or service (crashed the seed)",
      'Bearer realm="https://r.example/token"',
      [{ scheme: "bearer", params: { realm: "https://r.example/token" } }],
    ],
    [
      "case-insensitive scheme and keys",
      'BEARER Realm="x",SERVICE=s',
      [{ scheme: "bearer", params: { realm: "x", service: "s" } }],
    ],
    [
      "escaped quotes and commas in quoted strings",
      'Bearer realm="a\\"b,c",scope="x y"',
      [{ scheme: "bearer", params: { realm: 'a"b,c', scope: "x y" } }],
    ],
    [
      "two challenges in one header",
      'Basic realm="a", Bearer realm="https://x/t", service="s"',
      [{ scheme: "basic", params: { realm: "a" } }, {
        scheme: "bearer",
        params: { realm: "https://x/t", service: "s" },
      }],
    ],
    [
      "challenges in several headers",
      ['Basic realm="a"', 'Bearer realm="b"'],
      [{ scheme: "basic", params: { realm: "a" } }, { scheme: "bearer", params: { realm: "b" } }],
    ],
    [
      "token68",
      "Negotiate abc123==, Bearer realm=r",
      [{ scheme: "negotiate", params: {}, token68: "abc123==" }, {
        scheme: "bearer",
        params: { realm: "r" },
      }],
    ],
    [
      "error and error_description",
      'Bearer realm="r",error="insufficient_scope",error_description="need \\"pull\\""',
      [{
        scheme: "bearer",
        params: { realm: "r", error: "insufficient_scope", error_description: 'need "pull"' },
      }],
    ],
    ["empty", "", []],
    ["only commas", " , ,, ", []],
    ["unterminated quote", 'Bearer realm="abc', [{ scheme: "bearer", params: { realm: "abc" } }]],
    ["first parameter wins on repeats", "Bearer realm=a, realm=b", [{
      scheme: "bearer",
      params: { realm: "a" },
    }]],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.deepEqual(parseChallenges(input), expected));
  }
});

Deno.test("selectChallenge() prefers Bearer with a realm, then Basic", async (t) => {
  await t.step("Bearer over Basic", () => {
    assert.deepEqual(selectChallenge('Basic realm="a", Bearer realm="https://x/t",scope="p q"'), {
      scheme: "bearer",
      realm: "https://x/t",
      scopes: ["p", "q"],
    });
  });
  await t.step("Basic alone", () => {
    assert.deepEqual(selectChallenge('Basic realm="reg"'), {
      scheme: "basic",
      realm: "reg",
      scopes: [],
    });
  });
  await t.step("insufficient_scope keeps error and scopes", () => {
    const c = selectChallenge(
      'Bearer realm="https://a/t",service="s",scope="repository:x:pull",error="insufficient_scope"',
    );
    assert.equal(c?.error, "insufficient_scope");
    assert.deepEqual(c?.scopes, ["repository:x:pull"]);
  });
  await t.step("a Bearer without realm and nothing else is not usable", () => {
    assert.equal(selectChallenge("Bearer service=s"), undefined);
    assert.equal(selectChallenge("Digest realm=x"), undefined);
    assert.equal(selectChallenge(null), undefined);
  });
});
