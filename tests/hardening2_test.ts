/**
 * #11 hardening, second wave: answers from hosts that are not registries, bad option values,
 * `logLevel` without `onLog`, registry text on the terminal, `--from-file -` that trickles.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerRegistryClient } from "../mod.ts";
import { main } from "../cli.ts";

function notARegistry(): {
  host: string;
  requests: string[];
  [Symbol.asyncDispose](): Promise<void>;
} {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    requests.push(`${request.method} ${new URL(request.url).pathname}`);
    return new Response("404 page not found\n", { status: 404 });
  });
  return {
    host: `127.0.0.1:${server.addr.port}`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function sink(chunks: Uint8Array[]) {
  return { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)) };
}
const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join("");

Deno.test("a host whose /v2/ answers 404 is not a registry: unknown, never absent (#11 item 7)", async () => {
  await using server = notARegistry();
  await using client = new ContainerRegistryClient({ env: () => undefined, retries: 0 });
  const one = await client.exists(`${server.host}/org/app:1`);
  assert.equal(one.status, "unknown");
  assert.ok(one.status === "unknown" && /not a registry/.test(one.message), JSON.stringify(one));
  const many = [];
  for await (const r of client.existsMany([`${server.host}/a:1`, `${server.host}/b:2`])) {
    many.push(r.status);
  }
  assert.deepEqual(many, ["unknown", "unknown"]);
  const signed = await client.signed(`${server.host}/org/app:1`);
  assert.equal(signed.status, "unknown");
  const out: Uint8Array[] = [];
  const code = await main(["exists", `${server.host}/org/app:1`], {
    stdout: sink(out),
    stderr: sink([]),
    env: () => undefined,
    isTerminal: () => false,
  });
  assert.equal(code, 3);
  assert.match(text(out), /^unknown .* UNEXPECTED_STATUS: .*not a registry/);
});

function answering(response: () => Response) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, response);
  return { host: `127.0.0.1:${server.addr.port}`, [Symbol.asyncDispose]: () => server.shutdown() };
}

/** `regkit login --authfile FILE --username u --password-stdin HOST`, in-process. */
async function login(host: string, authFile: string) {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const code = await main(
    ["login", "--authfile", authFile, "--username", "u", "--password-stdin", host],
    {
      stdout: sink(out),
      stderr: sink(err),
      env: () => undefined,
      isTerminal: () => false,
      stdin: new Blob(["secret\n"]).stream(),
    },
  );
  return { code, out, err };
}

