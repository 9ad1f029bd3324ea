/**
 * Fault injection against the real token-auth `docker-registry` (issue 7): a seeded proxy
 * resets connections (before and mid headers), truncates bodies, answers 503/429/502 and stalls
 * past the time-out, while a 1,000-reference `existsMany` runs at concurrency 16; then the
 * registry process is killed mid-batch and restarted. No answer may be wrong: a fault that
 * outlasts the retries gives `unknown` with the fault's code, never `absent`.
 */
import assert from "node:assert/strict";
import {
  ContainerRegistryClient,
  type ExistsResult,
  parseReference,
  type RegistryErrorCode,
} from "../mod.ts";
import { type RegistryFixture, startRegistry } from "./_registry.ts";
import { seedStandardImages, type StandardImages, uploadImage } from "./_images.ts";
import { type FaultKind, mulberry32, startFaultProxy } from "./_fault_proxy.ts";
import { recordingFetch } from "./_fault_server.ts";

const RETRIES = 3;
const TIMEOUT_MS = 300;
const STICKY_REFS = 4;
const PRESENT_TAGS = 150;

/** What a reference should give. */
type Truth =
  | { status: "present"; digest: string }
  | { status: "absent" }
  | { status: "unknown"; code: RegistryErrorCode };

const FAULT_CODE: Record<FaultKind, RegistryErrorCode> = {
  "reset": "NETWORK",
  "reset-mid-headers": "NETWORK",
  "truncate": "NETWORK",
  "slow": "TIMEOUT",
  "503": "UNEXPECTED_STATUS",
  "502": "TOKEN_EXCHANGE_FAILED",
  "429": "TOOMANYREQUESTS",
  "429-long": "TOOMANYREQUESTS",
};

/** Repositories the proxy always faults (manifest requests only), with the expected code. */
const STICKY: Record<string, FaultKind> = {
  "sticky/reset": "reset",
  "sticky/headers": "reset-mid-headers",
  "sticky/busy": "503",
  "sticky/limited": "429-long",
  "sticky/slow": "slow",
};

function describe(result: ExistsResult): string {
  return result.status === "unknown" ? `unknown ${result.code}` : result.status;
}

function describeTruth(truth: Truth): string {
  return truth.status === "unknown" ? `unknown ${truth.code}` : truth.status;
}

/** Seeds the standard images plus `PRESENT_TAGS` more tags of `test/oci`. */
async function seed(registry: RegistryFixture): Promise<StandardImages> {
  const images = await seedStandardImages(registry);
  for (let i = 0; i < PRESENT_TAGS; i += 15) {
    await Promise.all(
      Array.from(
        { length: Math.min(15, PRESENT_TAGS - i) },
        (_, j) => uploadImage(registry, "test/oci", `p${i + j}`, images.oci),
      ),
    );
  }
  return images;
}

/** `count` unique references with their truth, shuffled by `seed`. */
function workload(
  host: string,
  images: StandardImages,
  count: number,
  seed: number,
  options: { sticky?: boolean } = {},
): Array<[string, Truth]> {
  const hex = (i: number) => i.toString(16).padStart(64, "0");
  const cases: Array<[string, Truth]> = [];
  const present = (digest: string): Truth => ({ status: "present", digest });
  for (let i = 0; i < PRESENT_TAGS; i++) {
    cases.push([`${host}/test/oci:p${i}`, present(images.oci.digest)]);
  }
  cases.push(
    [`${host}/test/docker:v1`, present(images.docker.digest)],
    [`${host}/test/index:v1`, present(images.index.digest)],
    [`${host}/public/oci:v1`, present(images.oci.digest)],
    [`${host}/test/oci@${images.oci.digest}`, present(images.oci.digest)],
    [`${host}/test/index@${images.index.digest}`, present(images.index.digest)],
    [`${host}/test/docker:v1@${images.docker.digest}`, present(images.docker.digest)],
  );
  if (options.sticky) {
    for (let i = 0; i < 3; i++) {
      cases.push([`${host}/denied/oci:d${i}`, { status: "unknown", code: "UNAUTHORIZED" }]);
    }
    for (const [repository, fault] of Object.entries(STICKY)) {
      for (let i = 0; i < STICKY_REFS; i++) {
        cases.push([`${host}/${repository}:s${i}`, { status: "unknown", code: FAULT_CODE[fault] }]);
      }
    }
  }
  for (let i = 0; cases.length < count; i++) {
    const kind = i % 3;
    const ref = kind === 0
      ? `${host}/test/oci:missing-${i}`
      : kind === 1
      ? `${host}/absent/r${i % 97}:t${i}`
      : `${host}/test/docker@sha256:${hex(i)}`;
    cases.push([ref, { status: "absent" }]);
  }
  const random = mulberry32(seed);
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cases[i], cases[j]] = [cases[j], cases[i]];
  }
  return cases;
}

