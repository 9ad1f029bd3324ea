/**
 * Guards of the layout ARCHITECTURE.md describes:
 *
 * - imports flow one way: every `.ts` file's import lines are parsed, each
 *   file has a layer, and no file imports a higher layer (nothing in `lib/`
 *   imports the facade's callers, `mod.ts` or the CLI; the CLI imports only
 *   `mod.ts`);
 * - the public API is one reviewed list: the names `mod.ts` exports (and the
 *   public members of its classes), from `deno doc --json`, must equal
 *   `tests/fixtures/exports.json`. After an intended change, update it with
 *   `deno test --allow-all tests/architecture_test.ts -- --update`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ROOT } from "./_compile_flags.ts";

/**
 * The layers, lowest first. A file may import its own layer and lower ones.
 * Patterns are paths from the repository root; a trailing `/` takes a folder.
 */
const LAYERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["values", [
    "lib/errors.ts",
    "lib/retry_after.ts",
    "lib/challenge.ts",
    "lib/link.ts",
    "lib/log.ts",
    "lib/reference.ts",
    "lib/host.ts",
    "lib/platform.ts",
    "lib/media_types.ts",
    "lib/digest.ts",
    "lib/types.ts",
    "lib/version.ts",
    "lib/ca_certs.ts",
    "lib/cosign.ts",
    "lib/signature/",
    "lib/_redact.ts",
    "lib/_semaphore.ts",
  ]],
  ["credentials", [
    "lib/auth_paths.ts",
    "lib/auth_file.ts",
    "lib/auth_keys.ts",
    "lib/auth_read.ts",
    "lib/auth_store.ts",
    "lib/credential_helper.ts",
    "lib/credentials.ts",
  ]],
  ["http", ["lib/retry.ts", "lib/http.ts"]],
  ["token", ["lib/token.ts"]],
  ["transport", ["lib/ping.ts", "lib/transport.ts"]],
  ["registry_api", ["lib/registry_api.ts", "lib/referrers_api.ts"]],
  ["ops", ["lib/ops/"]],
  ["client", ["lib/client_options.ts", "lib/client_wiring.ts", "lib/client.ts"]],
  ["mod", ["mod.ts"]],
  ["cli", ["lib/_cli/"]],
  ["cli entry", ["cli.ts"]],
];

/** Files that are the CLI: they reach the library through `mod.ts` only. */
function isCli(path: string): boolean {
  return path === "cli.ts" || path.startsWith("lib/_cli/");
}

function layerOf(path: string): number | undefined {
  const index = LAYERS.findIndex(([, patterns]) =>
    patterns.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p)
  );
  return index === -1 ? undefined : index;
}

/** Every source file the rules apply to: `mod.ts`, `cli.ts` and `lib/**` but tests. */
async function sourceFiles(dir = "lib"): Promise<string[]> {
  const files: string[] = dir === "lib" ? ["mod.ts", "cli.ts"] : [];
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) files.push(path);
  }
  return files.sort();
}

/**
 * The specifiers of a module's static and dynamic imports and re-exports.
 * Doc-comment examples are not code: their lines start with `*`.
 */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) specifiers.push(match[1]);
  }
  return specifiers;
}

/** A relative specifier resolved to a path from the root, or `undefined` for a package. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const url = new URL(specifier, `file:///${from}`);
  return decodeURIComponent(url.pathname.slice(1));
}

/** Every rule broken by one file's imports, as messages. */
export function violations(path: string, specifiers: readonly string[]): string[] {
  const problems: string[] = [];
  const layer = layerOf(path);
  if (layer === undefined) {
    return [`${path} has no layer: add it to LAYERS in tests/architecture_test.ts`];
  }
  for (const specifier of specifiers) {
    const target = resolve(path, specifier);
    if (target === undefined) {
      const runtime = specifier.startsWith("@std/") || specifier.startsWith("jsr:@std/") ||
        specifier.startsWith("node:");
      if (isCli(path) && !runtime) {
        problems.push(`${path} imports ${specifier}: the CLI imports only mod.ts, @std and node:`);
      }
      continue;
    }
    if (target.endsWith(".json")) continue; // data (deno.json), not code
    if (isCli(path)) {
      const allowed = target === "mod.ts" ||
        (path.startsWith("lib/_cli/") && target.startsWith("lib/_cli/")) ||
        (path === "cli.ts" && target.startsWith("lib/_cli/"));
      if (!allowed) {
        problems.push(`${path} imports ${target}: the CLI reaches the library through mod.ts`);
      }
      continue;
    }
    if (target === "mod.ts" || target === "cli.ts") {
      problems.push(`${path} imports ${target}: nothing in lib/ imports the entry points`);
      continue;
    }
    const targetLayer = layerOf(target);
    if (targetLayer === undefined) {
      problems.push(`${path} imports ${target}, which has no layer: add it to LAYERS`);
    } else if (targetLayer > layer) {
      problems.push(
        `${path} (${LAYERS[layer][0]}) imports ${target} (${LAYERS[targetLayer][0]}): upward`,
      );
    }
  }
  return problems;
}

