/**
 * End-to-end benchmark: N existence checks against a real token-auth
 * `docker-registry` on loopback, done every way a pipeline could do them, in
 * one run so the ratios compare like with like.
 *
 * ```sh
 * deno task bench:e2e                        # N=1000 references over M=100 repositories
 * deno task bench:e2e --n 200 --m 20 --json  # smaller, machine-readable
 * ```
 *
 * Flags: `--n` references (default 1000, half present, half absent),
 * `--m` repositories (100), `--seed` for the shuffle (1), `--sample`
 * references for the one-process-per-reference rows (50), `--rss-n`
 * references for the batch CLI memory run (10000; 0 skips it), `--json`.
 *
 * Rows (see bench/README.md): regkit `existsMany` at concurrency 1, 8, 32
 * (fresh client each); the CLI as one process for the batch; the CLI and
 * `skopeo inspect --raw` as one process per reference (sampled, extrapolated);
 * the seed's flow (GET without Accept, shared token, 401 → token → GET);
 * a raw keep-alive `fetch` HEAD loop with pre-minted tokens at concurrency 32.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ContainerRegistryClient, type ExistsResult, MANIFEST_ACCEPT } from "../mod.ts";
import { type RegistryFixture, startRegistry } from "../tests/_registry.ts";
import { compileFlags, ROOT } from "../tests/_compile_flags.ts";
import { mulberry32 } from "../tests/_fault_proxy.ts";
import { buildImage, type PushedImage, sha256, uploadImage } from "../tests/_images.ts";

// ---------------------------------------------------------------------------
// Output (the lint rule no-console applies here too: write to the streams)

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function out(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

function progress(text: string): void {
  Deno.stderr.writeSync(encoder.encode(`bench: ${text}\n`));
}

// ---------------------------------------------------------------------------
// Flags

interface Settings {
  n: number;
  m: number;
  seed: number;
  sample: number;
  rssN: number;
  rounds: number;
  json: boolean;
}

function readSettings(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      n: { type: "string", default: "1000" },
      m: { type: "string", default: "100" },
      seed: { type: "string", default: "1" },
      sample: { type: "string", default: "50" },
      "rss-n": { type: "string", default: "10000" },
      rounds: { type: "string", default: "3" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const int = (name: string, value: string, min: number): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) {
      throw new RangeError(`Cannot use --${name}: ${value} is not an integer >= ${min}`);
    }
    return number;
  };
  const settings = {
    n: int("n", values.n!, 2),
    m: int("m", values.m!, 1),
    seed: int("seed", values.seed!, 0),
    sample: int("sample", values.sample!, 1),
    rssN: int("rss-n", values["rss-n"]!, 0),
    rounds: int("rounds", values.rounds!, 1),
    json: values.json!,
  };
  settings.sample = Math.min(settings.sample, settings.n);
  return settings;
}

// ---------------------------------------------------------------------------
// Helpers

/** A seeded PRNG (the fault proxy's), so the order is the same on every run. */
const seededRandom = mulberry32;

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** What the checks should answer: the digest for a present reference, null for an absent one. */
type Expected = Map<string, string | null>;

/** What a mechanism answered for one reference. */
type Answer =
  | { status: "present"; digest?: string }
  | { status: "absent" }
  | { status: "unknown"; detail: string };

function countWrong(expected: Expected, answers: Map<string, Answer>, refs: readonly string[]) {
  let wrong = 0;
  const examples: string[] = [];
  for (const ref of refs) {
    const want = expected.get(ref);
    const got = answers.get(ref);
    const ok = got !== undefined &&
      (want === null
        ? got.status === "absent"
        : got.status === "present" && (got.digest === undefined || got.digest === want));
    if (!ok) {
      wrong++;
      if (examples.length < 3) {
        const what = got === undefined
          ? "no answer"
          : got.status === "unknown"
          ? `unknown (${got.detail.slice(0, 160)})`
          : got.status;
        examples.push(`${ref}: expected ${want === null ? "absent" : "present"}, got ${what}`);
      }
    }
  }
  return { wrong, examples };
}

// ---------------------------------------------------------------------------
// Processes: wall time and peak RSS via /usr/bin/time, else VmHWM polling

interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size in KiB (undefined when it could not be measured). */
  maxRssKiB?: number;
}

let timeBinary: string | undefined | null = null;

async function findTime(): Promise<string | undefined> {
  if (timeBinary !== null) return timeBinary;
  try {
    const output = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    timeBinary = output.success ? "/usr/bin/time" : undefined;
  } catch {
    timeBinary = undefined;
  }
  return timeBinary;
}

