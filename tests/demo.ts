/**
 * `deno task demo`: a throwaway real `docker-registry` with token auth on loopback, one pushed
 * image, a temp auth file, and the `regkit` CLI run against it as a subprocess (with the
 * permission flags `deno task compile` embeds), showing each command line and its output.
 * Everything is stopped and removed at the end.
 *
 * @module
 */

import { encodeBase64 } from "@std/encoding/base64";
import { startRegistry } from "./_registry.ts";
import { compileFlags, ROOT } from "./_compile_flags.ts";
import { pushImage } from "./_images.ts";

/** The programs the demo runs, with the Debian package that has each. */
const PROGRAMS: ReadonlyArray<[program: string, args: string[], pkg: string]> = [
  ["docker-registry", ["--version"], "docker-registry"],
  ["htpasswd", ["-nbB", "u", "p"], "apache2-utils"],
  ["openssl", ["version"], "openssl"],
];

async function runs(program: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(program, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

function b64(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text));

async function demo(): Promise<number> {
  const missing = [];
  for (const [program, args, pkg] of PROGRAMS) {
    if (!(await runs(program, args))) missing.push([program, pkg]);
  }
  if (missing.length > 0) {
    Deno.stderr.writeSync(new TextEncoder().encode(
      `demo: ${missing.map(([program]) => program).join(", ")} not installed; ` +
        "on Debian/Ubuntu run (as root):\n" +
        `  apt-get install -y ${missing.map(([, pkg]) => pkg).join(" ")}\n`,
    ));
    return 2;
  }
  const flags = compileFlags();
  out("demo: starting a throwaway docker-registry with token auth on 127.0.0.1 …\n");
  await using registry = await startRegistry({ auth: "token" });
  const image = await pushImage(registry, "demo/app", "1.0", {
    labels: { "org.opencontainers.image.title": "regkit demo" },
  });
  const dir = await Deno.makeTempDir({ prefix: "regkit-demo-" });
  try {
    const authFile = `${dir}/auth.json`;
    const password = registry.users.alice;
    await Deno.writeTextFile(
      authFile,
      JSON.stringify({ auths: { [registry.host]: { auth: b64(`alice:${password}`) } } }, null, 2),
      { mode: 0o600 },
    );
    out(`demo: registry ${registry.url} (realm ${registry.tokenServer!.url})\n`);
    out(`demo: pushed ${registry.host}/demo/app:1.0 (${image.digest})\n`);
    out(`demo: auth file ${authFile} holds alice's login (password never shown)\n\n`);

    const global = ["--authfile", authFile, "--ca-cert", registry.caCertPath!];
    const app = `${registry.host}/demo/app`;
    const commands: string[][] = [
      ["exists", `${app}:1.0`, `${app}:2.0`],
      ["auth", "explain", `${app}:1.0`],
      ["inspect", `${app}:1.0`],
    ];
    for (const args of commands) {
      const argv = ["run", ...flags, `${ROOT}cli.ts`, ...global, ...args];
      out(`$ ${["deno", ...argv].map(shellQuote).join(" ")}\n`);
      const result = await new Deno.Command(Deno.execPath(), {
        args: argv,
        env: { NO_COLOR: "1", HOME: dir },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      out(new TextDecoder().decode(result.stdout));
      const stderr = new TextDecoder().decode(result.stderr);
      if (stderr !== "") out(stderr);
      out(`(exit code ${result.code})\n\n`);
    }
    out("demo: stopping the registry and removing temp files\n");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return 0;
}

if (import.meta.main) Deno.exit(await demo());
