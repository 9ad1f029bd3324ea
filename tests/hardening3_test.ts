/**
 * #11, third wave: CLI wording (29), credentials bound to one registry (23),
 * `inspect` as skopeo users read it (30), paged and capped tags (10), and 401
 * messages that name the credentials tried (17).
 */
import assert from "node:assert/strict";
import { ContainerRegistryClient, isRegistryError } from "../mod.ts";
import { runCli } from "./_cli.ts";
import { startRegistry } from "./_registry.ts";
import { imageResponse, jsonResponse, startFaultServer } from "./_fault_server.ts";
import {
  buildImage,
  type PushedImage,
  pushHeaders,
  pushImage,
  pushIndex,
  putManifest,
  uploadImage,
} from "./_images.ts";

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

Deno.test("tags ask for pages of 1,000 and the whole listing is bounded (#11 item 10)", async (t) => {
  await t.step("real registry: n=1000 asked, every tag listed, maxTags enforced", async () => {
    await using registry = await startRegistry();
    const image = await pushImage(registry, "many/tags", "t0000");
    const headers = await pushHeaders(registry, "many/tags");
    const names = Array.from({ length: 2500 }, (_, i) => `t${String(i).padStart(4, "0")}`);
    for (let i = 1; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map((tag) =>
          putManifest(registry, "many/tags", tag, image.mediaType, image.manifest, headers)
        ),
      );
    }
    await registry.clearRequests();
    await using client = new ContainerRegistryClient({ env: () => undefined });
    const listed = await client.tags(`${registry.host}/many/tags`);
    assert.deepEqual([...listed].sort(), names);
    const lists = (await registry.requests()).filter((r) => r.path.includes("/tags/list"));
    assert.ok(lists.length >= 1 && lists[0]!.path.endsWith("/tags/list?n=1000"), lists[0]?.path);
    await assert.rejects(
      client.tags(`${registry.host}/many/tags`, { maxTags: 1000 }),
      (e: unknown) =>
        isRegistryError(e, "RESPONSE_TOO_LARGE") && /more than 1000 tags/.test(e.message),
    );
    assert.throws(() => client.tagPages(`${registry.host}/many/tags`, { maxTags: 0 }), RangeError);
    const cli = await runCli(["tags", "--max-tags", "1000", `${registry.host}/many/tags`]);
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(cli.stderr, /more than 1000 tags .*--max-tags: 1000\) \(RESPONSE_TOO_LARGE\)\n$/);
  });

  await t.step("a page of 300,000 tags (a registry that ignores n) is read", async () => {
    const all = Array.from({ length: 300_000 }, (_, i) => `release-${i}`);
    const body = JSON.stringify({ name: "app", tags: all });
    assert.ok(body.length > 4 * 1024 * 1024, "larger than a manifest may be");
    await using server = await startFaultServer((r) =>
      r.path === "/v2/" ? jsonResponse({}) : new Response(body, {
        headers: { "content-type": "application/json" },
      })
    );
    await using client = new ContainerRegistryClient({ env: () => undefined });
    assert.equal((await client.tags(`${server.host}/app`)).length, 300_000);
  });

  await t.step("endless pages with fresh links stop at maxTags, page by page", async () => {
    let n = 0;
    await using server = await startFaultServer((r) => {
      if (r.path === "/v2/") return jsonResponse({});
      n++;
      const tags = Array.from({ length: 1000 }, (_, i) => `p${n}-${i}`);
      return Response.json({ name: "app", tags }, {
        headers: { link: `</v2/app/tags/list?n=1000&last=p${n}-999>; rel="next"` },
      });
    });
    await using client = new ContainerRegistryClient({ env: () => undefined });
    const seen: number[] = [];
    await assert.rejects(
      async () => {
        for await (const page of client.tagPages(`${server.host}/app`, { maxTags: 5000 })) {
          seen.push(page.length);
        }
      },
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE"),
    );
    assert.deepEqual(seen, [1000, 1000, 1000, 1000, 1000]);
    assert.equal(server.count((r) => r.path.includes("/tags/list")), 6);
    await assert.rejects(
      client.tags(`${server.host}/app`),
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE") && /1000000/.test(e.message),
    );
  });

  await t.step("pages of whitespace are bounded in bytes too", async () => {
    await using server = await startFaultServer((r) =>
      r.path === "/v2/" ? jsonResponse({}) : new Response(
        `{"tags": ["a"]${" ".repeat(100_000)}}`,
        { headers: { link: `</v2/app/tags/list?n=1000&last=${crypto.randomUUID()}>; rel="next"` } },
      )
    );
    await using client = new ContainerRegistryClient({ env: () => undefined });
    await assert.rejects(
      client.tags(`${server.host}/app`, { maxTags: 100 }),
      (e: unknown) => isRegistryError(e, "RESPONSE_TOO_LARGE") && /16000 bytes/.test(e.message),
    );
    assert.equal(server.count((r) => r.path.includes("/tags/list")), 1);
  });
});

