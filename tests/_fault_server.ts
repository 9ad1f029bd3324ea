/**
 * Fault fixtures for what a real `docker-registry` cannot do: a `Deno.serve` server on a
 * loopback address that records every request (headers included) and answers with a test's
 * handler, a raw TCP server that can reset connections or write broken HTTP, and a recording
 * `fetch` that refuses (and records) any request to a non-loopback host, so a test can prove
 * that nothing left the machine.
 *
 * @module
 */

/** One request a fault server received. */
export interface RecordedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query, e.g. `/v2/app/manifests/1`. */
  path: string;
  /** The full URL as the server saw it. */
  url: string;
  /** The request headers. */
  headers: Headers;
  /** The `Authorization` header, or null. */
  authorization: string | null;
  /** The request body as text ("" when none). */
  body: string;
}

/** A running fault server. */
export interface FaultServer {
  /** `http://HOST:PORT`. */
  url: string;
  /** `HOST:PORT`, as in image references. */
  host: string;
  /** The TCP port. */
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** How many recorded requests match. */
  count(predicate: (request: RecordedRequest) => boolean): number;
  /** Stops the server (idempotent); aborts the `closing` signal handlers get first. */
  close(): Promise<void>;
  /** Same as {@linkcode FaultServer.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Handles one request; the request body has already been read into `record.body`. */
export type FaultHandler = (
  record: RecordedRequest,
  request: Request,
  closing: AbortSignal,
) => Response | Promise<Response>;

/** Options of {@linkcode startFaultServer}. */
export interface FaultServerOptions {
  /** The loopback address to bind. @default "127.0.0.1" */
  hostname?: string;
}

/**
 * Starts a plain-HTTP `Deno.serve` on a loopback address and a free port. Every request body is
 * read before the handler runs, so no request body is left unconsumed.
 */
export async function startFaultServer(
  handler: FaultHandler,
  options: FaultServerOptions = {},
): Promise<FaultServer> {
  const { hostname = "127.0.0.1" } = options;
  if (!isLoopbackHostname(hostname)) {
    throw new TypeError(`Cannot start a fault server on "${hostname}": loopback only`);
  }
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  const { promise: listening, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname,
    port: 0,
    onListen: (addr) => resolve(addr.port),
    onError: (error) => new Response(`fault server error: ${error}`, { status: 500 }),
  }, async (request) => {
    const url = new URL(request.url);
    const body = request.body === null ? "" : await request.text();
    const record: RecordedRequest = {
      method: request.method,
      path: url.pathname + url.search,
      url: request.url,
      headers: request.headers,
      authorization: request.headers.get("authorization"),
      body,
    };
    requests.push(record);
    return await handler(record, request, closing.signal);
  });
  const port = await listening;
  let closed: Promise<void> | undefined;
  const close = () => {
    closing.abort(); // ends every stalled handler, so shutdown does not wait for them
    closed ??= server.shutdown().then(() => server.finished);
    return closed;
  };
  const hostPart = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${hostPart}:${port}`,
    host: `${hostPart}:${port}`,
    port,
    requests,
    count: (predicate) => requests.filter(predicate).length,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A JSON response. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** An OCI error body response, e.g. `errorResponse(404, "MANIFEST_UNKNOWN")`. */
export function errorResponse(
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse({ errors: [{ code, message: code.toLowerCase(), detail: null }] }, status, {
    ...headers,
  });
}

/**
 * A body stream that produces `chunkSize`-byte chunks on demand, forever (or up to `total`
 * bytes), and records how much it produced and whether the reader cancelled it.
 */
export function countingStream(
  options: { chunkSize?: number; total?: number; fill?: number } = {},
): { stream: ReadableStream<Uint8Array>; produced: () => number; cancelled: () => boolean } {
  const { chunkSize = 64 * 1024, total = Infinity, fill = 0x61 } = options;
  let produced = 0;
  let cancelled = false;
  const chunk = new Uint8Array(chunkSize).fill(fill);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunkSize, total - produced);
      produced += size;
      controller.enqueue(size === chunkSize ? chunk.slice() : chunk.slice(0, size));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, produced: () => produced, cancelled: () => cancelled };
}

/** Whether `hostname` (no port; brackets allowed) is a loopback name or address. */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A `fetch` that records every URL and refuses any host that is not loopback. */
export interface RecordingFetch {
  /** Pass as the client's `fetch` option. */
  fetch: typeof fetch;
  /** Every URL asked for, in order (refused ones included). */
  urls: string[];
  /** URLs refused because their host is not loopback. */
  refused: string[];
  /** Throws when anything was refused. */
  assertLoopbackOnly(): void;
}

/**
 * Wraps `globalThis.fetch`: records every URL, and answers a request to a non-loopback host
 * with a network error without sending anything.
 */
export function recordingFetch(): RecordingFetch {
  const urls: string[] = [];
  const refused: string[] = [];
  const wrapped = (input: Request | URL | string, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    urls.push(url.href);
    if (!isLoopbackHostname(url.hostname)) {
      refused.push(url.href);
      return Promise.reject(new TypeError(`test fetch refused non-loopback ${url.origin}`));
    }
    return globalThis.fetch(input, init);
  };
  return {
    fetch: wrapped as typeof fetch,
    urls,
    refused,
    assertLoopbackOnly() {
      if (refused.length > 0) {
        throw new Error(`Requests to non-loopback hosts were attempted: ${refused.join(", ")}`);
      }
    },
  };
}

/** A raw HTTP/1.1 request as read off a socket. */
export interface RawRequest {
  /** HTTP method. */
  method: string;
  /** Request target (path and query). */
  path: string;
  /** Header fields (names lowercased). */
  headers: Headers;
  /** The body bytes (Content-Length or chunked). */
  body: Uint8Array;
  /** 0-based index of this request on the server. */
  index: number;
}

/** What a raw handler does with one connection's request. */
export type RawHandler = (request: RawRequest, conn: Deno.Conn) => Promise<void>;

/** A running raw TCP server. */
export interface RawServer {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** The port. */
  port: number;
  /** Connections accepted (TLS probes included). */
  readonly connections: number;
  /** TLS ClientHellos answered with a plain-HTTP 400 (as a real HTTP server does). */
  readonly tlsProbes: number;
  /** Every HTTP request read, in order. */
  requests: RawRequest[];
  /** Stops accepting, closes open connections, waits for handlers. */
  close(): Promise<void>;
  /** Same as {@linkcode RawServer.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOfCrlfCrlf(bytes: Uint8Array, from = 0): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads one HTTP/1.1 request (head + body) from `conn`; undefined when the peer closed first. */
async function readRequest(
  conn: Deno.Conn,
  firstChunk: Uint8Array,
): Promise<Omit<RawRequest, "index"> | undefined> {
  let buffer = firstChunk;
  const chunk = new Uint8Array(64 * 1024);
  let end = indexOfCrlfCrlf(buffer);
  while (end === -1) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    buffer = concat(buffer, chunk.subarray(0, n));
    end = indexOfCrlfCrlf(buffer);
  }
  const head = decoder.decode(buffer.subarray(0, end)).split("\r\n");
  const [method, path] = head[0].split(" ");
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let rest = buffer.subarray(end + 4);
  const more = async () => {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("peer closed mid-body");
    rest = concat(rest, chunk.subarray(0, n));
  };
  let body: Uint8Array = new Uint8Array();
  if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const parts: Uint8Array[] = [];
    for (;;) {
      let lineEnd = -1;
      while ((lineEnd = rest.findIndex((b, i) => b === 13 && rest[i + 1] === 10)) === -1) {
        await more();
      }
      const size = parseInt(decoder.decode(rest.subarray(0, lineEnd)), 16);
      rest = rest.subarray(lineEnd + 2);
      while (rest.length < size + 2) await more();
      if (size === 0) break;
      parts.push(rest.slice(0, size));
      rest = rest.subarray(size + 2);
    }
    body = parts.reduce(concat, new Uint8Array());
  } else {
    const length = Number(headers.get("content-length") ?? 0);
    while (rest.length < length) await more();
    body = rest.slice(0, length);
  }
  return { method, path, headers, body };
}

/**
 * Starts a raw TCP server on 127.0.0.1 that reads one HTTP/1.1 request per connection and hands
 * it to `handler`, which writes what it likes (or nothing) and returns; the connection is then
 * closed. A TLS ClientHello is answered with a plain-HTTP 400, as a real HTTP server does, so a
 * client probing https learns that the server speaks HTTP.
 */
export function startRawServer(handler: RawHandler): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const requests: RawRequest[] = [];
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let connections = 0;
  let tlsProbes = 0;
  let closing = false;

  const serve = async (conn: Deno.Conn) => {
    try {
      const first = new Uint8Array(64 * 1024);
      const n = await conn.read(first);
      if (n === null) return;
      if (first[0] === 0x16) {
        tlsProbes++;
        await conn.write(encoder.encode(
          "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        ));
        return;
      }
      const raw = await readRequest(conn, first.slice(0, n));
      if (raw === undefined) return;
      const request: RawRequest = { ...raw, index: requests.length };
      requests.push(request);
      await handler(request, conn);
    } catch {
      // the peer went away, or the server is closing
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };

  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      if (closing) {
        conn.close();
        continue;
      }
      connections++;
      open.add(conn);
      const task = serve(conn);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      listener.close();
      await accepting;
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await Promise.allSettled([...tasks]);
    })();
    return closed;
  };
  return {
    host: `127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    get tlsProbes() {
      return tlsProbes;
    },
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Writes a complete HTTP/1.1 response (with `Connection: close`) to `conn`. */
export async function writeResponse(
  conn: Deno.Conn,
  status: number,
  headers: Record<string, string> | Headers,
  body: Uint8Array | string = "",
  options: { head?: boolean } = {},
): Promise<void> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const fields = new Headers(headers);
  fields.set("connection", "close");
  if (!fields.has("content-length")) fields.set("content-length", String(bytes.length));
  let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Status"}\r\n`;
  for (const [name, value] of fields) text += `${name}: ${value}\r\n`;
  text += "\r\n";
  await writeAll(conn, encoder.encode(text));
  if (!options.head && bytes.length > 0) await writeAll(conn, bytes);
}