function matches(result: ExistsResult, truth: Truth): boolean {
  if (result.status !== truth.status) return false;
  if (result.status === "present" && truth.status === "present") {
    return result.digest === truth.digest;
  }
  if (result.status === "unknown" && truth.status === "unknown") return result.code === truth.code;
  return true;
}

Deno.test("existsMany() through injected faults: 1,000 references, no wrong answer", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seed(registry);
  let firstTokenAttempts = 0;
  await using proxy = startFaultProxy({
    upstream: registry.url,
    tokenRealm: registry.tokenServer!.url,
    caCert: registry.caCert!,
    seed: 20240607,
    rate: 0.2,
    slowMs: TIMEOUT_MS * 2,
    exempt: (method, path) => method === "GET" && path === "/v2/",
    sticky: (_method, path, attempt) => {
      // every first token request is cut off mid-body or answered 502, in turn (then retried):
      // token requests are few here (batched), and GET bodies rare
      if (path.startsWith("/token")) {
        return attempt === 0 ? (firstTokenAttempts++ % 2 === 0 ? "truncate" : "502") : undefined;
      }
      if (!path.includes("/manifests/")) return undefined;
      const repository = path.slice("/v2/".length, path.indexOf("/manifests/"));
      return STICKY[repository];
    },
  });
  const cases = workload(proxy.host, images, 1000, 7, { sticky: true });
  const recorder = recordingFetch();
  await using client = new ContainerRegistryClient({
    env: () => undefined,
    username: "alice",
    password: registry.users.alice,
    fetch: recorder.fetch,
    retries: RETRIES,
    timeoutMs: TIMEOUT_MS,
    backoff: { baseDelayMs: 1, maxDelayMs: 10 },
  });

  const results: ExistsResult[] = [];
  for await (const result of client.existsMany(cases.map(([ref]) => ref), { concurrency: 16 })) {
    results.push(result);
  }

  // exactly one result per input, in input order
  assert.equal(results.length, cases.length);
  results.forEach((r, i) => assert.equal(r.reference, cases[i][0]));

  const headEvents = (ref: string) => {
    const parsed = parseReference(ref);
    const key = `HEAD /v2/${parsed.repository}/manifests/${parsed.reference}`;
    return proxy.events.filter((e) => e.key === key);
  };
  const tokenEventsFor = (ref: string) => {
    const scope = parseReference(ref).scope("pull");
    return proxy.events.filter((e) =>
      e.path.startsWith("/token") &&
      new URL(e.path, "http://x").searchParams.getAll("scope").includes(scope)
    );
  };

  const wrong: string[] = [];
  const unexplained: string[] = [];
  let faultedAndRecovered = 0;
  for (const [i, result] of results.entries()) {
    const [ref, truth] = cases[i];
    const heads = headEvents(ref);
    // bounded: a reference costs at most retries+1 attempts (twice that after a 401 renewal)
    const limit = (RETRIES + 1) *
      (truth.status === "unknown" && truth.code === "UNAUTHORIZED" ? 2 : 1);
    if (heads.length > limit) wrong.push(`${ref}: ${heads.length} attempts`);
    if (matches(result, truth)) {
      if (heads.some((e) => e.fault !== undefined)) faultedAndRecovered++;
      continue;
    }
    // never a wrong present/absent
    if (result.status !== "unknown") {
      wrong.push(`${ref}: ${describe(result)}, expected ${describeTruth(truth)}`);
      continue;
    }
    // an unknown must be a fault that outlasted the retries, with that fault's code
    const last = heads.at(-1);
    // (a 429 asking for longer than maxRetryAfterMs outlasts them at once)
    const headExplains = last?.fault !== undefined && FAULT_CODE[last.fault] === result.code &&
      heads.every((e) => e.fault !== undefined) &&
      (heads.length === RETRIES + 1 || last.fault === "429-long");
    // or a token request for its scope (alone or in a batch) that outlasted them
    const tokenKeys = Map.groupBy(tokenEventsFor(ref), (e) => e.key);
    const tokenExplains = [...tokenKeys.values()].some((events) =>
      events.length === RETRIES + 1 && events.every((e) => e.fault !== undefined) &&
      FAULT_CODE[events.at(-1)!.fault!] === result.code
    );
    if (!headExplains && !tokenExplains) {
      unexplained.push(
        `${ref}: ${describe(result)} (${result.message}); head faults ${
          heads.map((e) => e.fault ?? e.status).join(",")
        }`,
      );
    }
  }
  assert.deepEqual(wrong, []);
  assert.deepEqual(unexplained, []);

  // the sticky faults outlasted the retries with their codes, after exactly retries+1 attempts
  // (a 429 asking for an hour is not waited for: one attempt)
  for (const [repository, fault] of Object.entries(STICKY)) {
    const refs = cases.filter(([ref]) => ref.includes(`/${repository}:`));
    for (const [ref] of refs) {
      const result = results[cases.findIndex(([r]) => r === ref)];
      assert.equal(describe(result), `unknown ${FAULT_CODE[fault]}`, ref);
      assert.equal(headEvents(ref).length, fault === "429-long" ? 1 : RETRIES + 1, ref);
    }
  }

  // the schedule really hit the batch
  const faulted = proxy.events.filter((e) => e.fault !== undefined);
  const kinds = new Set(faulted.map((e) => e.fault));
  for (const kind of ["reset", "reset-mid-headers", "truncate", "503", "429", "slow", "502"]) {
    assert.ok(kinds.has(kind as FaultKind), `no ${kind} fault was injected`);
  }
  assert.ok(faultedAndRecovered > 100, `only ${faultedAndRecovered} references recovered`);

  // every attempt is accounted for, and the total is bounded
  const stats = client.stats;
  assert.equal(stats.requests, proxy.connections, "client attempts = proxy connections");
  const stickyRefs = Object.keys(STICKY).length * STICKY_REFS;
  const bound = Math.ceil(cases.length * 1.5) + stickyRefs * (RETRIES + 1) + 100;
  assert.ok(stats.requests <= bound, `${stats.requests} requests > ${bound}`);
  assert.ok(stats.tokenRequests <= 150, `${stats.tokenRequests} token requests`);
  recorder.assertLoopbackOnly();
});