Deno.test("CLI tags prints each page as it arrives, --json as one document (#11 item 10)", async () => {
  const { promise: firstPrinted, resolve } = Promise.withResolvers<void>();
  await using server = await startFaultServer(async (r, _request, closing) => {
    if (r.path === "/v2/") return jsonResponse({});
    if (r.path.includes("last=a2")) {
      // The second page waits until the first one is on stdout (or the test gives up).
      const waited = await Promise.race([
        firstPrinted.then(() => true),
        new Promise<boolean>((done) => {
          const timer = setTimeout(() => done(false), 10_000);
          closing.addEventListener("abort", () => (clearTimeout(timer), done(false)));
        }),
      ]);
      if (!waited) return new Response("the first page was not printed", { status: 500 });
      return Response.json({ tags: ["b1", "bad\u001b[2J", "b2"] });
    }
    return Response.json({ tags: ["a1", "a2"] }, {
      headers: { link: '</v2/app/tags/list?n=1000&last=a2>; rel="next"' },
    });
  });
  let out = "";
  const stdout = {
    write(p: Uint8Array) {
      out += new TextDecoder().decode(p);
      if (out.includes("a2\n")) resolve();
      return Promise.resolve(p.length);
    },
  };
  const text = await runCli(["tags", `${server.host}/app`], { stdout });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(out, "a1\na2\nb1\nb2\n");
  assert.match(text.stderr, /1 name\(s\) that are not valid tags, not printed: "bad\\x1b\[2J"/);
  const json = await runCli(["tags", "--json", `${server.host}/app`]);
  assert.equal(json.code, 0, json.stderr);
  const expected = { Repository: `${server.host}/app`, Tags: ["a1", "a2", "b1", "b2"] };
  assert.equal(json.stdout, JSON.stringify(expected, null, 4) + "\n");
});