Deno.test("imports flow one way: no file imports a higher layer", async () => {
  const problems: string[] = [];
  for (const path of await sourceFiles()) {
    problems.push(...violations(path, importsOf(await Deno.readTextFile(`${ROOT}${path}`))));
  }
  assert.deepEqual(problems, [], `\n${problems.join("\n")}\n(see ARCHITECTURE.md)`);
});

Deno.test("the import rules themselves: what they accept and refuse", async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ["lib/errors.ts", "./client.ts", false],
    ["lib/platform.ts", "./errors.ts", true],
    ["lib/token.ts", "./transport.ts", false],
    ["lib/registry_api.ts", "./transport.ts", true],
    ["lib/registry_api.ts", "./ops/exists.ts", false],
    ["lib/ops/exists.ts", "../registry_api.ts", true],
    ["lib/ops/exists.ts", "../client.ts", false],
    ["lib/ops/exists.ts", "./_context.ts", true],
    ["lib/client.ts", "../mod.ts", false],
    ["lib/credentials.ts", "../cli.ts", false],
    ["lib/_cli/run.ts", "../../mod.ts", true],
    ["lib/_cli/run.ts", "./io.ts", true],
    ["lib/_cli/run.ts", "../client.ts", false],
    ["lib/_cli/run.ts", "@std/cli/parse-args", true],
    ["lib/_cli/run.ts", "npm:chalk", false],
    ["cli.ts", "./lib/_cli/main.ts", true],
    ["cli.ts", "./mod.ts", true],
    ["cli.ts", "./lib/reference.ts", false],
    ["cli.ts", "./deno.json", true],
    ["lib/unclassified.ts", "./errors.ts", false],
  ];
  for (const [from, specifier, ok] of cases) {
    await t.step(`${from} → ${specifier}: ${ok ? "allowed" : "refused"}`, () => {
      assert.equal(violations(from, [specifier]).length === 0, ok);
    });
  }
  await t.step("import lines are found, doc examples are not code", () => {
    const source = [
      "/**",
      ' * import { x } from "../mod.ts";',
      " */",
      'import { a } from "./a.ts";',
      "import {",
      "  type B,",
      '  c } from "./b.ts";',
      'export { d } from "./d.ts";',
      'export type { E } from "./e.ts";',
      'import "./side.ts";',
      'const f = await import("./f.ts");',
    ].join("\n");
    assert.deepEqual(importsOf(source).sort(), [
      "./a.ts",
      "./b.ts",
      "./d.ts",
      "./e.ts",
      "./f.ts",
      "./side.ts",
    ]);
  });
});

// --- the public API snapshot -------------------------------------------------------------------

const SNAPSHOT = `${ROOT}tests/fixtures/exports.json`;

interface DocNode {
  name: string;
  declarations: Array<{
    kind: string;
    def?: {
      methods?: Array<{ name: string; kind: string; isStatic?: boolean }>;
      properties?: Array<{ name: string; isStatic?: boolean }>;
    };
  }>;
}

/** `name → kind` for every export of `mod.ts` and every public member of its classes. */
async function publicApi(): Promise<Record<string, string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", `--config=${ROOT}deno.json`, `${ROOT}mod.ts`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const doc = JSON.parse(new TextDecoder().decode(output.stdout));
  const symbols: DocNode[] = Object.values(doc.nodes as Record<string, { symbols: DocNode[] }>)
    .flatMap((node) => node.symbols);
  const api: Record<string, string> = {};
  for (const symbol of symbols) {
    api[symbol.name] = symbol.declarations.map((d) => d.kind).join("+");
    for (const declaration of symbol.declarations) {
      if (declaration.kind !== "class") continue;
      for (const m of declaration.def?.methods ?? []) {
        api[`${symbol.name}${m.isStatic ? "." : ".prototype."}${m.name}`] = m.kind;
      }
      for (const p of declaration.def?.properties ?? []) {
        api[`${symbol.name}${p.isStatic ? "." : ".prototype."}${p.name}`] = "property";
      }
    }
  }
  return Object.fromEntries(Object.entries(api).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

Deno.test("mod.ts exports exactly the names in tests/fixtures/exports.json", async () => {
  const actual = await publicApi();
  if (Deno.args.includes("--update")) {
    await Deno.writeTextFile(SNAPSHOT, JSON.stringify(actual, null, 2) + "\n");
    return;
  }
  const expected: Record<string, string> = JSON.parse(await Deno.readTextFile(SNAPSHOT));
  const added = Object.keys(actual).filter((k) => !(k in expected));
  const removed = Object.keys(expected).filter((k) => !(k in actual));
  const changed = Object.keys(actual).filter((k) => k in expected && expected[k] !== actual[k]);
  assert.ok(
    added.length + removed.length + changed.length === 0,
    [
      "The public API changed:",
      ...added.map((k) => `  + ${k} (${actual[k]})`),
      ...removed.map((k) => `  - ${k} (${expected[k]})`),
      ...changed.map((k) => `  ~ ${k}: ${expected[k]} → ${actual[k]}`),
      "If this is intended (removing a name needs a semver-major release), update the snapshot:",
      "  deno test --allow-all tests/architecture_test.ts -- --update",
    ].join("\n"),
  );
});
