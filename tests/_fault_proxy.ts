/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the real (TLS) `docker-registry` and its
 * token server. The client talks plain HTTP to the proxy (allowed on loopback); the proxy
 * forwards with `fetch` and the test CA, and rewrites the registry's `WWW-Authenticate` realm to
 * point at its own `/token`, which it forwards to the token server.
 *
 * Faults come from a seeded schedule that depends only on (seed, method, path, attempt number
 * of that method and path), so what a reference goes through does not depend on the order in
 * which concurrent requests arrive. Each connection carries one request (`Connection: close`),
 * so a reset hits exactly one request.
 *
 * @module
 */

import {
  pause,
  type RawRequest,
  startRawServer,
  writeAll,
  writeResponse,
} from "./_fault_server.ts";

/** What the proxy can do to a request. */
export type FaultKind =
  /** Close the connection before writing anything. */
  | "reset"
  /** Write part of the status line and headers, then close. */
  | "reset-mid-headers"
  /** Write complete headers (with the full Content-Length) and half the body, then close. */
  | "truncate"
  /** Answer 503. */
  | "503"
  /** Answer 429 with `Retry-After: 0`. */
  | "429"
  /** Answer 429 with `Retry-After: 3600` (longer than any client will wait). */
  | "429-long"
  /** Write nothing for `slowMs`, then close. */
  | "slow"
  /** Answer 502 (token endpoint). */
  | "502";

/** Faults that fit a request to the registry API, by method. */
export const REGISTRY_FAULTS: Readonly<Record<"HEAD" | "GET", readonly FaultKind[]>> = {
  HEAD: ["reset", "reset-mid-headers", "503", "429", "429-long", "slow"],
  GET: ["reset", "reset-mid-headers", "truncate", "503", "429", "slow"],
};
/** Faults that fit a token request. */
export const TOKEN_FAULTS: readonly FaultKind[] = ["502", "reset", "truncate", "slow"];

/** One request the proxy handled. */
export interface ProxyEvent {
  /** HTTP method. */
  method: string;
  /** Path and query as received. */
  path: string;
  /** `METHOD path`: the schedule's key. */
  key: string;
  /** 0-based attempt number of this key. */
  attempt: number;
  /** The injected fault, if any. */
  fault?: FaultKind;
  /** The status written (upstream's or the fault's), if any. */
  status?: number;
}

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The registry, e.g. `https://127.0.0.1:5000`. */
  upstream: string;
  /** The token server's realm, e.g. `https://127.0.0.1:6000/token`. */
  tokenRealm?: string;
  /** CA certificate (PEM) trusted for the upstreams. */
  caCert?: string;
  /** Seed of the schedule. @default 1 */
  seed?: number;
  /** Share of requests faulted at random, 0 to 1. @default 0 */
  rate?: number;
  /** How long a `slow` fault stalls, in ms. @default 2000 */
  slowMs?: number;
  /** A fault a request gets whatever the schedule says (`attempt`: of this method and path). */
  sticky?: (method: string, path: string, attempt: number) => FaultKind | undefined;
  /** Requests never faulted at random (e.g. the `/v2/` ping). */
  exempt?: (method: string, path: string) => boolean;
}