Deno.test("login stores nothing unless a registry answered (#11 item 6)", async (t) => {
  const cases: Array<[string, () => Response, number, RegExp]> = [
    ["/v2/ 404", () => new Response("nope", { status: 404 }), 3, /answered 404/],
    ["/v2/ 403", () => new Response("forbidden", { status: 403 }), 3, /answered 403/],
    [
      "401 without a challenge",
      () => new Response("", { status: 401 }),
      3,
      /401 without a challenge/,
    ],
    [
      "200 HTML page",
      () => new Response("<html>portal</html>", { headers: { "content-type": "text/html" } }),
      3,
      /answered 200, not as a registry API does/,
    ],
  ];
  for (const [name, answer, exit, message] of cases) {
    await t.step(name, async () => {
      await using server = answering(answer);
      const dir = await Deno.makeTempDir();
      try {
        const { code, out, err } = await login(server.host, `${dir}/auth.json`);
        assert.equal(code, exit, text(err));
        assert.match(text(err), message);
        assert.doesNotMatch(text(out), /Login Succeeded/);
        await assert.rejects(Deno.stat(`${dir}/auth.json`), Deno.errors.NotFound, "nothing stored");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
  await t.step("a registry API that needs no login: stored, as docker does", async () => {
    await using server = answering(() =>
      Response.json({}, { headers: { "docker-distribution-api-version": "registry/2.0" } })
    );
    const dir = await Deno.makeTempDir();
    try {
      const { code, out } = await login(server.host, `${dir}/auth.json`);
      assert.equal(code, 0);
      assert.match(text(out), /Login Succeeded/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("logLevel without onLog writes records to stderr; with onLog, only onLog gets them (#11 item 25)", async () => {
  const script = `
    import { ContainerRegistryClient } from ${
    JSON.stringify(new URL("../mod.ts", import.meta.url).href)
  };
    const mode = Deno.args[0];
    const client = new ContainerRegistryClient({
      env: () => undefined,
      retries: 0,
      ...(mode === "none" ? {} : { logLevel: "DEBUG" }),
      ...(mode === "onLog" ? { onLog: () => {} } : {}),
    });
    await client.exists("127.0.0.1:1/org/app:1");
    client.close();
  `;
  const run = async (mode: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script, mode],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stderr);
  };
  assert.match(await run("logLevel"), /^regkit: DEBUG: /m);
  assert.doesNotMatch(await run("onLog"), /regkit: /);
  assert.doesNotMatch(await run("none"), /regkit: /);
});

Deno.test("bad values get the documented outcome, naming the flag (#11 item 19)", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: Array<[string[], number, RegExp]> = [
      [
        ["--timeout", "2147484", "exists", "127.0.0.1:1/a:1"],
        2,
        /--timeout "2147484".*at most 2147483 \(USAGE\)/,
      ],
      [["--timeout", "1e300", "exists", "127.0.0.1:1/a:1"], 2, /--timeout "1e300"/],
      [["exists", "--from-file", dir], 2, /a directory, not a file \(INVALID_CONFIG\)/],
      [["--authfile", "", "exists", "127.0.0.1:1/a:1"], 2, /--authfile "": name a file \(USAGE\)/],
      [["--retries", "-1", "exists", "127.0.0.1:1/a:1"], 2, /--retries "-1": expected an integer/],
      [
        ["--insecure-registry", "bogus::::", "exists", "127.0.0.1:1/a:1"],
        2,
        /"bogus::::" is not a registry host/,
      ],
    ];
    for (const [args, exit, message] of cases) {
      await t.step(args.join(" "), async () => {
        const err: Uint8Array[] = [];
        const code = await main(args, {
          stdout: sink([]),
          stderr: sink(err),
          env: () => undefined,
          isTerminal: () => false,
        });
        assert.equal(code, exit, text(err));
        assert.match(text(err), message);
        assert.doesNotMatch(text(err), /TimeoutOverflowWarning|INTERNAL/);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("registry text never reaches the terminal raw (#11 item 18)", async () => {
  const hostile = [
    "good",
    "evil\nunknown forged",
    "\u001b]52;c;ZXZpbA==\u0007",
    "x\u001b[2J",
    "ok-2",
  ];
  await using server = answering(() => Response.json({ name: "org/app", tags: hostile }));
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const code = await main(["tags", `${server.host}/org/app`], {
    stdout: sink(out),
    stderr: sink(err),
    env: () => undefined,
    isTerminal: () => false,
  });
  assert.equal(code, 0, text(err));
  assert.equal(text(out), "good\nok-2\n");
  assert.match(text(err), /3 name\(s\) that are not valid tags/);
  assert.ok(!(text(out) + text(err)).includes("\u001b"), "no raw ESC anywhere");
  assert.match(text(err), /\\x1b\]52;c;ZXZpbA==\\x07/);
  const refOut: Uint8Array[] = [];
  const refCode = await main(["exists", "bad\u001b[2Jref"], {
    stdout: sink(refOut),
    stderr: sink([]),
    env: () => undefined,
    isTerminal: () => false,
  });
  assert.equal(refCode, 3);
  assert.ok(!text(refOut).includes("\u001b"));
  assert.match(text(refOut), /^unknown bad\\x1b\[2Jref INVALID_REFERENCE/);
});

Deno.test("exists --from-file - answers each line as it arrives (#11 item 12)", async () => {
  await using server = notARegistry();
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const stdin = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const stdout = {
    write: (p: Uint8Array) => {
      lines.push(...new TextDecoder().decode(p).split("\n").filter(Boolean));
      wake?.();
      return Promise.resolve(p.length);
    },
  };
  const answered = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (lines.length >= n ? resolve() : (wake = check));
      check();
    });
  const running = main(["--retries", "0", "exists", "--from-file", "-"], {
    stdout,
    stderr: sink([]),
    stdin,
    env: () => undefined,
    isTerminal: () => false,
  });
  // One line at a time: each answer must come before the next line is even written.
  for (let i = 1; i <= 3; i++) {
    feed.enqueue(new TextEncoder().encode(`${server.host}/org/app:${i}\n`));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error("no answer before the next line: --from-file - does not stream")),
        20_000,
      )
    );
    try {
      await Promise.race([answered(i), stuck]);
    } finally {
      clearTimeout(timer);
    }
    assert.match(lines[i - 1], new RegExp(`^unknown ${server.host}/org/app:${i} `));
  }
  feed.close();
  assert.equal(await running, 3);
  assert.equal(lines.length, 3);
});
