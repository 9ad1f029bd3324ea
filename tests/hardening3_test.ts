/**
 * #11, third wave: CLI wording (29), credentials bound to one registry (23),
 * `inspect` as skopeo users read it (30), paged and capped tags (10), and 401
 * messages that name the credentials tried (17).
 */
import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";
import { startRegistry } from "./_registry.ts";
import { imageResponse, jsonResponse, startFaultServer } from "./_fault_server.ts";
import { buildImage, type PushedImage, pushImage, pushIndex, uploadImage } from "./_images.ts";

Deno.test("CLI wording: one reference, a missing repository, each code once (#11 item 29)", async (t) => {
  await t.step("a second reference", async () => {
    const result = await runCli(["digest", "localhost:1/a:1", "localhost:1/a:2"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^regkit: "digest" takes one reference, got 2; see /);
  });
  await t.step("tags host:port says the repository is missing", async () => {
    for (const host of ["localhost:5000", "127.0.0.1:5000", "registry.example:443", "[::1]:5000"]) {
      const result = await runCli(["tags", host]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `regkit: Cannot parse image reference "${host}": the repository is missing after the registry host, e.g. ${host}/org/app (INVALID_REFERENCE)\n`,
      );
    }
  });
  await t.step("a registry's code that is the line's code is printed once", async () => {
    await using registry = await startRegistry();
    for (
      const [args, code, exit] of [
        [["tags", `${registry.host}/test/nothing-here`], "NAME_UNKNOWN", 1],
        [["manifest", `${registry.host}/test/nothing-here:v1`], "MANIFEST_UNKNOWN", 1],
      ] as const
    ) {
      const result = await runCli([...args]);
      assert.equal(result.code, exit, result.stderr);
      assert.equal(result.stderr.split(code).length - 1, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`registry answered 404: .* \\(${code}\\)\\n$`));
    }
  });
});

/** A Basic-auth registry on loopback serving one image at `app:v1` to any credentials. */
async function basicRegistry(image: PushedImage) {
  const served = { repository: "app", tags: ["v1"], ...image };
  return await startFaultServer((record) => {
    if (record.authorization === null) {
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="regkit"' },
      });
    }
    if (record.path === "/v2/") return jsonResponse({});
    return imageResponse(record, served) ?? new Response(null, { status: 404 });
  });
}

