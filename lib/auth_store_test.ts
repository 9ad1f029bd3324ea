import assert from "node:assert/strict";
import { parseAuthFile } from "./auth_file.ts";
import { removeCredentials, storeCredentials } from "./auth_store.ts";
import { RegistryError } from "./errors.ts";

const SECRET = "pa:ss wörd:1";

function b64(text: string): string {
  return new TextEncoder().encode(text).toBase64();
}

async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test("storeCredentials() keeps other entries and writes 0600 atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/sub/containers/auth.json`;
    await storeCredentials(path, { registry: "quay.io", username: "me", password: SECRET });
    assert.equal(await modeOf(path), 0o600);
    assert.equal(await modeOf(`${dir}/sub/containers`), 0o700);
    let content = parseAuthFile(path, await Deno.readTextFile(path));
    assert.equal(content.auths.get("quay.io")?.secret, SECRET);

    // Existing file with other entries and fields, looser mode.
    const existing = {
      auths: {
        "ghcr.io": { auth: b64("g:h") },
        "quay.io": { auth: b64("old:old"), email: "me@example.com" },
      },
      credHelpers: { "gcr.io": "gcloud" },
      psFormat: "table",
    };
    await Deno.writeTextFile(path, JSON.stringify(existing));
    await Deno.chmod(path, 0o644);
    await storeCredentials(path, { registry: "quay.io", username: "new", password: "pw:2" });
    await storeCredentials(path, { registry: "localhost:5000", username: "l", password: "p" });
    assert.equal(await modeOf(path), 0o600);
    const data = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(data, {
      auths: {
        "ghcr.io": { auth: b64("g:h") },
        "quay.io": { email: "me@example.com", auth: b64("new:pw:2") },
        "localhost:5000": { auth: b64("l:p") },
      },
      credHelpers: { "gcr.io": "gcloud" },
      psFormat: "table",
    });
    content = parseAuthFile(path, await Deno.readTextFile(path));
    assert.equal(content.auths.get("quay.io")?.username, "new");
    // No temp files left behind.
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/sub/containers`)) names.push(entry.name);
    assert.deepEqual(names, ["auth.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storeCredentials() leaves an invalid file unchanged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    await Deno.writeTextFile(path, `{"auths": [`);
    await assert.rejects(
      storeCredentials(path, { registry: "quay.io", username: "me", password: SECRET }),
      (e: unknown) => e instanceof RegistryError && e.code === "AUTH_FILE_INVALID",
    );
    assert.equal(await Deno.readTextFile(path), `{"auths": [`);
    await assert.rejects(
      storeCredentials(path, { registry: "quay.io", username: "", password: SECRET }),
      TypeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storeCredentials() replaces the file by rename (atomic)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    await Deno.writeTextFile(path, JSON.stringify({ auths: {} }));
    const before = (await Deno.stat(path)).ino;
    await storeCredentials(path, { registry: "quay.io", username: "me", password: "pw" });
    const after = (await Deno.stat(path)).ino;
    assert.notEqual(before, after, "the file must be replaced, not rewritten in place");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeCredentials() removes the entry and its URL forms only", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    const other = { auth: b64("g:h") };
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        auths: { "quay.io": { auth: b64("a:b") }, "https://quay.io": {}, "ghcr.io": other },
        credsStore: "desktop",
      }),
    );
    await Deno.chmod(path, 0o644);
    await t.step("removes", async () => {
      assert.equal(await removeCredentials(path, "quay.io"), true);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), {
        auths: { "ghcr.io": other },
        credsStore: "desktop",
      });
      assert.equal(await modeOf(path), 0o600);
    });
    await t.step("nothing to remove", async () => {
      const text = await Deno.readTextFile(path);
      assert.equal(await removeCredentials(path, "quay.io"), false);
      assert.equal(await Deno.readTextFile(path), text);
    });
    await t.step("missing file", async () => {
      assert.equal(await removeCredentials(`${dir}/missing.json`, "quay.io"), false);
    });
    await t.step("invalid file", async () => {
      await Deno.writeTextFile(`${dir}/bad.json`, "nope");
      await assert.rejects(
        removeCredentials(`${dir}/bad.json`, "quay.io"),
        (e: unknown) => e instanceof RegistryError && e.code === "AUTH_FILE_INVALID",
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storeCredentials() loses no entry when 20 logins run at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    await Deno.writeTextFile(path, JSON.stringify({ auths: { "kept.io": { auth: b64("k:k") } } }));
    const keys = Array.from({ length: 20 }, (_, i) => `registry-${i}.example.com`);
    await Promise.all(
      keys.map((registry, i) =>
        storeCredentials(path, { registry, username: `u${i}`, password: SECRET })
      ),
    );
    const auths = JSON.parse(await Deno.readTextFile(path)).auths;
    assert.deepEqual(Object.keys(auths).sort(), ["kept.io", ...keys].sort());
    keys.forEach((key, i) => assert.deepEqual(auths[key], { auth: b64(`u${i}:${SECRET}`) }));
    // A logout racing logins removes its entry and nothing else.
    await Promise.all([
      removeCredentials(path, "kept.io"),
      ...keys.map((registry) =>
        storeCredentials(path, { registry, username: "again", password: "pw" })
      ),
    ]);
    assert.deepEqual(
      Object.keys(JSON.parse(await Deno.readTextFile(path)).auths).sort(),
      [...keys].sort(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storeCredentials() and removeCredentials() write a symlink's target", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/real`);
    await Deno.mkdir(`${dir}/home`);
    const target = `${dir}/real/auth.json`;
    const cases: Array<[string, string]> = [
      ["an absolute link", target],
      ["a relative link", "../real/auth.json"],
    ];
    for (const [name, linkTo] of cases) {
      await t.step(name, async () => {
        const link = `${dir}/home/auth.json`;
        await Deno.writeTextFile(target, JSON.stringify({ auths: { "kept.io": {} } }));
        await Deno.remove(link).catch(() => {});
        await Deno.symlink(linkTo, link);
        await storeCredentials(link, { registry: "quay.io", username: "me", password: SECRET });
        assert.ok((await Deno.lstat(link)).isSymlink, "the link is kept");
        assert.equal(await Deno.readLink(link), linkTo);
        const auths = JSON.parse(await Deno.readTextFile(target)).auths;
        assert.deepEqual(Object.keys(auths), ["kept.io", "quay.io"]);
        assert.equal(await removeCredentials(link, "quay.io"), true);
        assert.ok((await Deno.lstat(link)).isSymlink, "the link is kept");
        assert.deepEqual(Object.keys(JSON.parse(await Deno.readTextFile(target)).auths), [
          "kept.io",
        ]);
      });
    }
    await t.step("a dangling link: the target is created", async () => {
      const link = `${dir}/home/dangling.json`;
      await Deno.symlink("../real/new/auth.json", link);
      await storeCredentials(link, { registry: "quay.io", username: "me", password: SECRET });
      assert.ok((await Deno.lstat(link)).isSymlink, "the link is kept");
      const auths = JSON.parse(await Deno.readTextFile(`${dir}/real/new/auth.json`)).auths;
      assert.deepEqual(Object.keys(auths), ["quay.io"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storeCredentials() runs verify only when the write is permitted, before reading", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    await Deno.writeTextFile(path, `{"auths": [`);
    const calls: string[] = [];
    await assert.rejects(
      storeCredentials(path, { registry: "quay.io", username: "me", password: SECRET }, {
        verify: () => {
          calls.push("verify");
          return Promise.reject(new RegistryError("UNAUTHORIZED", "rejected"));
        },
      }),
      (e: unknown) => e instanceof RegistryError && e.code === "UNAUTHORIZED",
    );
    assert.deepEqual(calls, ["verify"], "verify runs before the (invalid) file is read");
    assert.equal(await Deno.readTextFile(path), `{"auths": [`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `script` (written to `dir`) in a child Deno with exactly `permissions`; its stdout. */
async function runRestricted(dir: string, permissions: string[], script: string): Promise<string> {
  const file = `${dir}/script.ts`;
  await Deno.writeTextFile(file, script);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${new URL("../deno.json", import.meta.url).pathname}`,
      `--allow-read=${dir},${new URL("..", import.meta.url).pathname}`,
      ...permissions,
      file,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, stderr);
  return new TextDecoder().decode(output.stdout);
}

Deno.test("storeCredentials() refuses before verify when the directory is not writable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/auth.json`;
    await Deno.writeTextFile(path, "{}");
    const store = new URL("./auth_store.ts", import.meta.url).href;
    // --allow-write names the file only: the temporary file beside it could not be written.
    const out = await runRestricted(
      dir,
      [`--allow-write=${path}`],
      `import { storeCredentials } from ${JSON.stringify(store)};
       let verified = false;
       try {
         await storeCredentials(${
        JSON.stringify(path)
      }, { registry: "quay.io", username: "me", password: "pw" }, {
           verify: () => { verified = true; return Promise.resolve(); },
         });
         console.log("stored");
       } catch (e) {
         console.log(JSON.stringify({ code: e.code, message: e.message, verified }));
       }`,
    );
    const result = JSON.parse(out);
    assert.equal(result.verified, false, "verify (the password going out) must not run");
    assert.equal(result.code, "INVALID_CONFIG");
    assert.match(result.message, /--allow-write/);
    assert.ok(result.message.includes(dir), result.message);
    assert.equal(await Deno.readTextFile(path), "{}");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
