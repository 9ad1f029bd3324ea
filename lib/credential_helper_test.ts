import assert from "node:assert/strict";
import { runCredentialHelper } from "./credential_helper.ts";
import { RegistryError } from "./errors.ts";
import { Logger, type LogRecord } from "./log.ts";

const SECRET = "pa:ss wörd:1";
const OUTPUT_SECRET = "HELPER-OUTPUT-SECRET";

/** Writes `docker-credential-<name>` scripts into a fresh temp dir. */
export async function writeHelpers(scripts: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "regkit-helpers-" });
  for (const [name, body] of Object.entries(scripts)) {
    const path = `${dir}/docker-credential-${name}`;
    await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(path, 0o755);
  }
  return dir;
}

/** Helper scripts shared by the helper and credential tests. */
export const HELPER_SCRIPTS: Record<string, string> = {
  // Answers with the server URL it was asked about as the username.
  echo: `[ "$1" = get ] || exit 3
url=$(cat)
printf '{"ServerURL":"%s","Username":"%s","Secret":"${SECRET}"}' "$url" "$url"`,
  found: `[ "$1" = get ] || exit 3
cat >/dev/null
printf '{"ServerURL":"quay.io","Username":"me","Secret":"${SECRET}"}'`,
  token: `cat >/dev/null
printf '{"ServerURL":"quay.io","Username":"<token>","Secret":"refresh-${SECRET}"}'`,
  notfound: `cat >/dev/null
echo "credentials not found in native keychain"
exit 1`,
  notfounderr: `cat >/dev/null
echo "credentials not found in native keychain" >&2
exit 1`,
  badjson: `cat >/dev/null
echo "{not json ${OUTPUT_SECRET}"`,
  nofields: `cat >/dev/null
echo '{"ServerURL":"quay.io","Password":"${OUTPUT_SECRET}"}'`,
  emptysecret: `cat >/dev/null
echo '{"ServerURL":"quay.io","Username":"me","Secret":""}'`,
  fails: `cat >/dev/null
echo "oops ${OUTPUT_SECRET}" >&2
exit 2`,
  noread: `echo '{"ServerURL":"quay.io","Username":"me","Secret":"x"}'`,
  hang: `exec sleep 30`,
  // The shell forks sleep, which keeps stdout open after the shell is killed.
  hangchild: `sleep 3
echo '{}'`,
};

let helperDir: string | undefined;
globalThis.addEventListener("unload", () => {
  if (helperDir !== undefined) Deno.removeSync(helperDir, { recursive: true });
});
async function dir(): Promise<string> {
  helperDir ??= await writeHelpers(HELPER_SCRIPTS);
  return helperDir;
}

Deno.test("runCredentialHelper() maps the helper's answer", async (t) => {
  const path = await dir();
  const cases: Array<{
    name: string;
    helper: string;
    serverUrl?: string;
    expected: { username: string; secret: string } | undefined;
  }> = [
    {
      name: "found: username and a password with ':' and non-ASCII",
      helper: "found",
      expected: { username: "me", secret: SECRET },
    },
    {
      name: "the server URL goes to stdin",
      helper: "echo",
      serverUrl: "https://index.docker.io/v1/",
      expected: { username: "https://index.docker.io/v1/", secret: SECRET },
    },
    {
      name: "<token> username is passed through",
      helper: "token",
      expected: { username: "<token>", secret: `refresh-${SECRET}` },
    },
    { name: "credentials not found (stdout)", helper: "notfound", expected: undefined },
    { name: "credentials not found (stderr)", helper: "notfounderr", expected: undefined },
    { name: "empty secret means none", helper: "emptysecret", expected: undefined },
    {
      name: "a helper that does not read stdin",
      helper: "noread",
      expected: { username: "me", secret: "x" },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const answer = await runCredentialHelper(c.helper, c.serverUrl ?? "quay.io", { path });
      assert.deepEqual(answer, c.expected);
    });
  }
});

Deno.test("runCredentialHelper() fails with CREDENTIAL_HELPER_FAILED", async (t) => {
  const path = await dir();
  const cases: Array<{ name: string; helper: string; timeoutMs?: number; detail: RegExp }> = [
    { name: "missing binary", helper: "missing", detail: /not found/ },
    { name: "bad JSON answer", helper: "badjson", detail: /not valid JSON/ },
    { name: "answer without fields", helper: "nofields", detail: /Username/ },
    { name: "non-zero exit", helper: "fails", detail: /exited with code 2/ },
    { name: "hanging helper is killed", helper: "hang", timeoutMs: 100, detail: /killed/ },
    {
      name: "hanging helper whose child keeps the pipe open",
      helper: "hangchild",
      timeoutMs: 100,
      detail: /killed/,
    },
    { name: "helper name with a slash", helper: "../found", detail: /not valid/ },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const records: LogRecord[] = [];
      const logger = new Logger("DEBUG", (r) => records.push(r));
      const error = await runCredentialHelper(c.helper, "quay.io", {
        path,
        logger,
        ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
      }).then(() => undefined, (e) => e);
      assert.ok(error instanceof RegistryError, String(error));
      assert.equal(error.code, "CREDENTIAL_HELPER_FAILED");
      assert.match(error.message, new RegExp(`docker-credential-${c.helper.replace(".", "\\.")}`));
      assert.match(error.message, c.detail);
      const everything = error.message + String(error.cause ?? "") +
        JSON.stringify(records);
      assert.ok(!everything.includes(OUTPUT_SECRET), "helper output leaked");
      assert.ok(!everything.includes(SECRET), "secret leaked");
    });
  }
});