function basic(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

Deno.test("CLI --creds-for binds --username to one registry of a batch (#11 item 23)", async (t) => {
  const image = await buildImage();
  await using a = await basicRegistry(image);
  await using b = await basicRegistry(image);
  const dir = await Deno.makeTempDir();
  const authFile = `${dir}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({ auths: { [b.host]: { auth: btoa("bob:bobpw") } } }),
  );
  const refs = [`${a.host}/app:v1`, `${b.host}/app:v1`];
  const explicit = ["--authfile", authFile, "--username", "alice", "--password-stdin"];
  const stdin = () => new Blob(["alicepw\n"]).stream();
  const sent = (server: typeof a) =>
    new Set(server.requests.flatMap((r) => r.authorization === null ? [] : [r.authorization]));
  try {
    await t.step("with --creds-for, the other registry gets its own credentials", async () => {
      for (const command of ["exists", "signed"]) {
        a.requests.length = 0;
        b.requests.length = 0;
        const result = await runCli([command, ...explicit, "--creds-for", a.host, ...refs], {
          stdin: stdin(),
        });
        assert.equal(result.code, command === "exists" ? 0 : 1, result.stdout + result.stderr);
        assert.equal(result.stderr, "");
        assert.deepEqual(sent(a), new Set([basic("alice", "alicepw")]));
        assert.deepEqual(sent(b), new Set([basic("bob", "bobpw")]));
      }
    });
    await t.step("without it, one warning names the registries", async () => {
      const result = await runCli(["exists", ...explicit, ...refs, `${a.host}/app:v1`], {
        stdin: stdin(),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stderr,
        `regkit: warning: --username and its password go to every registry of this batch: "${a.host}", "${b.host}"; pass --creds-for HOST to send them to one only\n`,
      );
      assert.deepEqual(sent(b), new Set([basic("bob", "bobpw"), basic("alice", "alicepw")]));
    });
    await t.step("one registry: no warning", async () => {
      const result = await runCli(["exists", ...explicit, refs[0]!, refs[0]!], { stdin: stdin() });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
    });
    await t.step("streamed input warns once, when the second registry arrives", async () => {
      const list = `${dir}/refs.txt`;
      await Deno.writeTextFile(list, [...refs, ...refs].join("\n") + "\n");
      const result = await runCli(["exists", ...explicit, "--from-file", list], { stdin: stdin() });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr.split("warning:").length, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`"${a.host}", "${b.host}"`));
    });
    await t.step("--creds-for needs --username, takes a host, and not with login", async () => {
      for (
        const [args, message] of [
          [["--creds-for", a.host, "exists", refs[0]!], /--creds-for needs --username/],
          [
            [...explicit, "--creds-for", "quay.io/org", "exists", refs[0]!],
            /--creds-for "quay\.io\/org"/,
          ],
          [
            [...explicit, "--creds-for", "https://quay.io", "exists", refs[0]!],
            /--creds-for "https:\/\/quay\.io"/,
          ],
          [
            [...explicit, "--creds-for", a.host, "login", a.host],
            /"login" does not take --creds-for/,
          ],
        ] as const
      ) {
        const result = await runCli([...args], { stdin: stdin() });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, message);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI inspect: RepoTags, Env, --no-tags, --raw and --config (#11 item 30)", async (t) => {
  await using registry = await startRegistry();
  const h = registry.host;
  const env = ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"];
  const image = await pushImage(registry, "app/env", "v1", { env });
  await uploadImage(registry, "app/env", "v2", image);
  const index = await pushIndex(registry, "app/index", "v1", [
    { platform: { os: "linux", architecture: "amd64" } },
    { platform: { os: "linux", architecture: "arm64", variant: "v8" }, env: ["ARM=1"] },
  ]);
  const bytes = async (args: string[]) => {
    const chunks: Uint8Array[] = [];
    const stdout = {
      write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)),
    };
    const result = await runCli(args, { stdout });
    assert.equal(result.code, 0, result.stderr);
    return new Uint8Array(chunks.flatMap((c) => [...c]));
  };

  await t.step("RepoTags and Env, in skopeo's places", async () => {
    const result = await runCli(["inspect", `${h}/app/env:v1`]);
    assert.equal(result.code, 0, result.stderr);
    const info = JSON.parse(result.stdout);
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
    assert.deepEqual([...info.RepoTags].sort(), ["v1", "v2"]);
    assert.deepEqual(info.Env, env);
    const arm = JSON.parse(
      (await runCli(["inspect", "--platform", "linux/arm64/v8", `${h}/app/index:v1`])).stdout,
    );
    assert.deepEqual(arm.Env, ["ARM=1"]);
    assert.deepEqual(arm.RepoTags, ["v1"]);
  });

  await t.step("--no-tags lists no tags and asks for none", async () => {
    await registry.clearRequests();
    const result = await runCli(["inspect", "--no-tags", `${h}/app/env:v1`]);
    assert.equal(result.code, 0, result.stderr);
    const info = JSON.parse(result.stdout);
    assert.equal(info.RepoTags, undefined);
    assert.deepEqual(info.Env, env);
    assert.ok(!(await registry.requests()).some((r) => r.path.includes("/tags/")));
  });

  await t.step("--raw: the manifest as served; --config: the config blob as served", async () => {
    assert.deepEqual(await bytes(["inspect", "--raw", `${h}/app/env:v1`]), image.manifest);
    assert.deepEqual(await bytes(["inspect", "--config", `${h}/app/env:v1`]), image.config);
    assert.deepEqual(await bytes(["inspect", "--raw", `${h}/app/index:v1`]), index.manifest);
    assert.deepEqual(
      await bytes(["inspect", "--config", "--platform", "linux/arm64/v8", `${h}/app/index:v1`]),
      index.children[1].config,
    );
    const both = await runCli(["inspect", "--raw", "--config", `${h}/app/env:v1`]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--raw or --config, not both/);
  });
});
