/**
 * The CLI as hosts run it: `deno run <the compile task's permission flags> cli.ts …` as a
 * subprocess against a real token-auth `docker-registry`, asserting stdout, stderr and the exit
 * code of every command, and that no secret ever reaches either stream.
 */
import assert from "node:assert/strict";
import { startRegistry } from "./_registry.ts";
import { compileFlags, passThroughEnv, ROOT } from "./_compile_flags.ts";
import { seedStandardImages, uploadImage } from "./_images.ts";

const CLI = `${ROOT}cli.ts`;

/** The flags `deno task compile` embeds, read from deno.json. */
const FLAGS: string[] = compileFlags();

const DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;

/**
 * Resolves cli.ts's `@std` imports once, up front, so that no CLI run below
 * prints deno's own "Download …" lines on the stderr the tests assert on
 * (a compiled binary never does).
 */
async function cacheCliImports(): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["cache", ...FLAGS.filter((f) => f.startsWith("--config=")), CLI],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno cache cli.ts failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}
await cacheCliImports();

interface RunResult {
  code: number;
  bytes: Uint8Array;
  stdout: string;
  stderr: string;
}

/** Every stdout and stderr seen, for the secret scan at the end. */
const transcripts: string[] = [];

interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  flags?: string[];
  color?: boolean;
}

function baseEnv(home: string, options: RunOptions): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    DENO_DIR,
    DENO_NO_UPDATE_CHECK: "1",
    ...passThroughEnv(),
    ...(options.color ? {} : { NO_COLOR: "1" }),
    ...options.env,
  };
}