Deno.test("runCredentialHelper() finds the helper in the process PATH when no path is given", async () => {
  const error = await runCredentialHelper("regkit-definitely-missing", "quay.io").then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof RegistryError);
  assert.equal(error.code, "CREDENTIAL_HELPER_FAILED");
  assert.match(error.message, /docker-credential-regkit-definitely-missing/);
});

Deno.test("runCredentialHelper() rejects a bad timeoutMs", async (t) => {
  for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    await t.step(String(timeoutMs), async () => {
      await assert.rejects(
        runCredentialHelper("found", "quay.io", { timeoutMs, path: await dir() }),
        (e: unknown) => e instanceof RangeError && e.message.includes("timeoutMs"),
      );
    });
  }
});

Deno.test("runCredentialHelper() skips non-executable files in the path", async () => {
  const path = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${path}/docker-credential-plain`, "#!/bin/sh\necho '{}'\n");
    await assert.rejects(
      runCredentialHelper("plain", "quay.io", { path }),
      (e: unknown) => e instanceof RegistryError && e.code === "CREDENTIAL_HELPER_FAILED",
    );
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

const COUNTING_HELPERS: Record<string, string> = {
  // Logs one line per run next to itself.
  count: `cat >/dev/null
echo run >> "$(dirname "$0")/count.log"
printf '{"ServerURL":"x","Username":"u","Secret":"s"}'`,
  // Logs how many runs are alive at once.
  slow: `cat >/dev/null
d="$(dirname "$0")/running"
mkdir -p "$d"
touch "$d/$$"
ls "$d" | wc -l >> "$(dirname "$0")/concurrency.log"
sleep 0.3
rm "$d/$$"
printf '{"ServerURL":"x","Username":"u","Secret":"s"}'`,
  // Starts a grandchild that outlives a killed shell, then waits for it.
  spawner: `cat >/dev/null
sleep 60 &
echo $! > "$(dirname "$0")/child.pid"
wait`,
};

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

Deno.test("runCredentialHelper() runs a helper once per server URL and remembers the answer", async () => {
  const path = await writeHelpers(COUNTING_HELPERS);
  try {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => runCredentialHelper("count", "quay.io", { path })),
    );
    for (let i = 0; i < 5; i++) {
      answers.push(await runCredentialHelper("count", "quay.io", { path }));
    }
    for (const answer of answers) assert.deepEqual(answer, { username: "u", secret: "s" });
    assert.equal((await lines(`${path}/count.log`)).length, 1);

    await runCredentialHelper("count", "ghcr.io", { path });
    assert.equal((await lines(`${path}/count.log`)).length, 2, "another server URL is asked");
    await runCredentialHelper("count", "quay.io", { path, cache: false });
    assert.equal((await lines(`${path}/count.log`)).length, 3, "cache: false asks again");
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

Deno.test("runCredentialHelper() runs at most 4 helper processes at once", async () => {
  const path = await writeHelpers(COUNTING_HELPERS);
  try {
    const urls = Array.from({ length: 12 }, (_, i) => `registry-${i}.example`);
    const answers = await Promise.all(
      urls.map((url) => runCredentialHelper("slow", url, { path })),
    );
    assert.equal(answers.length, 12);
    const counts = (await lines(`${path}/concurrency.log`)).map(Number);
    assert.equal(counts.length, 12, "one run per server URL");
    assert.ok(Math.max(...counts) <= 4, `alive at once: ${counts.join(",")}`);
  } finally {
    await Deno.remove(path, { recursive: true });
  }
});

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

Deno.test({
  name: "runCredentialHelper() kills a timed-out helper's process group",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const path = await writeHelpers(COUNTING_HELPERS);
    let pid: number | undefined;
    try {
      await assert.rejects(
        runCredentialHelper("spawner", "quay.io", { path, timeoutMs: 500 }),
        (e: unknown) => e instanceof RegistryError && /killed/.test(e.message),
      );
      pid = Number((await lines(`${path}/child.pid`))[0]);
      assert.ok(pid > 0, "the helper started its child");
      // SIGKILL is delivered at once; give init a moment to reap the orphan.
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(alive(pid), false, `the helper's child ${pid} is still running`);
    } finally {
      if (pid !== undefined && alive(pid)) Deno.kill(pid, "SIGKILL");
      await Deno.remove(path, { recursive: true });
    }
  },
});
