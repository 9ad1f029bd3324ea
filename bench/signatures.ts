/**
 * `deno task bench:signatures`: "is it signed?" for N images over M repositories on a real
 * `docker-registry` 2.8 (loopback, plain HTTP, no auth), a mix of unsigned, legacy-signed
 * (`.sig` tag), bundle-signed (cosign v3 bundle in the referrers fallback tag) and multi-arch
 * images (half of them signed on the index). Rows, in one run:
 *
 * - `signedMany` (concurrency 32) and `verifyMany` with the signing key;
 * - the pipeline's flow today: one `skopeo inspect --raw` process per image (standing in for
 *   `cosign triangulate`: a process and a manifest GET), then a GET of the `.sig` tag
 *   without `Accept`, as the seed does; sampled and extrapolated;
 * - a raw keep-alive `fetch` loop that already knows every digest and HEADs the two
 *   candidate tags (`.sig` and the fallback tag) at concurrency 32: the limit.
 *
 * Flags: `--n` (1000), `--m` (20), `--sample` (40), `--json`.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { ContainerRegistryClient } from "../mod.ts";
import { startRegistry } from "../tests/_registry.ts";
import { pushImage, pushIndex } from "../tests/_images.ts";
import {
  generateKey,
  makeBundle,
  pushBundleReferrer,
  pushCosignSignature,
  signLayer,
} from "../tests/_signatures.ts";

const args = parseArgs(Deno.args, {
  string: ["n", "m", "sample"],
  boolean: ["json"],
  default: { n: "1000", m: "20", sample: "40" },
});
const N = Number(args.n);
const M = Number(args.m);
const SAMPLE = Number(args.sample);
const encoder = new TextEncoder();
const log = (text: string) => Deno.stderr.writeSync(encoder.encode(`bench: ${text}\n`));
const print = (text: string) => Deno.stdout.writeSync(encoder.encode(`${text}\n`));

interface Row {
  name: string;
  seconds: number;
  images: number;
  requests: number;
  wrong: number;
  note?: string;
}

await using registry = await startRegistry({ auth: "none" });
const key = await generateKey();
const truth = new Map<string, boolean>();
const digests = new Map<string, string>();
log(`pushing ${N} images over ${M} repositories …`);
for (let i = 0; i < N; i++) {
  const repo = `sig/r${String(i % M).padStart(3, "0")}`;
  const tag = `t${i}`;
  const ref = `${registry.host}/${repo}:${tag}`;
  const kind = i % 5; // 0,1 unsigned; 2 legacy; 3 bundle; 4 multi-arch
  let digest: string;
  let signed = false;
  if (kind === 4) {
    const index = await pushIndex(registry, repo, tag, [
      { platform: { os: "linux", architecture: "amd64" } },
      { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ]);
    digest = index.digest;
    if (i % 10 === 4) {
      await pushCosignSignature(registry, repo, digest, [
        await signLayer(key, `${registry.host}/${repo}`, digest),
      ]);
      signed = true;
    }
  } else {
    const image = await pushImage(registry, repo, tag);
    digest = image.digest;
    if (kind === 2) {
      await pushCosignSignature(registry, repo, digest, [
        await signLayer(key, `${registry.host}/${repo}`, digest),
      ]);
      signed = true;
    } else if (kind === 3) {
      await pushBundleReferrer(registry, repo, image, await makeBundle(key, digest));
      signed = true;
    }
  }
  truth.set(ref, signed);
  digests.set(ref, digest);
}
const refs = [...truth.keys()];
const rows: Row[] = [];

async function timed(name: string, body: () => Promise<{ wrong: number; images?: number }>) {
  await registry.clearRequests();
  const start = performance.now();
  const { wrong, images = refs.length } = await body();
  const seconds = (performance.now() - start) / 1000;
  const requests = (await registry.requests()).length;
  rows.push({ name, seconds, images, requests, wrong });
  log(`${name}: ${seconds.toFixed(2)} s, ${requests} requests, ${wrong} wrong`);
}

await timed("regkit signedMany, concurrency 32", async () => {
  await using client = new ContainerRegistryClient({ env: () => undefined });
  let wrong = 0;
  for await (const r of client.signedMany(refs, { concurrency: 32 })) {
    if ((r.status === "signed") !== truth.get(r.reference) || r.status === "unknown") wrong++;
  }
  return { wrong };
});

for (const want of [false, true]) {
  const subset = refs.filter((r) => truth.get(r) === want);
  await timed(`regkit signedMany, ${want ? "signed" : "unsigned"} images only`, async () => {
    await using client = new ContainerRegistryClient({ env: () => undefined });
    let wrong = 0;
    for await (const r of client.signedMany(subset, { concurrency: 32 })) {
      if ((r.status === "signed") !== want) wrong++;
    }
    return { wrong, images: subset.length };
  });
}

await timed("regkit verifyMany --key, concurrency 32", async () => {
  await using client = new ContainerRegistryClient({ env: () => undefined });
  let wrong = 0;
  for await (const r of client.verifyMany(refs, { keys: [key.pem], concurrency: 32 })) {
    if ((r.status === "verified") !== truth.get(r.reference) || r.status === "unknown") wrong++;
  }
  return { wrong };
});

await timed("raw fetch HEAD loop (digests known), concurrency 32", async () => {
  const queue = [...refs];
  let wrong = 0;
  const worker = async () => {
    for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
      const repo = ref.slice(registry.host.length + 1, ref.lastIndexOf(":"));
      const tag = digests.get(ref)!.replace(":", "-");
      let found = false;
      for (const candidate of [`${tag}.sig`, tag]) {
        const response = await fetch(`${registry.url}/v2/${repo}/manifests/${candidate}`, {
          method: "HEAD",
          headers: {
            accept:
              "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
          },
        });
        await response.body?.cancel();
        if (response.status === 200) found = true;
      }
      if (found !== truth.get(ref)) wrong++;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { wrong };
});

const skopeo = await new Deno.Command("skopeo", { args: ["--version"], stdout: "null" }).output()
  .then((o) => o.success, () => false);
if (skopeo) {
  const sample = refs.slice(0, SAMPLE);
  await timed(
    `pipeline flow: skopeo inspect --raw + GET .sig (sample ${SAMPLE}, extrapolated)`,
    async () => {
      let wrong = 0;
      for (const ref of sample) {
        const out = await new Deno.Command("skopeo", {
          args: ["inspect", "--raw", "--tls-verify=false", "--retry-times", "0", `docker://${ref}`],
          stdout: "piped",
          stderr: "null",
        }).output();
        const hash = new Uint8Array(
          await crypto.subtle.digest("SHA-256", out.stdout as BufferSource),
        );
        const digest = "sha256:" +
          Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
        const repo = ref.slice(registry.host.length + 1, ref.lastIndexOf(":"));
        const response = await fetch(
          `${registry.url}/v2/${repo}/manifests/${digest.replace(":", "-")}.sig`,
        );
        await response.body?.cancel();
        if ((response.status === 200) !== truth.get(ref)) wrong++;
      }
      return { wrong, images: sample.length };
    },
  );
  const row = rows.at(-1)!;
  const scale = refs.length / row.images;
  row.note = `measured ${row.seconds.toFixed(2)} s for ${row.images}`;
  row.seconds *= scale;
  row.requests = Math.round(row.requests * scale);
  row.wrong = Math.round(row.wrong * scale);
  row.images = refs.length;
} else {
  log("skopeo is not installed: skipping the pipeline row");
}

const raw = rows.find((r) => r.name.startsWith("raw"))!;
const pipeline = rows.find((r) => r.name.startsWith("pipeline"));
const signedCount = [...truth.values()].filter(Boolean).length;
if (args.json) {
  print(JSON.stringify({ n: refs.length, m: M, signed: signedCount, rows }));
} else {
  print(
    `N = ${refs.length} images over ${M} repositories, ${signedCount} signed ` +
      `(legacy .sig, cosign v3 bundle in the fallback tag, multi-arch signed on the index)\n`,
  );
  print("| way | wall | images/s | vs raw loop | vs pipeline | registry req/image | wrong |");
  print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    const rate = row.images / row.seconds;
    print(
      `| ${row.name}${row.note ? ` _(${row.note})_` : ""} | ${row.seconds.toFixed(2)} s | ${
        rate.toFixed(0)
      } | ${(raw.seconds / row.seconds).toFixed(2)}× | ${
        pipeline ? `${(pipeline.seconds / row.seconds).toFixed(1)}×` : "–"
      } | ${(row.requests / row.images).toFixed(3)} | ${row.wrong} |`,
    );
  }
}
