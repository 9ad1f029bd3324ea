/**
 * Runs the real `docker-registry` (CNCF distribution v2.8) for integration tests, on a free
 * 127.0.0.1 port in a temp dir, in one of three shapes:
 *
 * - `"none"`: plain HTTP, anonymous;
 * - `"htpasswd"`: TLS + `auth.htpasswd` (bcrypt file made with `htpasswd -B`);
 * - `"token"`: TLS + `auth.token`, with a {@linkcode startTokenServer} fixture as the realm.
 *
 * Use it with `await using registry = await startRegistry({ auth: "token" })`: the registry is
 * stopped by PID (SIGTERM, then SIGKILL) and its temp dir removed even when a test fails.
 *
 * @module
 */

import { getTestCerts } from "./_certs.ts";
import { startTokenServer, type TokenServer } from "./_token_server.ts";

/** How the registry authenticates clients. */
export type RegistryAuth = "none" | "htpasswd" | "token";

/** Options of {@linkcode startRegistry}. */
export interface StartRegistryOptions {
  /** The shape. @default "none" */
  auth?: RegistryAuth;
  /** Users and passwords (htpasswd file / token server). @default DEFAULT_USERS */
  users?: Record<string, string>;
  /** Identity tokens → user for the token server. @default {} */
  identityTokens?: Record<string, string>;
  /** `expires_in` of tokens the token server issues, seconds. @default 300 */
  tokenExpiresIn?: number;
  /** Give up waiting for `/v2/` after this many milliseconds. @default 15000 */
  startTimeout?: number;
  /** The registry executable. @default "docker-registry" */
  binary?: string;
}

/** One request the registry logged. */
export interface RegistryRequest {
  /** HTTP method. */
  method: string;
  /** Request path (with query), e.g. `/v2/test/oci/manifests/v1`. */
  path: string;
  /** Response status. */
  status: number;
}

