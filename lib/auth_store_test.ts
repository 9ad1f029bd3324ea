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
