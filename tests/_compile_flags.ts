/**
 * The runtime flags `deno task compile` embeds in the binary (permissions and
 * V8 flags), read from deno.json, so tests, the demo and benchmarks run
 * `deno run <these flags> cli.ts` exactly as the compiled binary runs.
 *
 * @module
 */

/** The repository root, with a trailing slash. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/**
 * `--allow-*` and `--v8-flags=…` of the compile task, without `--output`, plus
 * `--config` naming this repository's deno.json: `deno compile` runs from the
 * root and bakes its import map into the binary, and a subprocess started in a
 * temporary directory must resolve the same `@std` imports.
 */
export function compileFlags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const tokens = String(config.tasks.compile).split(/\s+/).filter(Boolean);
  const flags: string[] = [`--config=${ROOT}deno.json`];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === "--output" || token === "-o") i++;
    else if (token.startsWith("--") && !token.startsWith("--output=")) flags.push(token);
  }
  if (!flags.includes("--allow-net")) {
    throw new Error(`unexpected compile task: ${config.tasks.compile}`);
  }
  return flags;
}

/**
 * The environment a subprocess started with `clearEnv` still needs: `JSR_URL`
 * when it is set (offline machines resolve `@std` from a local mirror).
 */
export function passThroughEnv(): Record<string, string> {
  const url = Deno.env.get("JSR_URL");
  return url ? { JSR_URL: url } : {};
}