/** A running proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT`, to use in image references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request handled, in order of arrival. */
  events: ProxyEvent[];
  /** Requests received, TLS probes included (one per connection). */
  readonly connections: number;
  /** Changes the random fault rate from now on. */
  setRate(rate: number): void;
  /** Stops the proxy. */
  close(): Promise<void>;
  /** Same as {@linkcode FaultProxy.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

/** Starts the proxy on 127.0.0.1 at a free port. */
export function startFaultProxy(options: FaultProxyOptions): FaultProxy {
  const { upstream, tokenRealm, caCert, seed = 1, slowMs = 2000, sticky, exempt } = options;
  let rate = options.rate ?? 0;
  const client = caCert === undefined ? undefined : Deno.createHttpClient({ caCerts: [caCert] });
  const attempts = new Map<string, number>();
  const events: ProxyEvent[] = [];
  const closing = new AbortController();
  let proxyUrl = "";

  const decide = (request: RawRequest, key: string, attempt: number): FaultKind | undefined => {
    const forced = sticky?.(request.method, request.path, attempt);
    if (forced !== undefined) return forced;
    if (exempt?.(request.method, request.path)) return undefined;
    const random = mulberry32(fnv1a(`${seed}|${key}|${attempt}`));
    if (random() >= rate) return undefined;
    const kinds = request.path.startsWith("/token")
      ? TOKEN_FAULTS
      : REGISTRY_FAULTS[request.method === "HEAD" ? "HEAD" : "GET"];
    return kinds[Math.floor(random() * kinds.length)];
  };

  const forward = async (request: RawRequest): Promise<Response> => {
    const target = request.path.startsWith("/token") && tokenRealm !== undefined
      ? new URL(tokenRealm.replace(/\/token$/, "") + request.path)
      : new URL(request.path, upstream);
    const headers = new Headers(request.headers);
    for (const name of ["host", "connection", "content-length", "transfer-encoding"]) {
      headers.delete(name);
    }
    return await fetch(target, {
      method: request.method,
      headers,
      redirect: "manual",
      ...(request.body.length > 0 ? { body: request.body as BodyInit } : {}),
      ...(client === undefined ? {} : { client }),
    } as RequestInit);
  };

  const server = startRawServer(async (request, conn) => {
    const key = `${request.method} ${request.path}`;
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const fault = decide(request, key, attempt);
    const event: ProxyEvent = { method: request.method, path: request.path, key, attempt };
    if (fault !== undefined) event.fault = fault;
    events.push(event);
    const head = request.method === "HEAD";
    switch (fault) {
      case "reset":
        return;
      case "slow":
        await pause(slowMs, closing.signal);
        return;
      case "503":
      case "502":
      case "429":
      case "429-long": {
        const status = Number(fault.slice(0, 3));
        event.status = status;
        const retryAfter: Record<string, string> = fault === "429"
          ? { "retry-after": "0" }
          : fault === "429-long"
          ? { "retry-after": "3600" }
          : {};
        const code = status === 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE";
        await writeResponse(
          conn,
          status,
          { "content-type": "application/json", ...retryAfter },
          JSON.stringify({ errors: [{ code, message: "injected fault" }] }),
          { head },
        );
        return;
      }
    }
    let response: Response;
    try {
      response = await forward(request);
    } catch {
      return; // upstream down: the client sees a reset
    }
    const body = new Uint8Array(await response.arrayBuffer());
    event.status = response.status;
    const headers = new Headers();
    for (const [name, value] of response.headers) {
      if (["connection", "transfer-encoding", "keep-alive", "content-length"].includes(name)) {
        continue;
      }
      headers.append(
        name,
        name === "www-authenticate" && tokenRealm !== undefined
          ? value.replaceAll(tokenRealm, `${proxyUrl}/token`)
          : value,
      );
    }
    headers.set(
      "content-length",
      head ? response.headers.get("content-length") ?? "0" : String(body.length),
    );
    if (fault === "reset-mid-headers" || (fault === "truncate" && body.length === 0)) {
      await writeAll(conn, encoder.encode(`HTTP/1.1 ${response.status} OK\r\ncontent-ty`));
      return;
    }
    if (fault === "truncate") {
      let text = `HTTP/1.1 ${response.status} OK\r\nconnection: close\r\n`;
      for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
      await writeAll(conn, encoder.encode(text + "\r\n"));
      await writeAll(conn, body.subarray(0, Math.floor(body.length / 2)));
      return;
    }
    await writeResponse(conn, response.status, headers, body, { head });
  });
  proxyUrl = `http://${server.host}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing.abort();
      await server.close();
      client?.close();
    })();
    return closed;
  };
  return {
    host: server.host,
    url: proxyUrl,
    events,
    get connections() {
      return server.connections;
    },
    setRate(value: number) {
      rate = value;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