async function runCli(home: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...(options.flags ?? FLAGS), CLI, ...args],
    clearEnv: true,
    env: baseEnv(home, options),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: home,
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const result = {
    code: output.code,
    bytes: output.stdout,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
  transcripts.push(result.stdout, result.stderr);
  return result;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs the CLI under a pseudo-terminal (`script`), stdout and stderr merged. */
async function runInPty(home: string, args: string[], options: RunOptions = {}) {
  const command = [Deno.execPath(), "run", "--no-prompt", ...FLAGS, CLI, ...args]
    .map(shellQuote)
    .join(" ");
  const output = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    clearEnv: true,
    env: { ...baseEnv(home, options), TERM: "xterm" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: home,
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  transcripts.push(text);
  return { code: output.code, text };
}

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
}

function assertExit(result: RunResult, code: number, label: string): void {
  assert.equal(
    result.code,
    code,
    `${label}: exit ${result.code}, expected ${code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
}

const ERROR_LINE = /^regkit: \S.* \([A-Z_]+\)$/;

Deno.test("regkit CLI against a real token-auth registry", async (t) => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seedStandardImages(registry);
  await uploadImage(registry, "test/oci", "v2", images.oci);
  await uploadImage(registry, "test/oci", "v3", images.oci);
  const h = registry.host;
  const alicePassword = registry.users.alice;
  const home = await Deno.makeTempDir({ prefix: "regkit-cli-home-" });
  const ca = ["--ca-cert", registry.caCertPath!];
  const authFile = `${home}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({ auths: { [h]: { auth: b64(`alice:${alicePassword}`) } } }),
  );
  const withAuth = ["--authfile", authFile, ...ca];
  const run = (args: string[], options?: RunOptions) => runCli(home, args, options);

  try {
    await t.step("--version, --help and help for every command", async () => {
      const version = await run(["--version"]);
      assertExit(version, 0, "--version");
      assert.equal(version.stdout, "regkit 0.1.0\n");
      assert.equal(version.stderr, "");

      const help = await run(["--help"]);
      assertExit(help, 0, "--help");
      for (
        const word of [
          "exists",
          "digest",
          "manifest",
          "inspect",
          "tags",
          "auth explain",
          "login",
          "logout",
          "Exit codes",
          "--password-stdin",
          "--ca-cert",
        ]
      ) {
        assert.ok(help.stdout.includes(word), `--help lacks ${word}`);
      }
      const commands = [
        "exists",
        "digest",
        "manifest",
        "inspect",
        "tags",
        "auth",
        "login",
        "logout",
      ];
      await Promise.all(commands.map(async (command) => {
        const viaHelp = await run(["help", command]);
        const viaFlag = await run(
          command === "auth" ? ["auth", "explain", "--help"] : [
            command,
            "--help",
          ],
        );
        assertExit(viaHelp, 0, `help ${command}`);
        assertExit(viaFlag, 0, `${command} --help`);
        assert.equal(viaHelp.stdout, viaFlag.stdout);
        assert.match(viaHelp.stdout, new RegExp(`^Usage: regkit ${command}`));
        assert.match(viaHelp.stdout, /Exit code/);
        assert.equal(viaHelp.stderr, "");
      }));
    });

    await t.step("usage and configuration errors exit 2 with one stderr line", async () => {
      const garbageCa = `${home}/garbage.pem`;
      await Deno.writeTextFile(garbageCa, "not a certificate\n");
      const badAuth = `${home}/bad-auth.json`;
      await Deno.writeTextFile(badAuth, "{ not json");
      const cases: Array<[string[], string, RegExp?]> = [
        [[], "USAGE"],
        [["frobnicate"], "USAGE", /Unknown command "frobnicate"/],
        [["exists", "--nope", `${h}/test/oci:v1`], "USAGE", /--nope/],
        [["exists"], "USAGE"],
        [["digest"], "USAGE"],
        [["digest", "a", "b"], "USAGE"],
        [["tags", "--platform", "linux/amd64", `${h}/test/oci`], "USAGE", /--platform/],
        [["exists", "--concurrency", "0", `${h}/test/oci:v1`], "USAGE", /--concurrency/],
        [["--retries", "-1", "digest", `${h}/test/oci:v1`], "USAGE"],
        [["--timeout", "soon", "digest", `${h}/test/oci:v1`], "USAGE", /--timeout/],
        [["--log-level", "LOUD", "digest", `${h}/test/oci:v1`], "USAGE", /log level/],
        [["--username", "alice", "digest", `${h}/test/oci:v1`], "USAGE", /--password-stdin/],
        [["auth", "frob", "x"], "USAGE"],
        [["digest", "Bad Ref"], "INVALID_REFERENCE"],
        [["inspect", `${h}/Test/OCI:v1`], "INVALID_REFERENCE"],
        [["digest", "--platform", "linux", `${h}/test/index:v1`], "INVALID_PLATFORM"],
        [["--ca-cert", `${home}/missing.pem`, "digest", `${h}/test/oci:v1`], "INVALID_CONFIG"],
        [["--ca-cert", garbageCa, "digest", `${h}/test/oci:v1`], "INVALID_CONFIG", /garbage\.pem/],
        [["exists", "--from-file", `${home}/missing.txt`], "INVALID_CONFIG"],
        [[...ca, "--authfile", badAuth, "digest", `${h}/test/oci:v1`], "AUTH_FILE_INVALID"],
        [[...ca, "--authfile", badAuth, "exists", `${h}/test/oci:v1`], "AUTH_FILE_INVALID"],
      ];
      for (const [args, code, pattern] of cases) {
        const result = await run(args);
        assertExit(result, 2, args.join(" "));
        const lines = result.stderr.trimEnd().split("\n");
        const last = lines.at(-1)!;
        if (args.includes("exists") && code === "AUTH_FILE_INVALID") {
          assert.match(result.stdout, /^unknown \S+ AUTH_FILE_INVALID: /);
          continue;
        }
        assert.match(last, ERROR_LINE, `${args.join(" ")}: ${result.stderr}`);
        assert.ok(last.endsWith(`(${code})`), `${args.join(" ")}: ${last}`);
        if (pattern) assert.match(last, pattern);
        assert.ok(!/\n\s+at /.test(result.stderr), "no stack trace");
        if (args.length > 0) assert.equal(result.stdout, "", args.join(" "));
      }
    });

    await t.step("exists: present, absent, unknown and exit codes", async () => {
      const present = `${h}/test/oci:v1`;
      const absent = `${h}/test/oci:nope`;
      const denied = `${h}/denied/oci:v1`;
      const all = await run([...withAuth, "exists", present, absent, denied]);
      assertExit(all, 3, "present+absent+denied");
      const lines = all.stdout.trimEnd().split("\n");
      assert.equal(lines[0], `present ${images.oci.digest} ${present}`);
      assert.equal(lines[1], `absent ${absent}`);
      assert.match(lines[2], new RegExp(`^unknown ${denied} UNAUTHORIZED: `));
      assert.equal(lines.length, 3);
      assert.equal(all.stderr, "", "no progress line without a terminal");

      const onlyPresent = await run([...withAuth, "exists", present, `${h}/test/docker:v1`]);
      assertExit(onlyPresent, 0, "all present");
      assert.equal(
        onlyPresent.stdout,
        `present ${images.oci.digest} ${present}\npresent ${images.docker.digest} ${h}/test/docker:v1\n`,
      );
      const withAbsent = await run([...withAuth, "exists", present, absent]);
      assertExit(withAbsent, 1, "present+absent");

      const anonymousPublic = await run([...ca, "exists", `${h}/public/oci:v1`]);
      assertExit(anonymousPublic, 0, "anonymous pull of public/");
      const anonymousPrivate = await run([...ca, "exists", present]);
      assertExit(anonymousPrivate, 3, "anonymous pull of test/");
      assert.match(anonymousPrivate.stdout, /^unknown \S+ UNAUTHORIZED: /);

      const json = await run([...withAuth, "exists", "--json", present, absent, denied, "Bad:Ref"]);
      assertExit(json, 3, "--json");
      const records = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(records[0], {
        reference: present,
        status: "present",
        digest: images.oci.digest,
      });
      assert.deepEqual(records[1], { reference: absent, status: "absent" });
      assert.equal(records[2].status, "unknown");
      assert.equal(records[2].code, "UNAUTHORIZED");
      assert.deepEqual(Object.keys(records[2]), ["reference", "status", "code", "message"]);
      assert.equal(records[3].code, "INVALID_REFERENCE");
      assert.equal(records.length, 4);
    });

    await t.step("exists: 1,000 references from stdin stream back in order", async () => {
      const refs: string[] = [];
      const expected: string[] = [];
      const lines: string[] = ["# generated", ""];
      for (let i = 0; i < 1000; i++) {
        let ref: string;
        switch (i % 4) {
          case 0:
            ref = `${h}/test/oci:v1`;
            expected.push(`present ${images.oci.digest} ${ref}`);
            break;
          case 1:
            ref = `${h}/test/oci:missing-${i}`;
            expected.push(`absent ${ref}`);
            break;
          case 2:
            ref = `${h}/test/Invalid-${i}:x`;
            expected.push(`unknown ${ref} INVALID_REFERENCE`);
            break;
          default:
            ref = `${h}/test/docker:v1`;
            expected.push(`present ${images.docker.digest} ${ref}`);
        }
        refs.push(ref);
        lines.push(i % 100 === 0 ? `  ${ref}  ` : ref);
        if (i % 250 === 0) lines.push("", "# comment");
      }
      const result = await run([...withAuth, "exists", "--concurrency", "16", "--from-file", "-"], {
        stdin: lines.join("\n") + "\n",
      });
      assertExit(result, 3, "bulk");
      const got = result.stdout.trimEnd().split("\n");
      assert.equal(got.length, 1000);
      got.forEach((line, i) => {
        if (expected[i].startsWith("unknown")) {
          assert.ok(line.startsWith(expected[i] + ": "), `line ${i}: ${line}`);
        } else {
          assert.equal(line, expected[i], `line ${i}`);
        }
      });
      assert.equal(result.stderr, "");

      const file = `${home}/refs.txt`;
      await Deno.writeTextFile(file, `# two refs\n${h}/test/oci:v1\n\n${h}/test/oci:gone\n`);
      const fromFile = await run([...withAuth, "exists", "--from-file", file]);
      assertExit(fromFile, 1, "--from-file");
      assert.equal(
        fromFile.stdout,
        `present ${images.oci.digest} ${h}/test/oci:v1\nabsent ${h}/test/oci:gone\n`,
      );
    });

    await t.step("digest, manifest, inspect and tags, with --platform", async () => {
      const digest = await run([...withAuth, "digest", `${h}/test/oci:v1`]);
      assertExit(digest, 0, "digest");
      assert.equal(digest.stdout, `${images.oci.digest}\n`);
      assert.equal(digest.stderr, "");

      const indexDigest = await run([...withAuth, "digest", `${h}/test/index:v1`]);
      assert.equal(indexDigest.stdout, `${images.index.digest}\n`);
      const armDigest = await run([
        ...withAuth,
        "digest",
        "--platform",
        "linux/arm64/v8",
        `${h}/test/index:v1`,
      ]);
      assertExit(armDigest, 0, "digest --platform");
      assert.equal(armDigest.stdout, `${images.index.children[1].digest}\n`);

      const manifest = await run([...withAuth, "manifest", `${h}/test/oci:v1`]);
      assertExit(manifest, 0, "manifest");
      assert.deepEqual(manifest.bytes, images.oci.manifest);
      const indexManifest = await run([...withAuth, "manifest", `${h}/test/index:v1`]);
      assert.deepEqual(indexManifest.bytes, images.index.manifest);
      const armManifest = await run([
        ...withAuth,
        "manifest",
        "--platform",
        "linux/arm64/v8",
        `${h}/test/index:v1`,
      ]);
      assert.deepEqual(armManifest.bytes, images.index.children[1].manifest);

      const inspect = await run([...withAuth, "inspect", `${h}/test/oci:v1`]);
      assertExit(inspect, 0, "inspect");
      const info = JSON.parse(inspect.stdout);
      assert.deepEqual(Object.keys(info), [
        "Name",
        "Digest",
        "RepoTags",
        "Tag",
        "Created",
        "Architecture",
        "Os",
        "Labels",
        "Layers",
        "Env",
        "MediaType",
      ]);
      assert.deepEqual([...info.RepoTags].sort(), ["v1", "v2", "v3"]);
      assert.equal(info.Name, `${h}/test/oci`);
      assert.equal(info.Digest, images.oci.digest);
      assert.equal(info.Tag, "v1");
      assert.equal(info.Architecture, "amd64");
      assert.equal(info.Os, "linux");
      assert.deepEqual(info.Labels, { "org.opencontainers.image.title": "regkit test oci" });
      assert.deepEqual(info.Layers, images.oci.layers.map((l) => l.digest));
      assert.equal(info.MediaType, images.oci.mediaType);
      assert.ok(inspect.stdout.startsWith('{\n    "Name"'), "pretty-printed");

      const armInspect = await run([
        ...withAuth,
        "inspect",
        "--platform",
        "linux/arm64/v8",
        `${h}/test/index:v1`,
      ]);
      assertExit(armInspect, 0, "inspect --platform");
      const arm = JSON.parse(armInspect.stdout);
      assert.equal(arm.Architecture, "arm64");
      assert.equal(arm.Variant, "v8");
      assert.equal(arm.Digest, images.index.digest);

      const tags = await run([...withAuth, "tags", `${h}/test/oci`]);
      assertExit(tags, 0, "tags");
      assert.deepEqual(tags.stdout.trimEnd().split("\n").sort(), ["v1", "v2", "v3"]);
      const tagsJson = await run([...withAuth, "tags", "--json", `${h}/test/oci`]);
      const parsed = JSON.parse(tagsJson.stdout);
      assert.equal(parsed.Repository, `${h}/test/oci`);
      assert.deepEqual([...parsed.Tags].sort(), ["v1", "v2", "v3"]);

      for (
        const [args, code] of [
          [["digest", `${h}/test/oci:nope`], "MANIFEST_UNKNOWN"],
          [["manifest", `${h}/test/oci:nope`], "MANIFEST_UNKNOWN"],
          [["inspect", `${h}/test/oci:nope`], "MANIFEST_UNKNOWN"],
          [["digest", "--platform", "linux/s390x", `${h}/test/index:v1`], "PLATFORM_NOT_FOUND"],
          [["tags", `${h}/test/nothing-here`], "NAME_UNKNOWN"],
        ] as Array<[string[], string]>
      ) {
        const result = await run([...withAuth, ...args]);
        assertExit(result, 1, args.join(" "));
        assert.equal(result.stdout, "");
        assert.match(result.stderr.trimEnd(), ERROR_LINE);
        assert.ok(result.stderr.trimEnd().endsWith(`(${code})`), result.stderr);
      }
      const denied = await run([...withAuth, "digest", `${h}/denied/oci:v1`]);
      assertExit(denied, 3, "digest of a denied repository");
      assert.ok(denied.stderr.trimEnd().endsWith("(UNAUTHORIZED)"), denied.stderr);
    });

    await t.step("auth explain names the source, never the secret", async () => {
      const explained = await run([...withAuth, "auth", "explain", `${h}/test/oci:v1`]);
      assertExit(explained, 0, "auth explain");
      assert.match(explained.stdout, /^reference: /m);
      assert.ok(
        explained.stdout.includes(`source:    auth file "${authFile}", key "${h}"`),
        explained.stdout,
      );
      assert.match(explained.stdout, /^username: {2}alice$/m);
      assert.match(explained.stdout, /^kind: {6}basic$/m);

      const anonymous = await run(["auth", "explain", `${h}/test/oci:v1`]);
      assertExit(anonymous, 0, "auth explain (anonymous)");
      assert.match(anonymous.stdout, /^source: +anonymous/m);
      assert.ok(anonymous.stdout.includes("$XDG_RUNTIME_DIR is unset or empty"));
      assert.ok(anonymous.stdout.includes(`${home}/.docker/config.json: the file does not exist`));

      const viaEnv = await run(["auth", "explain", "--json", `${h}/test/oci:v1`], {
        env: { REGISTRY_AUTH_FILE: authFile },
      });
      assertExit(viaEnv, 0, "auth explain --json");
      const json = JSON.parse(viaEnv.stdout);
      assert.deepEqual(json.source, { type: "file", path: authFile, key: h });
      assert.equal(json.username, "alice");

      const explicit = await run(
        ["--username", "alice", "--password-stdin", "auth", "explain", `${h}/test/oci:v1`],
        { stdin: `${alicePassword}\n` },
      );
      assertExit(explicit, 0, "auth explain (explicit)");
      assert.match(explicit.stdout, /^source: +explicit/m);
    });

    await t.step("login → exists → logout keeps every other entry", async () => {
      const file = `${home}/login-auth.json`;
      const others = {
        "quay.io": { auth: b64("someone:else:pw") },
        "registry.example.com/team": { auth: b64("team:pw"), email: "kept@example.com" },
      };
      const original = {
        auths: others,
        credHelpers: { "gcr.io": "gcloud" },
        "HttpHeaders": { "User-Agent": "kept" },
      };
      await Deno.writeTextFile(file, JSON.stringify(original, null, 2));
      const before = await run(["--authfile", file, ...ca, "exists", `${h}/test/oci:v1`]);
      assertExit(before, 3, "exists before login");

      const wrong = await run(
        ["--authfile", file, ...ca, "login", "--username", "alice", "--password-stdin", h],
        { stdin: "wrong password\n" },
      );
      assertExit(wrong, 3, "login with a wrong password");
      assert.ok(wrong.stderr.trimEnd().endsWith("(UNAUTHORIZED)"), wrong.stderr);
      assert.equal(wrong.stdout, "");
      assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), original, "file untouched");

      const login = await run(
        ["--authfile", file, ...ca, "login", "--username", "alice", "--password-stdin", h],
        { stdin: `${alicePassword}\n` },
      );
      assertExit(login, 0, "login");
      assert.equal(login.stdout, "Login Succeeded\n");
      const after = JSON.parse(await Deno.readTextFile(file));
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      assert.deepEqual(after.auths[h], { auth: b64(`alice:${alicePassword}`) });
      for (const [key, value] of Object.entries(others)) assert.deepEqual(after.auths[key], value);
      assert.deepEqual(after.credHelpers, original.credHelpers);
      assert.deepEqual(after.HttpHeaders, original.HttpHeaders);

      const exists = await run(["--authfile", file, ...ca, "exists", `${h}/test/oci:v1`]);
      assertExit(exists, 0, "exists after login");

      const logout = await run(["--authfile", file, "logout", h]);
      assertExit(logout, 0, "logout");
      assert.equal(logout.stdout, `Removed login credentials for ${h}\n`);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), original);
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);

      const again = await run(["--authfile", file, "logout", h]);
      assertExit(again, 1, "logout without an entry");
      assert.ok(again.stderr.includes("not logged in"), again.stderr);
      assert.ok(again.stderr.trimEnd().endsWith("(AUTH_NOT_FOUND)"));

      // The default file, as podman picks it: ${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json.
      const byDefault = await run([
        ...ca,
        "login",
        "--username",
        "alice",
        "--password",
        alicePassword,
        h,
      ]);
      assertExit(byDefault, 0, "login --password");
      assert.match(byDefault.stderr, /^regkit: warning: .*--password.*insecure/m);
      const defaultFile = `${home}/.config/containers/auth.json`;
      const stored = JSON.parse(await Deno.readTextFile(defaultFile));
      assert.deepEqual(Object.keys(stored.auths), [h]);
      assert.equal((await Deno.stat(defaultFile)).mode! & 0o777, 0o600);
      const fromDefault = await run([...ca, "exists", `${h}/test/oci:v1`]);
      assertExit(fromDefault, 0, "exists with the default auth file");
      assertExit(await run(["logout", h]), 0, "logout (default file)");

      const readOnly = await run(
        [...ca, "login", "--username", "alice", "--password-stdin", h],
        { stdin: alicePassword, flags: FLAGS.filter((f) => !f.startsWith("--allow-write")) },
      );
      assertExit(readOnly, 2, "login without --allow-write");
      assert.match(readOnly.stderr, /--allow-write\) \(INVALID_CONFIG\)\n$/);
    });

    await t.step("progress line only on a terminal, colors only without NO_COLOR", async () => {
      const args = [
        ...withAuth,
        "exists",
        `${h}/test/oci:v1`,
        `${h}/test/oci:nope`,
        `${h}/test/docker:v1`,
      ];
      const pty = await runInPty(home, args);
      assert.equal(pty.code, 1, pty.text);
      assert.match(
        pty.text,
        new RegExp(
          "\r\x1b\\[2Kregkit: \\d/3 checked: \\d present, \\d absent, 0 unknown, [\\d.]+/s",
        ),
      );
      assert.ok(!pty.text.includes("\x1b[3"), "no colors with NO_COLOR");
      assert.ok(pty.text.includes(`absent ${h}/test/oci:nope`));

      const quiet = await runInPty(home, ["--quiet", ...args]);
      assert.equal(quiet.code, 1);
      assert.ok(!quiet.text.includes("checked"), quiet.text);
      assert.ok(!quiet.text.includes("\x1b[2K"));

      const colored = await runInPty(home, args, { color: true });
      assert.ok(colored.text.includes("\x1b[32mpresent\x1b[39m"), colored.text);
      assert.ok(colored.text.includes("\x1b[33mabsent\x1b[39m"));

      const piped = await run(args, { color: true });
      assert.equal(piped.stderr, "");
      assert.ok(!piped.stdout.includes("\x1b["), "no colors when not a terminal");
    });

    await t.step("DEBUG logs go to stderr", async () => {
      const debug = await run([
        ...withAuth,
        "--log-level",
        "DEBUG",
        "exists",
        `${h}/test/oci:v1`,
        `${h}/denied/oci:v1`,
      ]);
      assertExit(debug, 3, "--log-level DEBUG");
      assert.match(debug.stderr, /^regkit: debug: /m);
      const login = await run(
        [
          "--log-level",
          "DEBUG",
          "--authfile",
          `${home}/debug-auth.json`,
          ...ca,
          "login",
          "--username",
          "alice",
          "--password-stdin",
          h,
        ],
        { stdin: alicePassword },
      );
      assertExit(login, 0, "login with DEBUG");
    });

    await t.step("no secret in any stdout or stderr", () => {
      const tokens = registry.tokenServer!.stats.issuedTokens;
      assert.ok(tokens.length > 0, "tokens were issued");
      const secrets = [
        alicePassword,
        registry.users.admin,
        b64(`alice:${alicePassword}`),
        JSON.stringify(alicePassword).slice(1, -1),
        "wrong password",
        ...tokens,
      ];
      const all = transcripts.join("\n");
      for (const secret of secrets) {
        assert.ok(!all.includes(secret), `a secret leaked: ${secret.slice(0, 6)}…`);
      }
    });
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("regkit login against a real htpasswd registry (Basic)", async () => {
  await using registry = await startRegistry({ auth: "htpasswd" });
  await seedStandardImages(registry);
  const home = await Deno.makeTempDir({ prefix: "regkit-cli-home-" });
  const outputs: string[] = [];
  try {
    const h = registry.host;
    const global = ["--authfile", `${home}/auth.json`, "--ca-cert", registry.caCertPath!];
    const run = async (args: string[], options?: RunOptions) => {
      const result = await runCli(home, [...global, ...args], options);
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    const login = ["login", "--username", "alice", "--password-stdin", h];
    const wrong = await run(login, { stdin: "nope\n" });
    assertExit(wrong, 3, "login with a wrong password");
    assert.match(
      wrong.stderr,
      /credentials rejected \(401\); tried user "alice" given explicitly .* \(UNAUTHORIZED\)\n$/,
    );
    assert.equal(await Deno.stat(`${home}/auth.json`).catch(() => undefined), undefined);

    const ok = await run(["--log-level", "DEBUG", ...login], { stdin: registry.users.alice });
    assertExit(ok, 0, "login");
    assert.equal(ok.stdout, "Login Succeeded\n");
    assertExit(await run(["exists", `${h}/test/oci:v1`]), 0, "exists after login");
    assertExit(await run(["logout", h]), 0, "logout");
    assertExit(await run(["exists", `${h}/test/oci:v1`]), 3, "exists after logout");
    const all = outputs.join("\n");
    for (const secret of [registry.users.alice, b64(`alice:${registry.users.alice}`)]) {
      assert.ok(!all.includes(secret), "a secret leaked");
    }
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("regkit exists | head: stops quietly with 141 when stdout closes early", async () => {
  const home = await Deno.makeTempDir({ prefix: "regkit-cli-pipe-" });
  // Invalid references are answered without any network: enough output to outgrow a pipe buffer.
  const refs = Array.from({ length: 5000 }, (_, i) => `Invalid_Reference_${i}`).join("\n");
  await Deno.writeTextFile(`${home}/refs.txt`, refs);
  const command = [Deno.execPath(), "run", "--no-prompt", ...FLAGS, CLI, "exists", "--from-file"]
    .map(shellQuote).join(" ");
  const script = `${command} ${shellQuote(`${home}/refs.txt`)} 2>${
    shellQuote(`${home}/stderr`)
  } | head -n 1; echo "status=\${PIPESTATUS[0]}"`;
  const output = await new Deno.Command("bash", {
    args: ["-c", script],
    clearEnv: true,
    env: baseEnv(home, {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  assert.match(lines[0], /^unknown Invalid_Reference_0 INVALID_REFERENCE: /);
  assert.equal(lines.at(-1), "status=141");
  assert.equal(await Deno.readTextFile(`${home}/stderr`), "");
});

/**
 * Runs the CLI under a pseudo-terminal (`script`) and answers its prompts as a user would:
 * waits for each prompt, lets the CLI turn echo off, then types the reply and Enter.
 */
async function runAnsweringPrompts(
  home: string,
  args: string[],
  answers: Array<[prompt: string, reply: string]>,
): Promise<{ code: number; text: string }> {
  const command = [Deno.execPath(), "run", "--no-prompt", ...FLAGS, CLI, ...args]
    .map(shellQuote)
    .join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    clearEnv: true,
    env: { ...baseEnv(home, {}), TERM: "xterm" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: home,
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let seen = 0;
  const readMore = async () => {
    const { value, done } = await reader.read();
    if (done) return false;
    text += decoder.decode(value, { stream: true });
    return true;
  };
  try {
    for (const [prompt, reply] of answers) {
      while (!text.includes(prompt, seen)) {
        if (!(await readMore())) throw new Error(`no prompt ${JSON.stringify(prompt)} in: ${text}`);
      }
      seen = text.indexOf(prompt, seen) + prompt.length;
      // The secret prompt turns echo off right after writing itself: give it that moment, as a
      // person reading the prompt does.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writer.write(new TextEncoder().encode(reply + "\r"));
    }
    while (await readMore()) { /* the rest of the output */ }
  } finally {
    await writer.close().catch(() => {});
  }
  const { code } = await child.status;
  text += await stderr;
  transcripts.push(text);
  return { code, text };
}

Deno.test("regkit login prompts on a terminal, and refuses to without one", async (t) => {
  await using registry = await startRegistry({ auth: "htpasswd" });
  const home = await Deno.makeTempDir({ prefix: "regkit-cli-login-" });
  const h = registry.host;
  const password = registry.users.alice;
  const authFile = `${home}/auth.json`;
  const global = ["--authfile", authFile, "--ca-cert", registry.caCertPath!];
  try {
    await t.step("without a terminal: --password-stdin is required, nothing is sent", async () => {
      await registry.clearRequests();
      const bare = await runCli(home, [...global, "login", h]);
      assertExit(bare, 2, "login without a terminal");
      assert.match(bare.stderr, /needs --username and --password-stdin \(.*not a terminal/);
      assert.ok(bare.stderr.trimEnd().endsWith("(USAGE)"), bare.stderr);
      const named = await runCli(home, [...global, "login", "--username", "alice", h]);
      assertExit(named, 2, "login --username without a terminal");
      assert.match(named.stderr, /needs a password: pass --password-stdin \(.*not a terminal/);
      assert.equal(bare.stdout + named.stdout, "");
      assert.deepEqual(await registry.requests(), [], "no request without a password");
      assert.equal(await Deno.stat(authFile).catch(() => undefined), undefined);
    });

    await t.step("on a terminal: asks for the username and the password", async () => {
      const result = await runAnsweringPrompts(home, [...global, "login", h], [
        ["Username:", "alice"],
        ["Password:", password],
      ]);
      assert.equal(result.code, 0, result.text);
      assert.match(result.text, /Login Succeeded/);
      assert.ok(!result.text.includes(password), "the password is not echoed");
      const stored = JSON.parse(await Deno.readTextFile(authFile));
      assert.deepEqual(stored.auths[h], { auth: b64(`alice:${password}`) });
    });

    await t.step("on a terminal with --username: asks for the password only", async () => {
      await Deno.remove(authFile);
      const wrong = await runAnsweringPrompts(
        home,
        [...global, "login", "--username", "alice", h],
        [
          ["Password:", "not the password"],
        ],
      );
      assert.equal(wrong.code, 3, wrong.text);
      assert.match(wrong.text, /\(UNAUTHORIZED\)/);
      assert.ok(!wrong.text.includes("Username:"), wrong.text);
      assert.ok(!wrong.text.includes("not the password"), "the password is not echoed");
      assert.equal(await Deno.stat(authFile).catch(() => undefined), undefined, "nothing stored");

      const right = await runAnsweringPrompts(
        home,
        [...global, "login", "--username", "alice", h],
        [
          ["Password:", password],
        ],
      );
      assert.equal(right.code, 0, right.text);
      assert.match(right.text, /Login Succeeded/);
      assert.ok(!right.text.includes(password), "the password is not echoed");
      const stored = JSON.parse(await Deno.readTextFile(authFile));
      assert.deepEqual(stored.auths[h], { auth: b64(`alice:${password}`) });
    });
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("regkit login: 20 at once lose no entry; a file-only --allow-write sends no password", async (t) => {
  await using registry = await startRegistry({ auth: "htpasswd" });
  const home = await Deno.makeTempDir({ prefix: "regkit-cli-logins-" });
  const h = registry.host;
  const password = registry.users.alice;
  const authFile = `${home}/auth.json`;
  const global = ["--authfile", authFile, "--ca-cert", registry.caCertPath!];
  try {
    await t.step("20 parallel logins, as CI jobs sharing $HOME run them", async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `${h}/team${i}`);
      const results = await Promise.all(
        keys.map((key) =>
          runCli(home, [
            ...global,
            "--quiet",
            "login",
            "--username",
            "alice",
            "--password-stdin",
            key,
          ], {
            stdin: password,
          })
        ),
      );
      results.forEach((result, i) => assertExit(result, 0, `login ${keys[i]}`));
      const auths = JSON.parse(await Deno.readTextFile(authFile)).auths;
      assert.deepEqual(Object.keys(auths).sort(), [...keys].sort(), "no entry lost");
    });

    await t.step(
      "--allow-write=FILE only: refused before the registry sees the password",
      async () => {
        await registry.clearRequests();
        const before = await Deno.readTextFile(authFile);
        const flags = FLAGS.map((f) => f === "--allow-write" ? `--allow-write=${authFile}` : f);
        assert.ok(
          flags.includes(`--allow-write=${authFile}`),
          "the compile task has --allow-write",
        );
        const result = await runCli(
          home,
          [...global, "login", "--username", "alice", "--password-stdin", h],
          { stdin: password, flags },
        );
        assertExit(result, 2, "login with --allow-write scoped to the file");
        assert.match(result.stderr, /--allow-write\) \(INVALID_CONFIG\)\n$/);
        assert.ok(result.stderr.includes(home), result.stderr);
        assert.deepEqual(await registry.requests(), [], "nothing was sent to the registry");
        assert.equal(await Deno.readTextFile(authFile), before);
      },
    );
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
