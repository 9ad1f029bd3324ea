/**
 * Secrets never leak: every authentication scenario (htpasswd Basic, token with a password,
 * identity token, credential helper, explicit username/password, and wrong credentials) runs
 * every operation once at `logLevel: "DEBUG"`; then every log record, error (message, JSON,
 * `Deno.inspect` with its cause chain), result and client object is scanned for the password,
 * the base64 `auth` value, the identity token and every token the token server issued.
 * Requests go only to the registry and its realm.
 */
import assert from "node:assert/strict";
import {
  AuthTokenWrapper,
  ContainerRegistryClient,
  type ContainerRegistryClientOptions,
  Logger,
  type LogRecord,
  runCredentialHelper,
} from "../mod.ts";
import { type RegistryFixture, startRegistry } from "./_registry.ts";
import { seedStandardImages } from "./_images.ts";
import { recordingFetch } from "./_fault_server.ts";

const IDENTITY_TOKEN = "idt-3f9c2e71-secret-identity";
const WRONG_PASSWORD = "wr0ng-pässwörd:secret";

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
}

/** Everything an application could see or print. */
class Transcript {
  readonly texts: string[] = [];
  readonly records: LogRecord[] = [];

  add(label: string, value: unknown): void {
    this.texts.push(`${label}: ${Deno.inspect(value, { depth: 10, showHidden: true })}`);
    try {
      this.texts.push(`${label} (JSON): ${JSON.stringify(value)}`);
    } catch {
      // not serialisable
    }
    if (value instanceof Error) {
      this.texts.push(`${label} (message): ${value.message}`, `${label} (string): ${value}`);
      for (let cause = value.cause; cause !== undefined; cause = (cause as Error)?.cause) {
        this.texts.push(`${label} (cause): ${Deno.inspect(cause)} ${String(cause)}`);
        if (!(cause instanceof Error)) break;
      }
    }
  }

  /** Runs `fn`, recording what it returns or throws. */
  async run(label: string, fn: () => Promise<unknown>): Promise<unknown> {
    try {
      const value = await fn();
      this.add(label, value);
      return value;
    } catch (error) {
      this.add(`${label} threw`, error);
      return error;
    }
  }

  all(): string {
    return [...this.texts, ...this.records.map((r) => `${r.level} ${r.message}`)].join("\n");
  }
}

/** Every form a secret could take in text. */
function forms(secret: string): string[] {
  const out = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  const parts = secret.split(".");
  if (parts.length === 3) out.add(parts[2]); // a JWT's signature alone is enough to matter
  return [...out].filter((s) => s.length >= 6);
}

interface Scenario {
  name: string;
  registry: () => RegistryFixture;
  options: (dir: string, records: LogRecord[]) => Promise<ContainerRegistryClientOptions>;
  /** Whether the scenario is expected to authenticate (false: wrong credentials). */
  valid: boolean;
}

async function writeAuthFile(dir: string, content: unknown): Promise<string> {
  const path = `${dir}/auth.json`;
  await Deno.writeTextFile(path, JSON.stringify(content));
  return path;
}

async function writeHelper(dir: string, username: string, secret: string): Promise<void> {
  const answer = JSON.stringify({ ServerURL: "", Username: username, Secret: secret });
  await Deno.writeTextFile(
    `${dir}/docker-credential-test`,
    `#!/bin/sh\nread server\ncat <<'EOF'\n${answer}\nEOF\n`,
  );
  await Deno.chmod(`${dir}/docker-credential-test`, 0o755);
}