Deno.test("CLI tags --json of an empty repository is the same document as before (#11 item 10)", async () => {
  await using server = await startFaultServer((r) =>
    r.path === "/v2/" ? jsonResponse({}) : Response.json({ name: "app", tags: null })
  );
  const json = await runCli(["tags", "--json", `${server.host}/app`]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(
    json.stdout,
    JSON.stringify({ Repository: `${server.host}/app`, Tags: [] }, null, 4) + "\n",
  );
});

Deno.test("401 messages name the credentials tried (#11 item 17)", async (t) => {
  await using basicReg = await startRegistry({ auth: "htpasswd" });
  await using tokenReg = await startRegistry({ auth: "token" });
  const dir = await Deno.makeTempDir({ prefix: "regkit-tried-" });
  const explain = "tried anonymously (no credentials were found; see `regkit auth explain`)";
  const line = (result: { stdout: string }) => result.stdout.trimEnd();

  await t.step("anonymous, against a real Basic registry", async () => {
    const ref = `${basicReg.host}/test/oci:v1`;
    const result = await runCli(["exists", "--ca-cert", basicReg.caCertPath!, ref]);
    assert.equal(result.code, 3, result.stderr);
    assert.ok(line(result).startsWith(`unknown ${ref} UNAUTHORIZED: `), result.stdout);
    assert.ok(line(result).endsWith(`; ${explain}`), result.stdout);
  });

  await t.step("a wrong password from an auth file names the user, file and key", async () => {
    const authFile = `${dir}/auth.json`;
    await Deno.writeTextFile(
      authFile,
      JSON.stringify({ auths: { [basicReg.host]: { auth: btoa("alice:wrong") } } }),
    );
    const ref = `${basicReg.host}/test/oci:v1`;
    const args = ["--ca-cert", basicReg.caCertPath!, "--authfile", authFile];
    const result = await runCli(["exists", ...args, ref]);
    assert.equal(result.code, 3, result.stderr);
    assert.ok(
      line(result).endsWith(`; tried user "alice" from ${authFile} (key "${basicReg.host}")`),
      result.stdout,
    );
    const digest = await runCli(["digest", ...args, ref]);
    assert.equal(digest.code, 3);
    assert.match(
      digest.stderr,
      /registry answered 401.*; tried user "alice" from .*\(UNAUTHORIZED\)\n$/,
    );
    assert.ok(!digest.stderr.includes("wrong") && !result.stdout.includes("wrong"));
  });

  await t.step("explicit credentials refused by a real token realm", async () => {
    const ref = `${tokenReg.host}/test/oci:v1`;
    const result = await runCli(
      ["exists", "--ca-cert", tokenReg.caCertPath!, "--username", "alice", "--password-stdin", ref],
      { stdin: new Blob(["not-her-password\n"]).stream() },
    );
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      line(result),
      /UNAUTHORIZED: Cannot get a token for .*: the token realm .* answered 401/,
    );
    assert.ok(
      line(result).endsWith(
        '; tried user "alice" given explicitly (--username, or the username option)',
      ),
      result.stdout,
    );
    const login = await runCli(
      [
        "login",
        "--ca-cert",
        basicReg.caCertPath!,
        "--authfile",
        `${dir}/login.json`,
        basicReg.host,
        "--username",
        "alice",
        "--password-stdin",
      ],
      { stdin: new Blob(["not-her-password\n"]).stream() },
    );
    assert.equal(login.code, 3, login.stderr);
    assert.match(login.stderr, /credentials rejected \(401\); tried user "alice" given explicitly/);
  });

  await t.step("a credential helper's credentials refused: the helper and the file", async () => {
    const home = await Deno.makeTempDir();
    await Deno.mkdir(`${home}/.docker`);
    const config = `${home}/.docker/config.json`;
    await Deno.writeTextFile(config, JSON.stringify({ credsStore: "regkittried" }));
    await using client = new ContainerRegistryClient({
      env: (n) => n === "HOME" ? home : undefined,
      caCerts: [tokenReg.caCert!],
      runHelper: () => Promise.resolve({ username: "alice", secret: "stale-password" }),
    });
    const result = await client.exists(`${tokenReg.host}/test/oci:v1`);
    assert.equal(result.status, "unknown");
    assert.ok(result.status === "unknown" && isRegistryError(result.error, "UNAUTHORIZED"));
    assert.ok(
      result.error.message.endsWith(
        `; tried user "alice" from the credential helper docker-credential-regkittried (credsStore in ${config})`,
      ),
      result.error.message,
    );
    assert.ok(!result.error.message.includes("stale-password"));
  });

  await t.step("anonymous against a real token registry that refuses anonymous pulls", async () => {
    await using client = new ContainerRegistryClient({
      env: () => undefined,
      caCerts: [tokenReg.caCert!],
    });
    const error = await client.digest(`${tokenReg.host}/test/oci:v1`).then(
      () => assert.fail("resolved"),
      (e) => e,
    );
    assert.ok(isRegistryError(error, "UNAUTHORIZED", "DENIED"), String(error));
    assert.ok(error.message.endsWith(`; ${explain}`), error.message);
  });
});