async function readHwm(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function runProcess(command: string, args: string[]): Promise<ProcessRun> {
  const time = await findTime();
  const rssFile = time === undefined ? undefined : await Deno.makeTempFile({ prefix: "rss-" });
  const [cmd, cmdArgs] = time === undefined
    ? [command, args]
    : [time, ["-f", "%M", "-o", rssFile!, command, ...args]];
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let polled: number | undefined;
  let done = false;
  const poller = time !== undefined ? Promise.resolve() : (async () => {
    while (!done) {
      const hwm = await readHwm(child.pid);
      if (hwm !== undefined) polled = Math.max(polled ?? 0, hwm);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const output = await child.output();
  const wallMs = performance.now() - started;
  done = true;
  await poller;
  let maxRssKiB = polled;
  if (rssFile !== undefined) {
    const text = await Deno.readTextFile(rssFile).catch(() => "");
    await Deno.remove(rssFile).catch(() => {});
    const value = Number(text.trim().split("\n").at(-1));
    if (Number.isFinite(value) && value > 0) maxRssKiB = value;
  }
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    wallMs,
    ...(maxRssKiB === undefined ? {} : { maxRssKiB }),
  };
}

// ---------------------------------------------------------------------------
// The CLI's output

/**
 * Reads the CLI's answers: JSON lines (`{"reference","status","digest"}`) or
 * plain lines that name the reference and `present`/`absent`/`unknown`.
 */
function parseCliOutput(stdout: string, refs: readonly string[]): Map<string, Answer> {
  const answers = new Map<string, Answer>();
  const known = new Set(refs);
  const lines = stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const fromJson = (value: unknown) => {
    if (typeof value !== "object" || value === null) return;
    const v = value as Record<string, unknown>;
    const ref = typeof v.reference === "string" ? v.reference : undefined;
    if (ref === undefined) return;
    const status = v.status ?? (v.exists === true ? "present" : v.exists === false ? "absent" : "");
    if (status === "present") {
      answers.set(ref, typeof v.digest === "string" ? { status, digest: v.digest } : { status });
    } else if (status === "absent") answers.set(ref, { status });
    else answers.set(ref, { status: "unknown", detail: String(v.code ?? v.message ?? status) });
  };
  for (const line of lines) {
    if (line.startsWith("{") || line.startsWith("[")) {
      try {
        const parsed = JSON.parse(line);
        if (Array.isArray(parsed)) parsed.forEach(fromJson);
        else if (Array.isArray(parsed?.results)) parsed.results.forEach(fromJson);
        else fromJson(parsed);
        continue;
      } catch {
        // not JSON: fall through to the plain form
      }
    }
    const words = line.split(/\s+/);
    const ref = words.find((w) => known.has(w));
    if (ref === undefined) continue;
    const digest = words.find((w) => /^sha256:[0-9a-f]{64}$/.test(w));
    if (words.includes("present")) {
      answers.set(
        ref,
        digest === undefined ? { status: "present" } : { status: "present", digest },
      );
    } else if (words.includes("absent")) answers.set(ref, { status: "absent" });
    else answers.set(ref, { status: "unknown", detail: line });
  }
  return answers;
}

// ---------------------------------------------------------------------------
// Rows

/** One measured way of doing the N checks. */
interface Row {
  name: string;
  /** How many references were actually checked (the sample for per-process rows). */
  checked: number;
  /** Whether `wallMs` is extrapolated from `checked` to N. */
  extrapolated: boolean;
  wallMs: number;
  refsPerSecond: number;
  /** Registry requests to `/v2/<repo>/manifests/…`. */
  manifestRequests: number;
  /** Every registry request (pings to `/v2/` included). */
  registryRequests: number;
  /** Requests the token server answered. */
  tokenRequests: number;
  manifestRequestsPerRef: number;
  registryRequestsPerRef: number;
  wrong: number;
  wrongExamples: string[];
  /** Peak RSS of the process(es), MiB (max over the sample). */
  peakRssMiB?: number | undefined;
  /** Rounds measured (the row is the median one). */
  rounds?: number;
  /** Fastest and slowest round, ms. */
  wallRangeMs?: [number, number];
  /** Per-process wall times (one-process-per-reference rows). */
  perProcessMs?: number[];
  note?: string;
}

interface Context {
  settings: Settings;
  registry: RegistryFixture;
  expected: Expected;
  refs: string[];
  sample: string[];
  workDir: string;
  authFile: string;
  refsFile: string;
  caPath: string;
  certDir: string;
  cliPath: string;
  user: string;
  password: string;
}

async function measure(
  context: Context,
  name: string,
  checked: readonly string[],
  run: () => Promise<{ answers: Map<string, Answer>; rssKiB?: number; perProcessMs?: number[] }>,
  note?: string,
): Promise<Row> {
  const { registry, settings } = context;
  const tokenServer = registry.tokenServer!;
  await registry.requests(); // flush the log up to now
  await registry.clearRequests();
  const tokensBefore = tokenServer.stats.tokenRequests;
  progress(`${name}: ${checked.length} references`);
  const started = performance.now();
  const { answers, rssKiB, perProcessMs } = await run();
  const elapsed = performance.now() - started;
  const tokenRequests = tokenServer.stats.tokenRequests - tokensBefore;
  const requests = await registry.requests();
  const manifestRequests = requests.filter((r) => r.path.includes("/manifests/")).length;
  const { wrong, examples } = countWrong(context.expected, answers, checked);
  const extrapolated = checked.length < settings.n;
  const wallMs = extrapolated ? (elapsed / checked.length) * settings.n : elapsed;
  const row: Row = {
    name,
    checked: checked.length,
    extrapolated,
    wallMs,
    refsPerSecond: settings.n / (wallMs / 1000),
    manifestRequests,
    registryRequests: requests.length,
    tokenRequests,
    manifestRequestsPerRef: manifestRequests / checked.length,
    registryRequestsPerRef: requests.length / checked.length,
    wrong,
    wrongExamples: examples,
    ...(rssKiB === undefined ? {} : { peakRssMiB: rssKiB / 1024 }),
    ...(perProcessMs === undefined ? {} : { perProcessMs }),
    ...(note === undefined ? {} : { note }),
  };
  progress(
    `${name}: ${Math.round(elapsed)} ms, ${row.refsPerSecond.toFixed(0)} refs/s, ` +
      `${manifestRequests} manifest + ${requests.length - manifestRequests} other registry ` +
      `requests, ${tokenRequests} token requests, ${wrong} wrong`,
  );
  return row;
}

function fromExistsResult(result: ExistsResult): Answer {
  if (result.status === "present") return { status: "present", digest: result.digest };
  if (result.status === "absent") return { status: "absent" };
  return { status: "unknown", detail: `${result.code}: ${result.message}` };
}

async function regkitExistsMany(context: Context, concurrency: number): Promise<Row> {
  return await measure(
    context,
    `regkit existsMany, concurrency ${concurrency}`,
    context.refs,
    async () => {
      await using client = new ContainerRegistryClient({
        authFile: context.authFile,
        caCerts: [context.registry.caCert!],
      });
      const answers = new Map<string, Answer>();
      for await (const result of client.existsMany(context.refs, { concurrency })) {
        answers.set(result.reference, fromExistsResult(result));
      }
      return { answers };
    },
    "fresh client: ping and token requests included",
  );
}

function cliArgs(context: Context, rest: string[]): string[] {
  return [
    "run",
    ...compileFlags(),
    context.cliPath,
    "exists",
    ...rest,
    "--authfile",
    context.authFile,
    "--ca-cert",
    context.caPath,
  ];
}

async function cliBatch(
  context: Context,
  refsFile: string,
  refs: readonly string[],
  name: string,
  concurrency = 32,
): Promise<Row> {
  return await measure(context, name, refs, async () => {
    const run = await runProcess(
      Deno.execPath(),
      cliArgs(context, ["--from-file", refsFile, "--concurrency", String(concurrency)]),
    );
    const answers = parseCliOutput(run.stdout, refs);
    if (answers.size === 0) {
      progress(`CLI batch printed nothing usable (exit ${run.code}): ${run.stderr.slice(0, 500)}`);
    }
    return { answers, ...(run.maxRssKiB === undefined ? {} : { rssKiB: run.maxRssKiB }) };
  }, `one \`deno run cli.ts exists --from-file\` process, concurrency ${concurrency}`);
}

/** Warms Deno's module cache and the OS page cache. */
async function warmCli(context: Context): Promise<void> {
  await new Deno.Command(Deno.execPath(), {
    args: ["cache", `--config=${ROOT}deno.json`, context.cliPath],
    stdout: "null",
  })
    .output();
  await runProcess(Deno.execPath(), cliArgs(context, [context.refs[0]]));
}

/** Median wall time of `deno run cli.ts --version` (process start and module loading only). */
async function cliStartup(context: Context): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const run = await runProcess(Deno.execPath(), [
      "run",
      ...compileFlags(),
      context.cliPath,
      "--version",
    ]);
    times.push(run.wallMs);
  }
  return median(times);
}

async function cliPerReference(context: Context): Promise<Row> {
  return await measure(
    context,
    "regkit CLI, one process per reference",
    context.sample,
    async () => {
      const answers = new Map<string, Answer>();
      const perProcessMs: number[] = [];
      let rss = 0;
      for (const ref of context.sample) {
        const run = await runProcess(Deno.execPath(), cliArgs(context, [ref]));
        perProcessMs.push(run.wallMs);
        rss = Math.max(rss, run.maxRssKiB ?? 0);
        const parsed = parseCliOutput(run.stdout, [ref]).get(ref);
        answers.set(
          ref,
          parsed ??
            (run.code === 0
              ? { status: "present" }
              : run.code === 1
              ? { status: "absent" }
              : { status: "unknown", detail: `exit ${run.code}: ${run.stderr.trim()}` }),
        );
      }
      return { answers, perProcessMs, ...(rss > 0 ? { rssKiB: rss } : {}) };
    },
    `sample of ${context.sample.length}, extrapolated to N`,
  );
}

async function skopeoPerReference(context: Context): Promise<Row | undefined> {
  try {
    await new Deno.Command("skopeo", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch {
    progress("skopeo is not installed: skipping its row");
    return undefined;
  }
  return await measure(
    context,
    "skopeo inspect --raw, one process per reference",
    context.sample,
    async () => {
      const answers = new Map<string, Answer>();
      const perProcessMs: number[] = [];
      let rss = 0;
      for (const ref of context.sample) {
        const run = await runProcess("skopeo", [
          "inspect",
          "--raw",
          "--retry-times",
          "0",
          "--authfile",
          context.authFile,
          "--cert-dir",
          context.certDir,
          `docker://${ref}`,
        ]);
        perProcessMs.push(run.wallMs);
        rss = Math.max(rss, run.maxRssKiB ?? 0);
        if (run.code === 0) {
          answers.set(ref, { status: "present", digest: await sha256(encoder.encode(run.stdout)) });
        } else if (/manifest unknown/i.test(run.stderr)) {
          answers.set(ref, { status: "absent" });
        } else {
          answers.set(ref, { status: "unknown", detail: run.stderr.trim() });
        }
      }
      return { answers, perProcessMs, ...(rss > 0 ? { rssKiB: rss } : {}) };
    },
    `sample of ${context.sample.length}, extrapolated to N`,
  );
}

/**
 * The seed's `check_container_image_exists` in TypeScript: GET the manifest
 * without `Accept`, with the shared token; on 401 resolve the credentials
 * (read the auth file again, as the seed does), GET a token for the
 * challenge's scope, GET the manifest again. Sequential, keep-alive.
 */
async function seedFlow(context: Context): Promise<Row> {
  return await measure(
    context,
    "seed flow (GET, no Accept, 401 → token → GET)",
    context.refs,
    async () => {
      const client = Deno.createHttpClient({ caCerts: [context.registry.caCert!] });
      const holder = { token: "" };
      const answers = new Map<string, Answer>();
      const resolveAuthentication = async (registry: string): Promise<[string, string]> => {
        const config = JSON.parse(await Deno.readTextFile(context.authFile));
        const entry = config.auths?.[registry];
        if (entry === undefined) throw new Error("No authentication found");
        const bytes = Uint8Array.from(atob(entry.auth), (c) => c.charCodeAt(0));
        const text = decoder.decode(bytes);
        const colon = text.indexOf(":");
        return [text.slice(0, colon), text.slice(colon + 1)];
      };
      const authenticate = async (registry: string, header: string): Promise<string> => {
        const params: Record<string, string> = {};
        for (const match of header.replace(/^Bearer\s+/i, "").matchAll(/(\w+)="([^"]*)"/g)) {
          params[match[1]] = match[2];
        }
        const url = new URL(params.realm);
        url.search = new URLSearchParams({ service: params.service, scope: params.scope })
          .toString();
        const [user, password] = await resolveAuthentication(registry);
        const response = await fetch(url, {
          client,
          headers: { authorization: `Basic ${base64(encoder.encode(`${user}:${password}`))}` },
        });
        if (!response.ok) throw new Error(`token: ${response.status}`);
        return (await response.json()).token;
      };
      try {
        for (const ref of context.refs) {
          const colon = ref.lastIndexOf(":");
          const [repoRef, tag] = [ref.slice(0, colon), ref.slice(colon + 1)];
          const slash = repoRef.indexOf("/");
          const [registry, repo] = [repoRef.slice(0, slash), repoRef.slice(slash + 1)];
          const url = `https://${registry}/v2/${repo}/manifests/${tag}`;
          const get = async () => {
            const response = await fetch(url, {
              client,
              headers: { authorization: `Bearer ${holder.token}` },
            });
            return { status: response.status, response, text: await response.text() };
          };
          let answer = await get();
          if (answer.status === 401) {
            holder.token = await authenticate(
              registry,
              answer.response.headers.get("www-authenticate") ?? "",
            );
            answer = await get();
          }
          answers.set(
            ref,
            answer.status === 200
              ? { status: "present" }
              : answer.status === 404
              ? { status: "absent" }
              : { status: "unknown", detail: `${answer.status} ${answer.text}` },
          );
        }
      } finally {
        client.close();
      }
      return { answers };
    },
    "the seed's logic re-created with fetch (the seed itself is Python)",
  );
}

/**
 * The registry's own limit here: keep-alive HEADs with the full `Accept` at
 * concurrency 32, one token per repository minted beforehand (not timed, not
 * counted), no parsing, no retries.
 */
async function mintTokens(context: Context): Promise<Map<string, string>> {
  const tokenServer = context.registry.tokenServer!;
  const tokens = new Map<string, string>();
  for (const ref of context.refs) {
    const repo = ref.slice(ref.indexOf("/") + 1, ref.lastIndexOf(":"));
    if (!tokens.has(repo)) {
      tokens.set(repo, await tokenServer.mintToken([`repository:${repo}:pull`], context.user));
    }
  }
  return tokens;
}

async function rawHeadLoop(
  context: Context,
  concurrency: number,
  tokens: Map<string, string>,
): Promise<Row> {
  return await measure(
    context,
    `raw fetch HEAD loop, concurrency ${concurrency}`,
    context.refs,
    async () => {
      const client = Deno.createHttpClient({ caCerts: [context.registry.caCert!] });
      const answers = new Map<string, Answer>();
      try {
        await pool(context.refs, concurrency, async (ref) => {
          const colon = ref.lastIndexOf(":");
          const slash = ref.indexOf("/");
          const repo = ref.slice(slash + 1, colon);
          const response = await fetch(
            `https://${ref.slice(0, slash)}/v2/${repo}/manifests/${ref.slice(colon + 1)}`,
            {
              method: "HEAD",
              client,
              headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${tokens.get(repo)}` },
            },
          );
          await response.body?.cancel();
          const digest = response.headers.get("docker-content-digest") ?? undefined;
          answers.set(
            ref,
            response.status === 200
              ? (digest === undefined ? { status: "present" } : { status: "present", digest })
              : response.status === 404
              ? { status: "absent" }
              : { status: "unknown", detail: String(response.status) },
          );
        });
      } finally {
        client.close();
      }
      return { answers };
    },
    "tokens per repository minted before the clock starts",
  );
}

/** Latencies of the rig itself, measured before the rows. */
interface RigLatency {
  /** A token request on a reused keep-alive connection (median of 10), ms. */
  tokenReusedMs: number;
  /** A token request on a fresh connection, TLS handshake included (median of 5), ms. */
  tokenFreshMs: number;
  /** A registry `GET /v2/` (401) on a reused connection (median of 10), ms. */
  registryMs: number;
}

/**
 * Times the token fixture and the registry. The fixture is `Deno.serve` over
 * TLS, which stalls ~40 ms (Nagle + delayed ACK) before any response body
 * over ~1.2 KB on a reused connection; its tokens are ~2.7 KB.
 */
async function probeLatency(registry: RegistryFixture): Promise<RigLatency> {
  const tokenServer = registry.tokenServer!;
  const url = `${tokenServer.url}?service=${encodeURIComponent(tokenServer.service)}` +
    `&scope=repository:bench/r000:pull`;
  const timeOne = async (target: string, client: Deno.HttpClient) => {
    const started = performance.now();
    const response = await fetch(target, { client });
    await response.arrayBuffer();
    return performance.now() - started;
  };
  const reused = Deno.createHttpClient({ caCerts: [registry.caCert!] });
  const tokenTimes: number[] = [];
  const registryTimes: number[] = [];
  const freshTimes: number[] = [];
  try {
    await timeOne(url, reused);
    await timeOne(`${registry.url}/v2/`, reused);
    for (let i = 0; i < 10; i++) tokenTimes.push(await timeOne(url, reused));
    for (let i = 0; i < 10; i++) registryTimes.push(await timeOne(`${registry.url}/v2/`, reused));
  } finally {
    reused.close();
  }
  for (let i = 0; i < 5; i++) {
    const fresh = Deno.createHttpClient({ caCerts: [registry.caCert!] });
    try {
      freshTimes.push(await timeOne(url, fresh));
    } finally {
      fresh.close();
    }
  }
  return {
    tokenReusedMs: median(tokenTimes),
    tokenFreshMs: median(freshTimes),
    registryMs: median(registryTimes),
  };
}

// ---------------------------------------------------------------------------
// Setup: images and references

async function pushImages(
  registry: RegistryFixture,
  settings: Settings,
): Promise<{ repos: string[]; expected: Expected; present: string[]; absent: string[] }> {
  const { n, m } = settings;
  const repos = Array.from({ length: m }, (_, i) => `bench/r${String(i).padStart(3, "0")}`);
  const images: PushedImage[] = [];
  // Even repositories hold OCI manifests, odd ones Docker schema 2 manifests.
  await pool(repos, 4, async (repo, i) => {
    const image = await buildImage({ format: i % 2 === 0 ? "oci" : "docker" });
    images[i] = image;
    await uploadImage(registry, repo, null, image);
  });
  const expected: Expected = new Map();
  const present: string[] = [];
  const absent: string[] = [];
  const presentCount = Math.floor(n / 2);
  const tags: Array<{ repo: string; tag: string; image: PushedImage }> = [];
  for (let i = 0; i < presentCount; i++) {
    const r = i % m;
    tags.push({ repo: repos[r], tag: `p${i}`, image: images[r] });
  }
  const tokenServer = registry.tokenServer!;
  const pushTokens = new Map<string, string>();
  for (const repo of repos) {
    pushTokens.set(repo, await tokenServer.mintToken([`repository:${repo}:pull,push`], "admin"));
  }
  await pool(tags, 8, async ({ repo, tag, image }) => {
    const response = await registry.fetch(`/v2/${repo}/manifests/${tag}`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${pushTokens.get(repo)}`,
        "content-type": image.mediaType,
      },
      body: image.manifest as BodyInit,
    });
    await response.body?.cancel();
    if (response.status !== 201) throw new Error(`Cannot push ${repo}:${tag}: ${response.status}`);
    const ref = `${registry.host}/${repo}:${tag}`;
    expected.set(ref, image.digest);
    present.push(ref);
  });
  for (let i = 0; i < n - presentCount; i++) {
    const ref = `${registry.host}/${repos[i % m]}:a${i}`;
    expected.set(ref, null);
    absent.push(ref);
  }
  return { repos, expected, present, absent };
}

// ---------------------------------------------------------------------------
// Report

interface Target {
  what: string;
  goal: string;
  measured: string;
  met: boolean;
}

function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "–";
  const r = a / b;
  return `${r >= 10 ? fmt(r, 0) : fmt(r, r >= 1 ? 1 : 2)}×`;
}

interface SingleRun {
  /** `deno run cli.ts --version`: process start and module loading. */
  cliStartupMs: number;
  cliMedianMs: number;
  cliP90Ms: number;
  skopeoMedianMs: number;
  skopeoP90Ms: number;
}

interface RssRun {
  references: number;
  wallMs: number;
  peakRssMiB?: number;
  wrong: number;
  exitCode: number;
}

function markdown(
  settings: Settings,
  rows: Row[],
  single: SingleRun | undefined,
  rss: RssRun | undefined,
  targets: Target[],
  meta: { date: string; machine: string; latency: RigLatency },
): string {
  const skopeo = rows.find((r) => r.name.startsWith("skopeo"));
  const seed = rows.find((r) => r.name.startsWith("seed flow, fixture")) ??
    rows.find((r) => r.name.startsWith("seed"));
  const lines: string[] = [];
  lines.push(
    `N = ${settings.n} references (${Math.floor(settings.n / 2)} present, ${
      settings.n - Math.floor(settings.n / 2)
    } absent, seed ${settings.seed}) over M = ${settings.m} repositories; ${meta.date}; ` +
      `${meta.machine}.`,
    "",
    `Rig: token request ${fmt(meta.latency.tokenReusedMs, 1)} ms on a reused connection ` +
      `(${fmt(meta.latency.tokenFreshMs, 1)} ms fresh), registry round trip ` +
      `${fmt(meta.latency.registryMs, 1)} ms. "vs seed flow" compares with the stall-removed ` +
      `estimate when there is one.`,
    "",
    "| way | wall (N refs) | refs/s | vs skopeo | vs seed flow | manifest req/ref | registry req/ref | token req | wrong | peak RSS |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const row of rows) {
    const name = row.extrapolated
      ? `${row.name} *(sample ${row.checked}, extrapolated)*`
      : row.rounds !== undefined && row.rounds > 1
      ? `${row.name} *(median of ${row.rounds}: ${fmt(row.wallRangeMs![0] / 1000, 2)}–${
        fmt(row.wallRangeMs![1] / 1000, 2)
      } s)*`
      : row.name;
    lines.push(
      `| ${name} | ${fmt(row.wallMs / 1000, 2)} s | ${fmt(row.refsPerSecond)} | ${
        skopeo ? ratio(row.refsPerSecond, skopeo.refsPerSecond) : "–"
      } | ${seed ? ratio(row.refsPerSecond, seed.refsPerSecond) : "–"} | ${
        fmt(row.manifestRequestsPerRef, 2)
      } | ${fmt(row.registryRequestsPerRef, 3)} | ${row.tokenRequests}${
        row.extrapolated ? ` (for ${row.checked})` : ""
      } | ${row.wrong} | ${row.peakRssMiB === undefined ? "–" : `${fmt(row.peakRssMiB, 1)} MiB`} |`,
    );
  }
  lines.push("");
  if (single !== undefined) {
    lines.push(
      `One reference, one process (warm cache): regkit CLI median ${
        fmt(single.cliMedianMs)
      } ms (p90 ${fmt(single.cliP90Ms)}), skopeo inspect --raw median ${
        fmt(single.skopeoMedianMs)
      } ms (p90 ${fmt(single.skopeoP90Ms)}): ${
        ratio(single.cliMedianMs, single.skopeoMedianMs)
      }. \`deno run cli.ts --version\` alone: ${fmt(single.cliStartupMs)} ms.`,
      "",
    );
  }
  if (rss !== undefined) {
    lines.push(
      `Batch CLI on ${rss.references} references: ${fmt(rss.wallMs / 1000, 2)} s, peak RSS ${
        rss.peakRssMiB === undefined ? "not measured" : `${fmt(rss.peakRssMiB, 1)} MiB`
      }, ${rss.wrong} wrong, exit ${rss.exitCode}.`,
      "",
    );
  }
  const withWrong = rows.filter((r) => r.wrong > 0);
  for (const row of withWrong) {
    lines.push(`Wrong answers of "${row.name}", e.g.: ${row.wrongExamples.join("; ")}`, "");
  }
  lines.push("| target | goal | measured | met |", "| --- | --- | --- | --- |");
  for (const t of targets) {
    lines.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`);
  }
  return lines.join("\n");
}

function evaluateTargets(
  settings: Settings,
  rows: Row[],
  single: SingleRun | undefined,
  rss: RssRun | undefined,
): Target[] {
  const targets: Target[] = [];
  const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const c32 = find("regkit existsMany, concurrency 32");
  const batch = find("regkit CLI, one process for the batch");
  const skopeo = find("skopeo");
  const seed = find("seed flow, fixture") ?? find("seed flow");
  const raw = find("raw fetch HEAD loop");
  for (const row of [find("regkit existsMany"), c32, batch]) {
    if (row === undefined) continue;
    targets.push({
      what: `requests per check (${row.name})`,
      goal: "≤ 1.0 (token requests excluded)",
      measured: `${fmt(row.manifestRequestsPerRef, 3)} manifest, ${
        fmt(row.registryRequestsPerRef, 3)
      } with the /v2/ ping`,
      met: row.manifestRequestsPerRef <= 1.0,
    });
  }
  for (const row of rows.filter((r) => r.name.startsWith("regkit existsMany") || r === batch)) {
    targets.push({
      what: `token requests (${row.name})`,
      goal: `≤ M/10 = ${settings.m / 10}`,
      measured: String(row.tokenRequests),
      met: row.tokenRequests <= settings.m / 10,
    });
  }
  if (c32 && skopeo) {
    const r = c32.refsPerSecond / skopeo.refsPerSecond;
    targets.push({
      what: "existsMany c=32 vs skopeo per reference",
      goal: "≥ 30×",
      measured: ratio(c32.refsPerSecond, skopeo.refsPerSecond),
      met: r >= 30,
    });
  }
  if (c32 && seed) {
    const r = c32.refsPerSecond / seed.refsPerSecond;
    targets.push({
      what: "existsMany c=32 vs seed flow",
      goal: "≥ 5×",
      measured: ratio(c32.refsPerSecond, seed.refsPerSecond),
      met: r >= 5,
    });
  }
  if (c32 && raw) {
    const r = c32.refsPerSecond / raw.refsPerSecond;
    targets.push({
      what: "existsMany c=32 vs raw HEAD loop c=32",
      goal: "≥ 0.7×",
      measured: ratio(c32.refsPerSecond, raw.refsPerSecond),
      met: r >= 0.7,
    });
  }
  if (single) {
    const r = single.cliMedianMs / single.skopeoMedianMs;
    targets.push({
      what: "one-reference CLI run vs one skopeo inspect --raw (median wall)",
      goal: "≤ 1.2×",
      measured: `${fmt(single.cliMedianMs)} ms vs ${fmt(single.skopeoMedianMs)} ms = ${
        ratio(single.cliMedianMs, single.skopeoMedianMs)
      }`,
      met: r <= 1.2,
    });
  }
  if (rss) {
    targets.push({
      what: `peak RSS, batch CLI on ${rss.references} references`,
      goal: "≤ 100 MB",
      measured: rss.peakRssMiB === undefined ? "not measured" : `${fmt(rss.peakRssMiB, 1)} MiB`,
      met: rss.peakRssMiB !== undefined && rss.peakRssMiB * 1.048576 <= 100 && rss.wrong === 0,
    });
  }
  for (const row of rows) {
    if (row.name.startsWith("seed")) continue;
    if (row.wrong > 0) {
      targets.push({
        what: `wrong answers (${row.name})`,
        goal: "0",
        measured: String(row.wrong),
        met: false,
      });
    }
  }
  return targets;
}

// ---------------------------------------------------------------------------
// Main

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function main(args: string[]): Promise<number> {
  const settings = readSettings(args);
  const cliPath = new URL("../cli.ts", import.meta.url).pathname;
  const haveCli = await exists(cliPath);
  const skopeoVersion = await new Deno.Command("skopeo", { args: ["--version"], stdout: "piped" })
    .output().then((o) => decoder.decode(o.stdout).trim()).catch(() => "not installed");
  const registryVersion = await new Deno.Command("docker-registry", {
    args: ["--version"],
    stdout: "piped",
  }).output().then((o) => decoder.decode(o.stdout).trim()).catch(() => "?");
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: `${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}, ` +
      `deno ${Deno.version.deno}, ${skopeoVersion}, ${registryVersion}`,
  };

  progress(`starting docker-registry (token auth) and the token server`);
  await using registry = await startRegistry({ auth: "token" });
  const workDir = await Deno.makeTempDir({ prefix: "regkit-bench-" });
  try {
    const user = "alice";
    const password = registry.users[user];
    const authFile = `${workDir}/auth.json`;
    await Deno.writeTextFile(
      authFile,
      JSON.stringify({
        auths: { [registry.host]: { auth: base64(encoder.encode(`${user}:${password}`)) } },
      }),
    );
    const certDir = `${workDir}/certs`;
    await Deno.mkdir(certDir);
    await Deno.writeTextFile(`${certDir}/ca.crt`, registry.caCert!);
    const caPath = `${certDir}/ca.crt`;

    progress(`pushing ${Math.floor(settings.n / 2)} tags into ${settings.m} repositories`);
    const pushed = await pushImages(registry, settings);
    const latency = await probeLatency(registry);
    progress(
      `rig latency: token request ${latency.tokenReusedMs.toFixed(1)} ms on a reused ` +
        `connection, ${latency.tokenFreshMs.toFixed(1)} ms on a fresh one; registry ` +
        `round trip ${latency.registryMs.toFixed(1)} ms`,
    );
    const random = seededRandom(settings.seed);
    const refs = shuffle([...pushed.present.sort(), ...pushed.absent], random);
    const refsFile = `${workDir}/refs.txt`;
    await Deno.writeTextFile(refsFile, refs.join("\n") + "\n");
    const context: Context = {
      settings,
      registry,
      expected: pushed.expected,
      refs,
      sample: refs.slice(0, settings.sample),
      workDir,
      authFile,
      refsFile,
      caPath,
      certDir,
      cliPath,
      user,
      password,
    };

    const rows: Row[] = [];
    // Warm-up (not measured): the registry's storage cache and the token server's key.
    await regkitExistsMany({ ...context, refs: refs.slice(0, 50) }, 8);

    // The machine is shared and noisy: the in-process rows and the batch CLI run `rounds` times,
    // interleaved, and each reports its median round.
    const rounds = new Map<string, Row[]>();
    const keep = (row: Row) => rounds.set(row.name, [...(rounds.get(row.name) ?? []), row]);
    const rawTokens = await mintTokens(context);
    for (let round = 0; round < settings.rounds; round++) {
      progress(`round ${round + 1} of ${settings.rounds}`);
      for (const concurrency of [1, 8, 32]) keep(await regkitExistsMany(context, concurrency));
      keep(await rawHeadLoop(context, 32, rawTokens));
      if (haveCli) {
        if (round === 0) await warmCli(context);
        keep(await cliBatch(context, refsFile, refs, "regkit CLI, one process for the batch"));
      }
    }
    const medianRound = (name: string): Row | undefined => {
      const list = rounds.get(name);
      if (list === undefined) return undefined;
      const sorted = [...list].sort((a, b) => a.wallMs - b.wallMs);
      const row = sorted[(sorted.length - 1) >> 1];
      return {
        ...row,
        rounds: list.length,
        wallRangeMs: [sorted[0].wallMs, sorted[sorted.length - 1].wallMs],
        wrong: Math.max(...list.map((r) => r.wrong)),
        peakRssMiB: list.some((r) => r.peakRssMiB !== undefined)
          ? Math.max(...list.map((r) => r.peakRssMiB ?? 0))
          : undefined,
      };
    };
    for (const name of rounds.keys()) {
      if (!name.startsWith("raw")) rows.push(medianRound(name)!);
    }

    let single: SingleRun | undefined;
    let rss: RssRun | undefined;
    if (haveCli) {
      rows.push(await cliPerReference(context));
    } else {
      progress(`${cliPath} does not exist: skipping the CLI rows`);
    }
    const skopeoRow = await skopeoPerReference(context);
    if (skopeoRow) rows.push(skopeoRow);
    const seedRow = await seedFlow(context);
    rows.push(seedRow);
    const stall = latency.tokenReusedMs - latency.registryMs;
    if (stall > 5) {
      // The fixture's stall is not the seed's cost: charge each token request one registry
      // round trip instead (a fast token server), so the ratio is not flattered.
      const wallMs = Math.max(1, seedRow.wallMs - seedRow.tokenRequests * stall);
      rows.push({
        ...seedRow,
        name: "seed flow, fixture token stall removed (estimate)",
        wallMs,
        refsPerSecond: settings.n / (wallMs / 1000),
        note: `wall − token requests × ${stall.toFixed(1)} ms (fixture stall)`,
      });
    }
    rows.push(medianRound("raw fetch HEAD loop, concurrency 32")!);

    const cliRow = rows.find((r) => r.name === "regkit CLI, one process per reference");
    if (cliRow?.perProcessMs && skopeoRow?.perProcessMs) {
      single = {
        cliStartupMs: await cliStartup(context),
        cliMedianMs: median(cliRow.perProcessMs),
        cliP90Ms: percentile(cliRow.perProcessMs, 90),
        skopeoMedianMs: median(skopeoRow.perProcessMs),
        skopeoP90Ms: percentile(skopeoRow.perProcessMs, 90),
      };
    }

    if (haveCli && settings.rssN > 0) {
      // Present references cycle over the pushed tags; absent ones are all distinct.
      const big: string[] = [];
      for (let i = 0; i < settings.rssN; i++) {
        big.push(
          i % 2 === 0
            ? pushed.present[(i / 2) % pushed.present.length]
            : `${registry.host}/${pushed.repos[i % settings.m]}:x${i}`,
        );
      }
      const expectedBig: Expected = new Map(pushed.expected);
      for (const ref of big) if (!expectedBig.has(ref)) expectedBig.set(ref, null);
      const bigFile = `${workDir}/refs-big.txt`;
      await Deno.writeTextFile(bigFile, big.join("\n") + "\n");
      progress(`batch CLI on ${big.length} references (peak RSS)`);
      const run = await runProcess(
        Deno.execPath(),
        cliArgs(context, ["--from-file", bigFile, "--concurrency", "32"]),
      );
      const answers = parseCliOutput(run.stdout, big);
      const { wrong } = countWrong(expectedBig, answers, [...new Set(big)]);
      rss = {
        references: big.length,
        wallMs: run.wallMs,
        wrong,
        exitCode: run.code,
        ...(run.maxRssKiB === undefined ? {} : { peakRssMiB: run.maxRssKiB / 1024 }),
      };
      progress(
        `batch CLI on ${big.length}: ${Math.round(run.wallMs)} ms, ${
          rss.peakRssMiB?.toFixed(1)
        } MiB`,
      );
    }

    const targets = evaluateTargets(settings, rows, single, rss);
    if (settings.json) {
      out(JSON.stringify(
        {
          ...meta,
          latency,
          settings,
          cli: haveCli ? cliPath : null,
          rows: rows.map(({ perProcessMs: _, ...row }) => row),
          single,
          rss,
          targets,
        },
        null,
        2,
      ));
    } else {
      out(markdown(settings, rows, single, rss, targets, { ...meta, latency }));
      if (!haveCli) out(`\nThe CLI (${cliPath}) does not exist yet: its rows are missing.`);
    }
    return rows.some((r) => r.wrong > 0 && !r.name.startsWith("seed")) ? 1 : 0;
  } finally {
    await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