Deno.test("no secret reaches a log record, an error, a result or a client object", async (t) => {
  await using htpasswd = await startRegistry({ auth: "htpasswd" });
  await using token = await startRegistry({
    auth: "token",
    identityTokens: { [IDENTITY_TOKEN]: "alice" },
  });
  await seedStandardImages(htpasswd);
  await seedStandardImages(token);
  const password = htpasswd.users.alice;
  assert.equal(token.users.alice, password);

  const helperOptions = (dir: string, records: LogRecord[]) => ({
    runHelper: (helper: string, serverUrl: string, { timeoutMs }: { timeoutMs: number }) =>
      runCredentialHelper(helper, serverUrl, {
        timeoutMs,
        path: dir,
        logger: new Logger("DEBUG", (r) => records.push(r)),
      }),
  });
  const scenarios: Scenario[] = [];
  for (const [kind, fixture] of [["htpasswd", () => htpasswd], ["token", () => token]] as const) {
    scenarios.push(
      {
        name: `${kind}: explicit username and password`,
        registry: fixture,
        options: () => Promise.resolve({ username: "alice", password }),
        valid: true,
      },
      {
        name: `${kind}: auth file with a base64 auth value`,
        registry: fixture,
        options: async (dir) => ({
          authFile: await writeAuthFile(dir, {
            auths: { [fixture().host]: { auth: b64(`alice:${password}`) } },
          }),
        }),
        valid: true,
      },
      {
        name: `${kind}: credential helper`,
        registry: fixture,
        options: async (dir, records) => {
          await writeHelper(dir, "alice", password);
          return {
            authFile: await writeAuthFile(dir, { credHelpers: { [fixture().host]: "test" } }),
            ...helperOptions(dir, records),
          };
        },
        valid: true,
      },
      {
        name: `${kind}: a wrong password`,
        registry: fixture,
        options: async (dir) => ({
          authFile: await writeAuthFile(dir, {
            auths: { [fixture().host]: { auth: b64(`alice:${WRONG_PASSWORD}`) } },
          }),
        }),
        valid: false,
      },
    );
  }
  scenarios.push(
    {
      name: "token: identity token from an auth file (POST refresh_token)",
      registry: () => token,
      options: async (dir) => ({
        authFile: await writeAuthFile(dir, {
          auths: { [token.host]: { identitytoken: IDENTITY_TOKEN } },
        }),
      }),
      valid: true,
    },
    {
      name: "token: identity token from a credential helper (<token>)",
      registry: () => token,
      options: async (dir, records) => {
        await writeHelper(dir, "<token>", IDENTITY_TOKEN);
        return {
          authFile: await writeAuthFile(dir, { credHelpers: { [token.host]: "test" } }),
          ...helperOptions(dir, records),
        };
      },
      valid: true,
    },
  );

  const transcripts: Transcript[] = [];
  const allowedHosts = new Set([
    htpasswd.host,
    token.host,
    new URL(token.tokenServer!.url).host,
  ]);
  for (const scenario of scenarios) {
    await t.step(scenario.name, async () => {
      const registry = scenario.registry();
      const h = registry.host;
      const dir = await Deno.makeTempDir({ prefix: "regkit-secrets-" });
      const transcript = new Transcript();
      transcripts.push(transcript);
      const recorder = recordingFetch();
      try {
        const options = await scenario.options(dir, transcript.records);
        await using client = new ContainerRegistryClient({
          env: () => undefined,
          caCerts: [registry.caCert!],
          fetch: recorder.fetch,
          logLevel: "DEBUG",
          onLog: (r) => transcript.records.push(r),
          retries: 1,
          backoff: { baseDelayMs: 1, maxDelayMs: 5 },
          ...options,
        });
        const present = await transcript.run("exists", () => client.exists(`${h}/test/oci:v1`));
        assert.equal(
          (present as { status: string }).status,
          scenario.valid ? "present" : "unknown",
        );
        await transcript.run("exists absent", () => client.exists(`${h}/test/oci:nope`));
        await transcript.run("existsMany", async () => {
          const results = [];
          for await (
            const r of client.existsMany([
              `${h}/test/oci:v1`,
              `${h}/test/docker:v1`,
              `${h}/denied/oci:v1`,
              `${h}/no/such:v1`,
              "Not A Reference",
            ])
          ) results.push(r);
          return results;
        });
        await transcript.run("digest", () => client.digest(`${h}/test/index:v1`));
        await transcript.run("manifest", () => client.manifest(`${h}/test/docker:v1`));
        await transcript.run("inspect", () => client.inspect(`${h}/test/index:v1`));
        await transcript.run("tags", () => client.tags(`${h}/test/oci`));
        await transcript.run("tags denied", () => client.tags(`${h}/denied/oci`));
        await transcript.run("explain", () => client.explainCredentials(`${h}/test/oci:v1`));
        const holder = new AuthTokenWrapper();
        await transcript.run(
          "checkContainerImageExists",
          () => client.checkContainerImageExists(`${h}/test/oci:v1`, holder),
        );
        await transcript.run(
          "checkContainerImageExists denied",
          () => client.checkContainerImageExists(`${h}/denied/oci:v1`, holder),
        );
        transcript.add("holder", holder);
        transcript.add("holder string", String(holder));
        transcript.add("client", client);
        transcript.add("client string", String(client));
        transcript.add("stats", client.stats);
        if (registry.auth === "token") {
          // The token this returns is the point of the call; only failures are scanned.
          const header = `Bearer realm="${registry.tokenServer!.url}",service="${
            registry.tokenServer!.service
          }",scope="repository:test/oci:pull"`;
          try {
            await client.authenticateToRegistry(`${h}/test/oci:v1`, header);
          } catch (error) {
            transcript.add("authenticateToRegistry threw", error);
          }
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
      assert.ok(transcript.records.some((r) => r.level === "DEBUG"), "DEBUG records were made");
      assert.deepEqual(recorder.refused, []);
      for (const url of recorder.urls) {
        assert.ok(allowedHosts.has(new URL(url).host), `request to ${url}`);
      }
    });
  }

  await t.step("the transcripts hold none of the secrets", () => {
    const issued = [
      ...token.tokenServer!.stats.issuedTokens,
      ...htpasswd.tokenServer?.stats.issuedTokens ?? [],
    ];
    assert.ok(issued.length > 0, "the token server issued tokens");
    const secrets = new Map<string, string>();
    for (const form of forms(password)) secrets.set(form, "password");
    for (const form of forms(WRONG_PASSWORD)) secrets.set(form, "wrong password");
    for (const form of forms(b64(`alice:${password}`))) secrets.set(form, "auth value");
    for (const form of forms(b64(`alice:${WRONG_PASSWORD}`))) secrets.set(form, "wrong auth value");
    for (const form of forms(IDENTITY_TOKEN)) secrets.set(form, "identity token");
    for (const [i, issuedToken] of issued.entries()) {
      for (const form of forms(issuedToken)) secrets.set(form, `issued token #${i}`);
    }
    const leaks: string[] = [];
    for (const [i, transcript] of transcripts.entries()) {
      const text = transcript.all();
      assert.ok(text.length > 1000, "the transcript is not empty");
      for (const [secret, what] of secrets) {
        const at = text.indexOf(secret);
        if (at !== -1) {
          leaks.push(
            `${scenarios[i].name}: ${what} in ...${text.slice(Math.max(0, at - 120), at)}`,
          );
        }
      }
    }
    assert.deepEqual(leaks, []);
  });

  await t.step("the scenarios exercised what they claim, and the scan can see a leak", () => {
    const requests = token.tokenServer!.stats.requests;
    assert.ok(requests.some((r) => r.grantType === "refresh_token" && r.status === 200));
    assert.ok(requests.some((r) => r.method === "GET" && r.user === "alice" && r.status === 200));
    assert.ok(requests.some((r) => r.status === 401), "the wrong password was refused");
    for (const [i, scenario] of scenarios.entries()) {
      if (!scenario.name.includes("credential helper")) continue;
      assert.ok(
        transcripts[i].records.some((r) => r.message.includes("docker-credential-test")),
        `${scenario.name}: the helper ran`,
      );
    }
    // control: the same scan over a transcript that does leak finds it
    const control = new Transcript();
    control.add(
      "leaky",
      new Error("x", { cause: { header: `Basic ${b64(`alice:${password}`)}` } }),
    );
    assert.ok(forms(b64(`alice:${password}`)).some((f) => control.all().includes(f)));
  });
});