/** A running registry. */
export interface RegistryFixture {
  /** `127.0.0.1:PORT`, as in image references. */
  host: string;
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  /** The TCP port (kept across {@linkcode RegistryFixture.restart}). */
  port: number;
  /** PID of the current `docker-registry` process. */
  readonly pid: number;
  /** The shape. */
  auth: RegistryAuth;
  /** Whether the registry speaks TLS (`htpasswd` and `token`). */
  tls: boolean;
  /** CA certificate (PEM) that issued the registry's TLS certificate; undefined for `"none"`. */
  caCert: string | undefined;
  /** Path of {@linkcode RegistryFixture.caCert}; undefined for `"none"`. */
  caCertPath: string | undefined;
  /** Users and passwords. */
  users: Record<string, string>;
  /** The token server (realm), for `"token"`. */
  tokenServer: TokenServer | undefined;
  /** The temp dir (config, storage, log). */
  dir: string;
  /** Path of the registry's log file (stdout and stderr). */
  logPath: string;
  /**
   * `fetch` against the registry: a path (`/v2/`) is resolved against `url`, and the CA is
   * trusted. The HTTP client is owned by the fixture.
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /**
   * Every request the registry answered since start (or the last `clearRequests()`), in order,
   * from its access log; includes 401s; leaves out the rig's readiness probes.
   */
  requests(): Promise<RegistryRequest[]>;
  /** Forgets the requests logged so far. */
  clearRequests(): Promise<void>;
  /** Kills the registry (SIGKILL) and starts it again on the same port with the same storage. */
  restart(): Promise<void>;
  /** Kills the registry (SIGKILL) without removing anything; `restart()` brings it back. */
  kill(): Promise<void>;
  /** Stops the registry and the token server, and removes the temp dir. */
  stop(): Promise<void>;
  /** Same as {@linkcode RegistryFixture.stop}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Default test users: passwords with `:` and non-ASCII characters. */
export const DEFAULT_USERS: Readonly<Record<string, string>> = Object.freeze({
  alice: "pa:ss wörd:1",
  admin: "adm:in€pw",
});

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function findRegistryBinary(binary: string): Promise<void> {
  try {
    const output = await new Deno.Command(binary, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (output.success) return;
  } catch {
    // fall through
  }
  throw new Error(
    `Cannot start the test registry: "${binary}" is not installed; ` +
      "run: apt-get install -y docker-registry",
  );
}

async function makeHtpasswd(users: Record<string, string>): Promise<string> {
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    const child = new Deno.Command("htpasswd", {
      args: ["-niB", "-C", "4", user],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(password));
    await writer.close();
    const output = await child.output();
    if (!output.success) {
      throw new Error(
        `Cannot create htpasswd file for "${user}": ${new TextDecoder().decode(output.stderr)}`,
      );
    }
    lines.push(new TextDecoder().decode(output.stdout).trim());
  }
  return lines.join("\n") + "\n";
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // state is the field after the ")" of the command name; Z = zombie
    return !/^\S+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/**
 * Starts `docker-registry` in a temp dir and waits until `/v2/` answers.
 *
 * @example
 * ```ts ignore
 * await using registry = await startRegistry({ auth: "token" });
 * const response = await registry.fetch("/v2/");
 * await response.body?.cancel();
 * ```
 * @throws {Error} When `docker-registry` is missing (the message says how to install it) or the
 * registry does not come up in time.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryFixture> {
  const {
    auth = "none",
    users = { ...DEFAULT_USERS },
    identityTokens = {},
    tokenExpiresIn = 300,
    startTimeout = 15_000,
    binary = "docker-registry",
  } = options;
  if (!["none", "htpasswd", "token"].includes(auth)) {
    throw new TypeError(
      `Cannot start the test registry: auth must be none, htpasswd or token, got "${auth}"`,
    );
  }
  await findRegistryBinary(binary);
  const tls = auth !== "none";
  const certs = tls ? await getTestCerts() : undefined;
  const dir = await Deno.makeTempDir({ prefix: "regkit-registry-" });
  const logPath = `${dir}/registry.log`;
  let tokenServer: TokenServer | undefined;
  let child: Deno.ChildProcess | undefined;
  let httpClient: Deno.HttpClient | undefined;
  let logOffset = 0;

  const cleanup = async () => {
    if (child) await terminate(child);
    child = undefined;
    httpClient?.close();
    httpClient = undefined;
    await tokenServer?.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  try {
    const authConfig: Record<string, unknown> = {};
    if (auth === "htpasswd") {
      await Deno.writeTextFile(`${dir}/htpasswd`, await makeHtpasswd(users));
      authConfig.htpasswd = { realm: "regkit-test-registry", path: `${dir}/htpasswd` };
    } else if (auth === "token") {
      tokenServer = await startTokenServer({
        users,
        identityTokens,
        expiresIn: tokenExpiresIn,
        certs,
      });
      authConfig.token = {
        realm: tokenServer.url,
        service: tokenServer.service,
        issuer: tokenServer.issuer,
        rootcertbundle: certs!.signingCertPath,
      };
    }

    const makeConfig = (port: number) => ({
      version: "0.1",
      log: {
        level: "info",
        formatter: "json",
        accesslog: { disabled: false },
        fields: { service: "registry" },
      },
      storage: {
        filesystem: { rootdirectory: `${dir}/data` },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: `127.0.0.1:${port}`,
        secret: crypto.randomUUID(),
        headers: { "X-Content-Type-Options": ["nosniff"] },
        ...(tls ? { tls: { certificate: certs!.serverCertPath, key: certs!.serverKeyPath } } : {}),
      },
      ...(auth === "none" ? {} : { auth: authConfig }),
    });

    const configPath = `${dir}/config.yml`;
    const launch = async (port: number): Promise<Deno.ChildProcess> => {
      // YAML is a superset of JSON.
      await Deno.writeTextFile(configPath, JSON.stringify(makeConfig(port), null, 2));
      await Deno.writeTextFile(logPath, `--- start on port ${port}\n`, { append: true });
      return new Deno.Command("sh", {
        args: ["-c", `exec "$0" serve "$1" >>"$2" 2>&1`, binary, configPath, logPath],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        cwd: dir,
      }).spawn();
    };

    const newClient = () => {
      httpClient?.close();
      httpClient = tls ? Deno.createHttpClient({ caCerts: [certs!.caCert] }) : undefined;
    };

    const waitUntilUp = async (process: Deno.ChildProcess, url: string): Promise<boolean> => {
      const deadline = Date.now() + startTimeout;
      let exited = false;
      process.status.then(() => exited = true);
      const probe = tls ? Deno.createHttpClient({ caCerts: [certs!.caCert] }) : undefined;
      try {
        while (Date.now() < deadline) {
          if (exited) return false;
          try {
            const response = await fetch(`${url}/v2/`, {
              ...(probe && { client: probe }),
              headers: { "user-agent": PROBE_USER_AGENT },
              signal: AbortSignal.timeout(2000),
            });
            await response.body?.cancel();
            if (response.status === 200 || response.status === 401) return true;
          } catch {
            // not up yet
          }
          await delay(50);
        }
      } finally {
        probe?.close();
      }
      const log = await Deno.readTextFile(logPath).catch(() => "");
      throw new Error(
        `Cannot start the test registry: /v2/ did not answer within ${startTimeout} ms; ` +
          `log tail:\n${log.slice(-2000)}`,
      );
    };

    let port = 0;
    const scheme = tls ? "https" : "http";
    for (let attempt = 0;; attempt++) {
      port = freePort();
      const process = await launch(port);
      child = process;
      if (await waitUntilUp(process, `${scheme}://127.0.0.1:${port}`)) break;
      await terminate(process);
      child = undefined;
      const log = await Deno.readTextFile(logPath).catch(() => "");
      if (attempt >= 3 || !log.includes("address already in use")) {
        throw new Error(
          `Cannot start the test registry: it exited; log tail:\n${log.slice(-2000)}`,
        );
      }
    }
    newClient();
    const url = `${scheme}://127.0.0.1:${port}`;

    // The access log line is written after the response is sent: make a marked probe request
    // and wait for its line, so every earlier request is in the log.
    const syncLog = async () => {
      if (!child || !isAlive(child.pid)) return;
      const marker = crypto.randomUUID();
      try {
        const response = await fetch(`${url}/v2/?rig-sync=${marker}`, {
          ...(httpClient && { client: httpClient }),
          headers: { "user-agent": PROBE_USER_AGENT },
          signal: AbortSignal.timeout(2000),
        });
        await response.body?.cancel();
      } catch {
        return;
      }
      for (let i = 0; i < 100; i++) {
        const text = await Deno.readTextFile(logPath).catch(() => "");
        if (text.includes(marker)) return;
        await delay(20);
      }
    };

    const fixture: RegistryFixture = {
      host: `127.0.0.1:${port}`,
      url,
      port,
      get pid() {
        return child?.pid ?? -1;
      },
      auth,
      tls,
      caCert: certs?.caCert,
      caCertPath: certs?.caCertPath,
      users,
      tokenServer,
      dir,
      logPath,
      fetch(input, init) {
        const target = typeof input === "string" && input.startsWith("/") ? url + input : input;
        return fetch(target, { ...init, client: httpClient } as RequestInit);
      },
      async requests() {
        await syncLog();
        const text = await Deno.readTextFile(logPath).catch(() => "");
        return parseRequests(text.slice(logOffset));
      },
      async clearRequests() {
        const text = await Deno.readTextFile(logPath).catch(() => "");
        logOffset = text.length;
      },
      async kill() {
        if (child) await terminate(child, "SIGKILL");
      },
      async restart() {
        if (child) await terminate(child, "SIGKILL");
        let lastError: unknown;
        // The port was just released; retry briefly if the kernel still holds it.
        for (let attempt = 0; attempt < 20; attempt++) {
          const process = await launch(port);
          child = process;
          try {
            if (await waitUntilUp(process, url)) {
              newClient();
              return;
            }
          } catch (error) {
            lastError = error;
          }
          await terminate(process);
          await delay(100);
        }
        throw new Error("Cannot restart the test registry", { cause: lastError });
      },
      stop: cleanup,
      [Symbol.asyncDispose]: cleanup,
    };
    return fixture;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Stops a process by PID: the signal, a bounded wait, then SIGKILL. */
async function terminate(process: Deno.ChildProcess, signal: Deno.Signal = "SIGTERM") {
  const done = process.status.then(() => true);
  if (isAlive(process.pid)) {
    try {
      process.kill(signal);
    } catch {
      // already exited
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    done,
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), 3000)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      process.kill("SIGKILL");
    } catch {
      // already exited
    }
    await done;
  }
}

/** User agent of the readiness probe; its requests are left out of `requests()`. */
const PROBE_USER_AGENT = "regkit-test-rig-probe";

const ACCESS_LOG_LINE =
  /^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) (?:\d+|-) "(?:[^"\\]|\\.)*" "((?:[^"\\]|\\.)*)"$/;

/**
 * Parses the registry's access log (Apache combined format, one line per request, written for
 * every status including 401s, which the JSON `response completed` lines leave out). Requests of
 * the readiness probe are skipped.
 */
export function parseRequests(log: string): RegistryRequest[] {
  const requests: RegistryRequest[] = [];
  for (const line of log.split("\n")) {
    const match = ACCESS_LOG_LINE.exec(line);
    if (!match || match[4] === PROBE_USER_AGENT) continue;
    requests.push({ method: match[1], path: match[2], status: Number(match[3]) });
  }
  return requests;
}
