/**
 * HEAD fallbacks a real registry does not exercise: a server that refuses
 * HEAD (405) or omits Docker-Content-Digest. A Deno.serve fixture plays it.
 */
import assert from "node:assert/strict";
import { ContainerRegistryClient } from "../mod.ts";

const MANIFEST = new TextEncoder().encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: "sha256:" + "a".repeat(64),
      size: 2,
    },
    layers: [],
  }),
);

async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return "sha256:" + Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

function serve(mode: "405" | "no-digest" | "wrong-digest") {
  const log: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    log.push(`${req.method} ${url.pathname}`);
    if (url.pathname === "/v2/") return new Response("{}");
    if (!url.pathname.startsWith("/v2/app/manifests/")) return new Response("", { status: 404 });
    const ref = url.pathname.split("/").pop()!;
    if (ref !== "v1" && ref !== await sha256(MANIFEST)) {
      return Response.json(
        { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] },
        {
          status: 404,
        },
      );
    }
    if (req.method === "HEAD" && mode === "405") return new Response(null, { status: 405 });
    const headers = new Headers({ "content-type": "application/vnd.oci.image.manifest.v1+json" });
    if (mode === "wrong-digest") headers.set("docker-content-digest", "sha256:" + "b".repeat(64));
    return new Response(req.method === "HEAD" ? null : MANIFEST, { headers });
  });
  return { server, log, host: `127.0.0.1:${server.addr.port}` };
}

Deno.test("exists() falls back to one GET when HEAD is 405 and hashes the body", async () => {
  const { server, log, host } = serve("405");
  await using client = new ContainerRegistryClient({ env: () => undefined });
  const result = await client.exists(`${host}/app:v1`);
  assert.equal(result.status === "present" && result.digest, await sha256(MANIFEST));
  assert.deepEqual(log, ["GET /v2/", "HEAD /v2/app/manifests/v1", "GET /v2/app/manifests/v1"]);
  log.length = 0;
  assert.equal((await client.exists(`${host}/app:nope`)).status, "absent");
  await server.shutdown();
});

Deno.test("exists() computes the digest with GET when the header is missing", async () => {
  const { server, host } = serve("no-digest");
  await using client = new ContainerRegistryClient({ env: () => undefined });
  const digest = await sha256(MANIFEST);
  const byTag = await client.exists(`${host}/app:v1`);
  assert.equal(byTag.status === "present" && byTag.digest, digest);
  const byDigest = await client.exists(`${host}/app@${digest}`);
  assert.equal(byDigest.status, "present");
  await server.shutdown();
});

Deno.test("a Docker-Content-Digest that does not match the reference is DIGEST_MISMATCH", async () => {
  const { server, host } = serve("wrong-digest");
  await using client = new ContainerRegistryClient({ env: () => undefined });
  const digest = await sha256(MANIFEST);
  const result = await client.exists(`${host}/app@${digest}`);
  assert.equal(result.status === "unknown" && result.code, "DIGEST_MISMATCH");
  await assert.rejects(client.manifest(`${host}/app:v1`), /does not match Docker-Content-Digest/);
  await server.shutdown();
});