/** Writes every byte. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Resolves after `ms` milliseconds, or early when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** What {@linkcode imageResponse} serves: one image under a repository. */
export interface ServedImage {
  /** e.g. `app`. */
  repository: string;
  /** Tags that resolve to the image. */
  tags: string[];
  /** The manifest bytes. */
  manifest: Uint8Array;
  /** The manifest digest. */
  digest: string;
  /** The manifest media type. */
  mediaType: string;
  /** Blobs by digest. */
  blobs: Map<string, Uint8Array>;
}

/**
 * Answers manifest (HEAD/GET by tag or digest) and blob requests for `image` as a registry does;
 * 404 with an OCI error for anything else under `/v2/<repository>/`; undefined for other paths.
 */
export function imageResponse(
  record: Pick<RecordedRequest, "method" | "path">,
  image: ServedImage,
): Response | undefined {
  const path = record.path.split("?")[0];
  const prefix = `/v2/${image.repository}/`;
  if (!path.startsWith(prefix)) return undefined;
  const [kind, reference] = path.slice(prefix.length).split("/");
  const head = record.method === "HEAD";
  if (kind === "manifests") {
    if (reference !== image.digest && !image.tags.includes(reference)) {
      return errorResponse(404, "MANIFEST_UNKNOWN");
    }
    return new Response(head ? null : image.manifest as BodyInit, {
      headers: {
        "content-type": image.mediaType,
        "docker-content-digest": image.digest,
        "content-length": String(image.manifest.length),
      },
    });
  }
  if (kind === "blobs") {
    const blob = image.blobs.get(reference);
    if (blob === undefined) return errorResponse(404, "BLOB_UNKNOWN");
    return new Response(head ? null : blob as BodyInit, {
      headers: {
        "content-type": "application/octet-stream",
        "docker-content-digest": reference,
        "content-length": String(blob.length),
      },
    });
  }
  return errorResponse(404, "NAME_UNKNOWN");
}
