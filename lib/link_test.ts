import assert from "node:assert/strict";
import { nextLink, parseLinkHeader } from "./link.ts";

Deno.test("parseLinkHeader() reads RFC 8288 links", async (t) => {
  await t.step("the registry's next link", () => {
    assert.deepEqual(parseLinkHeader('</v2/app/tags/list?last=b&n=2>; rel="next"'), [
      { target: "/v2/app/tags/list?last=b&n=2", params: { rel: "next" } },
    ]);
  });
  await t.step("several links and unquoted values", () => {
    assert.deepEqual(parseLinkHeader('<a>; rel=prev, <b>; rel=next; title="x, y"'), [
      { target: "a", params: { rel: "prev" } },
      { target: "b", params: { rel: "next", title: "x, y" } },
    ]);
  });
  await t.step("junk gives nothing", () => {
    assert.deepEqual(parseLinkHeader("no links here"), []);
    assert.deepEqual(parseLinkHeader(null), []);
    assert.deepEqual(parseLinkHeader("<unterminated"), []);
  });
});

Deno.test("nextLink() finds rel=next among relations", () => {
  assert.equal(nextLink('<x>; rel="prev", <y>; rel="last next"'), "y");
  assert.equal(nextLink('<x>; rel="prev"'), undefined);
});
