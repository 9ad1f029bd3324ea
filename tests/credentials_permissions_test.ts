/**
 * Runs credential resolution in a subprocess with narrow permissions
 * (`--allow-env=HOME --allow-read=<tmp> --no-prompt`): variables that are set
 * but not permitted are skipped, never prompted for, never a crash.
 */
import assert from "node:assert/strict";
import { encodeBase64 } from "@std/encoding/base64";

const CREDENTIALS_MODULE = new URL("../lib/credentials.ts", import.meta.url).href;
const SECRET = "pa:ss wörd:1";

function auth(username: string, password: string): { auth: string } {
  return { auth: encodeBase64(`${username}:${password}`) };
}

async function writeJson(path: string, data: unknown): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(data));
}

const SCRIPT = `
import { explainCredentials, resolveCredentials } from ${JSON.stringify(CREDENTIALS_MODULE)};
import { Logger } from ${JSON.stringify(new URL("../lib/log.ts", import.meta.url).href)};
const records = [];
const logger = new Logger("DEBUG", (r) => records.push(r));
const resolved = await resolveCredentials("quay.io/org/app:1", { logger });
const explanation = await explainCredentials("quay.io/org/app:1");
console.log(JSON.stringify({
  source: resolved?.source,
  username: resolved?.credentials.username,
  secretMatches: resolved?.credentials.secret === ${JSON.stringify(SECRET)},
  explanation,
  records,
}));
`;

Deno.test("resolveCredentials() skips unpermitted variables without prompting", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "regkit-perm-" }));
  try {
    // Decoys the process must not see: their variables are set but not permitted.
    await writeJson(`${tmp}/raf.json`, { auths: { "quay.io": auth("raf", "wrong") } });
    await writeJson(`${tmp}/run/containers/auth.json`, {
      auths: { "quay.io": auth("run", "wrong") },
    });
    await writeJson(`${tmp}/cfg/containers/auth.json`, {
      auths: { "quay.io": auth("cfg", "wrong") },
    });
    await writeJson(`${tmp}/dc/config.json`, { auths: { "quay.io": auth("dc", "wrong") } });
    // The file it must find. The credsStore helper is not permitted to run: skipped.
    await writeJson(`${tmp}/home/.docker/config.json`, {
      auths: { "quay.io/org": auth("docker-user", SECRET) },
      credsStore: "regkit-test-not-permitted",
    });
    await Deno.writeTextFile(`${tmp}/script.ts`, SCRIPT);

    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--config=${new URL("../deno.json", import.meta.url).pathname}`,
        "--allow-env=HOME",
        `--allow-read=${tmp}`,
        `${tmp}/script.ts`,
      ],
      env: {
        HOME: `${tmp}/home`,
        REGISTRY_AUTH_FILE: `${tmp}/raf.json`,
        XDG_RUNTIME_DIR: `${tmp}/run`,
        XDG_CONFIG_HOME: `${tmp}/cfg`,
        DOCKER_CONFIG: `${tmp}/dc`,
        NO_COLOR: "1",
        DENO_DIR: `${tmp}/deno-dir`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /prompt|error|denied|NotCapable|Requires/i);
    assert.doesNotMatch(out, /Requires|NotCapable/);
    assert.ok(!out.includes(SECRET));

    const result = JSON.parse(out);
    const path = `${tmp}/home/.docker/config.json`;
    assert.deepEqual(result.source, { type: "file", path, key: "quay.io/org" });
    assert.equal(result.username, "docker-user");
    assert.equal(result.secretMatches, true);
    assert.deepEqual(result.explanation.searched, [path]);
    assert.deepEqual(result.explanation.skipped, [
      {
        candidate: "${REGISTRY_AUTH_FILE}",
        reason: "$REGISTRY_AUTH_FILE is not permitted (--allow-env)",
      },
      {
        candidate: "${XDG_RUNTIME_DIR}/containers/auth.json",
        reason: "$XDG_RUNTIME_DIR is not permitted (--allow-env)",
      },
      {
        candidate: "${XDG_CONFIG_HOME}/containers/auth.json",
        reason: "$XDG_CONFIG_HOME is not permitted (--allow-env)",
      },
      {
        candidate: `${tmp}/home/.config/containers/auth.json`,
        reason: "the file does not exist",
      },
      {
        candidate: "${DOCKER_CONFIG}/config.json",
        reason: "$DOCKER_CONFIG is not permitted (--allow-env)",
      },
      {
        candidate: "docker-credential-regkit-test-not-permitted",
        reason: "the run permission is not granted (--allow-run)",
      },
    ]);
    // Every skip was logged at DEBUG, without values.
    assert.equal(result.records.length, result.explanation.skipped.length + 0);
    for (const record of result.records) {
      assert.equal(record.level, "DEBUG");
      assert.doesNotMatch(record.message, new RegExp(`${tmp}/(run|cfg|dc|raf)`));
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

// #11 item 9 changed this test: it used an explicit authFile outside --allow-read, which was
// skipped; now only implicit candidates are skipped and an explicit one is an error.
Deno.test("resolveCredentials() skips an implicit auth file without read permission, not an explicit one", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "regkit-perm-" }));
  const outside = await Deno.realPath(await Deno.makeTempDir({ prefix: "regkit-outside-" }));
  try {
    await writeJson(`${outside}/.docker/config.json`, { auths: { "quay.io": auth("x", SECRET) } });
    await writeJson(`${outside}/auth.json`, { auths: { "quay.io": auth("x", SECRET) } });
    await Deno.writeTextFile(
      `${tmp}/script.ts`,
      `import { explainCredentials } from ${JSON.stringify(CREDENTIALS_MODULE)};
const implicit = await explainCredentials("quay.io/org/app", {
  env: (name) => name === "HOME" ? ${JSON.stringify(outside)} : undefined,
  os: "linux",
});
const explicit = await explainCredentials("quay.io/org/app", {
  authFile: ${JSON.stringify(`${outside}/auth.json`)},
}).then(() => undefined, (e) => ({ code: e.code, message: e.message }));
console.log(JSON.stringify({ implicit, explicit }));`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--config=${new URL("../deno.json", import.meta.url).pathname}`,
        `--allow-read=${tmp}`,
        `${tmp}/script.ts`,
      ],
      env: { NO_COLOR: "1", DENO_DIR: `${tmp}/deno-dir` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /prompt|error|denied|NotCapable|Requires/i);
    const { implicit, explicit } = JSON.parse(new TextDecoder().decode(stdout));
    assert.deepEqual(implicit.source, { type: "anonymous" });
    assert.deepEqual(implicit.searched, []);
    const notPermitted = "the read permission is not granted (--allow-read)";
    assert.deepEqual(
      implicit.skipped.filter((s: { reason: string }) => s.reason === notPermitted),
      [
        { candidate: `${outside}/.config/containers/auth.json`, reason: notPermitted },
        { candidate: `${outside}/.docker/config.json`, reason: notPermitted },
        { candidate: `${outside}/.dockercfg`, reason: notPermitted },
      ],
    );
    assert.equal(explicit.code, "AUTH_FILE_INVALID");
    assert.equal(
      explicit.message,
      `Cannot use auth file "${outside}/auth.json" named by --authfile (option "authFile"): ${notPermitted}`,
    );
    assert.ok(!JSON.stringify({ implicit, explicit }).includes(SECRET));
  } finally {
    await Deno.remove(tmp, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
