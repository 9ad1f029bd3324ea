import assert from "node:assert/strict";
import {
  isIndex,
  MANIFEST_ACCEPT,
  manifestMediaType,
  MEDIA_TYPE_DOCKER_LIST,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  mediaTypeOf,
} from "./media_types.ts";

Deno.test("MANIFEST_ACCEPT names every manifest and index type, indexes first", () => {
  assert.deepEqual(MANIFEST_ACCEPT.split(", "), [
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_OCI_MANIFEST,
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_DOCKER_MANIFEST,
  ]);
});

Deno.test("isIndex() is true for a manifests array, whatever the mediaType says", () => {
  assert.ok(isIndex({ mediaType: MEDIA_TYPE_OCI_INDEX, manifests: [] }));
  assert.ok(isIndex({ manifests: [{ digest: "sha256:x" }] }));
  assert.ok(!isIndex({ mediaType: MEDIA_TYPE_OCI_INDEX }));
  assert.ok(!isIndex({ mediaType: MEDIA_TYPE_OCI_MANIFEST, layers: [] }));
  assert.ok(!isIndex({ manifests: "no" }));
});

Deno.test("mediaTypeOf() drops parameters; manifestMediaType() prefers the manifest's own", () => {
  assert.equal(mediaTypeOf(`${MEDIA_TYPE_OCI_MANIFEST}; charset=utf-8`), MEDIA_TYPE_OCI_MANIFEST);
  assert.equal(mediaTypeOf(" application/json "), "application/json");
  for (const none of [null, undefined, "", " ; x=y"]) assert.equal(mediaTypeOf(none), undefined);
  assert.equal(
    manifestMediaType({ mediaType: MEDIA_TYPE_DOCKER_LIST }, "text/plain"),
    MEDIA_TYPE_DOCKER_LIST,
  );
  assert.equal(manifestMediaType({}, `${MEDIA_TYPE_OCI_INDEX};x=1`), MEDIA_TYPE_OCI_INDEX);
  assert.equal(manifestMediaType({ mediaType: 7 }, null), "");
});