Deno.test("existsMany() while the registry is killed and restarted mid-batch", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seed(registry);
  const cases = workload(registry.host, images, 600, 11);
  const recorder = recordingFetch();
  await using client = new ContainerRegistryClient({
    env: () => undefined,
    username: "alice",
    password: registry.users.alice,
    caCerts: [registry.caCert!],
    fetch: recorder.fetch,
    retries: 1,
    timeoutMs: 5_000,
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
  });

  const results: ExistsResult[] = [];
  let killedAt = -1;
  let restartedAt = -1;
  let outageUnknowns = 0;
  for await (const result of client.existsMany(cases.map(([ref]) => ref), { concurrency: 16 })) {
    results.push(result);
    if (results.length === 150) {
      await registry.kill();
      killedAt = results.length;
    }
    if (killedAt >= 0 && restartedAt < 0 && result.status === "unknown") outageUnknowns++;
    if (restartedAt < 0 && outageUnknowns >= 20) {
      await registry.restart();
      restartedAt = results.length;
    }
  }
  assert.ok(killedAt > 0 && restartedAt > killedAt, `killed ${killedAt}, restarted ${restartedAt}`);
  assert.equal(results.length, cases.length);

  const wrong: string[] = [];
  for (const [i, result] of results.entries()) {
    const [ref, truth] = cases[i];
    assert.equal(result.reference, ref);
    if (matches(result, truth)) continue;
    if (result.status !== "unknown") {
      wrong.push(`#${i} ${ref}: ${describe(result)}, expected ${describeTruth(truth)}`);
    } else if (i < killedAt - 1) {
      wrong.push(`#${i} ${ref}: ${describe(result)} before the outage`);
    } else if (result.code !== "NETWORK") {
      wrong.push(`#${i} ${ref}: ${describe(result)} during the outage`);
    } else if (i >= restartedAt + 64 + 16) {
      // whatever was queued when the registry came back has drained by now
      wrong.push(`#${i} ${ref}: ${describe(result)} after the restart`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(results.slice(killedAt).some((r) => r.status === "unknown" && r.code === "NETWORK"));
  assert.ok(
    results.slice(restartedAt + 80).every((r, i) => matches(r, cases[restartedAt + 80 + i][1])),
  );
  assert.ok(results.length - (restartedAt + 80) > 100, "enough checks ran after the restart");
  recorder.assertLoopbackOnly();
});
