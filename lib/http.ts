/**
 * One logical HTTP exchange: retries with backoff, a timeout per attempt
 * (body included), bounded bodies, manual redirects that never carry
 * `Authorization` to another origin, and redacted debug logging.
 *
 * @module
 */

import { RegistryError, TEMPORARY_STATUSES } from "./errors.ts";
import type { Logger } from "./log.ts";
import { backoffDelay, type RetryPolicy, sleep } from "./retry.ts";
import { parseRetryAfter } from "./retry_after.ts";
import { redactUrl } from "./_redact.ts";
import { isLoopbackHost, mayReachHost } from "./host.ts";

/** The `fetch` signature regkit calls (Deno's, with its `client` extension). */
export type FetchFunction = (
  input: Request | URL | string,
  init?: RequestInit & { client?: Deno.HttpClient },
) => Promise<Response>;

/** Largest error body read (the rest is discarded). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_REDIRECTS = 5;

/** Settings shared by every exchange of one client. */
export interface HttpSettings {
  fetch: FetchFunction;
  client?: Deno.HttpClient;
  retry: RetryPolicy;
  timeoutMs: number;
  userAgent: string;
  logger: Logger;
}

/** One request. */
export interface HttpRequest {
  method: string;
  url: URL;
  /** Request headers, lowercase names (a plain object: copied once, validated once by `fetch`). */
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  /** Largest successful body accepted; more is `RESPONSE_TOO_LARGE`. */
  maxBytes: number;
  signal?: AbortSignal;
  /**
   * Whether a redirect from https to plain http may be followed: true for
   * insecure registries. Loopback hosts may always; anything else is refused
   * with `INSECURE_REGISTRY`.
   */
  allowHttp?: boolean;
  /** What the request is for, used in error messages, e.g. `"quay.io/org/app:1"`. */
  what: string;
}

/** A complete answer: status, headers and the (bounded) body. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** The final URL after redirects. */
  url: URL;
}

/** Counts of what a client sent, for tests and benchmarks. */
export interface HttpStats {
  /** Exchanges attempted on the wire (each retry and redirect hop counts). */
  requests: number;
  /** Retries made after temporary failures. */
  retries: number;
}

class AttemptError extends Error {
  constructor(readonly registryError: RegistryError, readonly retryable: boolean) {
    super(registryError.message);
  }
}

function isTlsMismatch(error: unknown): boolean {
  const text = String(error instanceof Error ? `${error.message} ${error.cause ?? ""}` : error);
  return /InvalidContentType|corrupt message|wrong version number|record overflow|http request to an https server|HTTP\/1\.[01] 400/i
    .test(text);
}

function isCertificateError(error: unknown): boolean {
  const text = String(error instanceof Error ? `${error.message} ${error.cause ?? ""}` : error);
  return /certificate|UnknownIssuer|NotValidForName|self.signed|BadSignature/i.test(text);
}

/** Why a certificate is not trusted, and what to do about it (no secrets: Deno's reason only). */
function certificateProblem(error: unknown, host: string): string {
  const text = String(error instanceof Error ? `${error.message} ${error.cause ?? ""}` : error);
  if (/NotValidForName|not valid for name/i.test(text)) {
    return `the certificate does not name ${JSON.stringify(host)}`;
  }
  if (/Expired|NotValidYet/i.test(text)) return "the certificate is expired or not yet valid";
  return "issued by an unknown authority; pass the registry's CA with --ca-cert FILE " +
    "(library: the caCerts option)";
}

const NETWORK_REASONS: Array<[RegExp, string]> = [
  [/connection refused/i, "connection refused"],
  [/connection reset|reset by peer/i, "connection reset"],
  [/broken pipe/i, "connection closed"],
  [
    /connection closed|closed before message completed|unexpected eof|end of file/i,
    "connection closed early",
  ],
  [/dns error|failed to lookup|name or service not known|no address/i, "host name not resolved"],
  [/network is unreachable|no route to host/i, "network unreachable"],
  [
    /InvalidContentType|corrupt message|wrong version number/i,
    "TLS handshake failed (plain HTTP?)",
  ],
  [/handshake|tls|ssl/i, "TLS handshake failed"],
];

/** A short, secret-free reason for a network failure. */
function networkReason(error: unknown): string {
  const text = error instanceof Error
    ? `${error.message} ${String(error.cause ?? "")}`
    : String(error);
  for (const [pattern, reason] of NETWORK_REASONS) if (pattern.test(text)) return reason;
  return "connection failed";
}

/** What a bad argument to `fetch` says (checked first: a header value may contain any word). */
const BAD_ARGUMENT =
  /^(?:invalid header|header name|cannot convert argument to a ByteString|invalid url|url scheme|request with (?:get|head) method cannot have body|failed to construct)/i;
/** What a network failure says (Deno's `fetch` reports them all as `TypeError`). */
const NETWORK_FAILURE =
  /fetch failed|error sending request|error reading a body|body error|connection|network|socket|refused|reset|broken pipe|eof|end of file|dns|lookup|unreachable|no route|timed out|tls|ssl|handshake|certificate/i;

/**
 * Whether a failed `fetch` (or body read) is the network's doing, to report
 * as a retryable `NETWORK`: a `TypeError` only when it says so; a `RangeError`
 * never (both are how a bad argument fails); anything else (`Deno.errors.*`).
 */
function isNetworkFailure(error: unknown): boolean {
  if (error instanceof RangeError) return false;
  if (!(error instanceof TypeError)) return true;
  if (BAD_ARGUMENT.test(error.message)) return false;
  const causes: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    causes.push(e.message);
    e = e.cause;
  }
  return NETWORK_FAILURE.test(causes.join(" "));
}

/** Whether `error` says the server spoke plain HTTP to our TLS client. */
export function isPlainHttpAnswer(error: unknown): boolean {
  return error instanceof RegistryError && error.cause instanceof Error &&
    isTlsMismatch(error.cause);
}

async function readBounded(
  response: Response,
  limit: number,
  truncate: boolean,
  what: string,
): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array();
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (!truncate && Number.isFinite(declared) && declared > limit) {
    await response.body.cancel();
    throw new RegistryError(
      "RESPONSE_TOO_LARGE",
      `Cannot read the answer for ${
        JSON.stringify(what)
      }: ${declared} bytes exceeds the limit of ${limit}`,
      { status: response.status },
    );
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > limit) {
        await reader.cancel();
        if (truncate) {
          chunks.push(value.subarray(0, limit - size));
          size = limit;
          break;
        }
        throw new RegistryError(
          "RESPONSE_TOO_LARGE",
          `Cannot read the answer for ${JSON.stringify(what)}: more than ${limit} bytes`,
          { status: response.status },
        );
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Sends requests with the client's settings. Internal plumbing. */
export class Http {
  readonly #settings: HttpSettings;
  /** What was sent. */
  readonly stats: HttpStats = { requests: 0, retries: 0 };

  constructor(settings: HttpSettings) {
    this.#settings = settings;
  }

  /** The time limit of one attempt, in milliseconds. */
  get timeoutMs(): number {
    return this.#settings.timeoutMs;
  }

  /** Retries after the first attempt of an exchange. */
  get retries(): number {
    return this.#settings.retry.retries;
  }

  /**
   * Sends `request`, retrying temporary failures. Non-2xx answers are
   * returned, not thrown, once retries are spent (or when not retryable).
   */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const { retry } = this.#settings;
    const { retries } = retry;
    for (let attempt = 0;; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await this.#attempt(request);
        if (!TEMPORARY_STATUSES.has(response.status) || attempt >= retries) return response;
        retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        const delay = backoffDelay(attempt, retry, { retryAfterMs });
        if (delay === undefined) return response; // server asks for a longer wait than we allow
        this.#settings.logger.debug(
          `retrying ${request.method} ${
            redactUrl(request.url)
          } after ${response.status} in ${delay} ms`,
        );
        this.stats.retries++;
        await sleep(delay, request.signal);
      } catch (error) {
        if (!(error instanceof AttemptError)) throw error;
        if (!error.retryable || attempt >= retries) throw error.registryError;
        const delay = backoffDelay(attempt, retry) ?? 0;
        this.#settings.logger.debug(
          `retrying ${request.method} ${
            redactUrl(request.url)
          } after ${error.registryError.code} in ${delay} ms`,
        );
        this.stats.retries++;
        await sleep(delay, request.signal);
      }
    }
  }

  async #attempt(request: HttpRequest): Promise<HttpResponse> {
    const { fetch, client, timeoutMs, userAgent, logger } = this.#settings;
    if (request.signal?.aborted) {
      throw new RegistryError(
        "ABORTED",
        `Cannot finish ${JSON.stringify(request.what)}: aborted`,
      );
    }
    // A timer cleared when the attempt ends: AbortSignal.timeout() would keep every attempt's
    // signal (and what fetch hangs on it) alive for the full timeout, which adds up in bulk runs.
    const timeoutController = new AbortController();
    const timeout = timeoutController.signal;
    const timer = setTimeout(() => timeoutController.abort(), timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    let url = request.url;
    let method = request.method;
    let body = request.body;
    const headers: Record<string, string> = { ...request.headers, "user-agent": userAgent };
    const authOrigin = url.origin;
    try {
      for (let hop = 0;; hop++) {
        const started = logger.enabled("DEBUG") ? performance.now() : 0;
        this.stats.requests++;
        const init: RequestInit & { client?: Deno.HttpClient } = {
          method,
          headers,
          redirect: "manual",
          signal,
        };
        if (body !== undefined) init.body = body;
        if (client !== undefined) init.client = client;
        const response = await fetch(url, init);
        if (logger.enabled("DEBUG")) {
          logger.debug(
            `${method} ${redactUrl(url)} -> ${response.status} (${
              Math.round(performance.now() - started)
            } ms)`,
          );
        }
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          if (hop >= MAX_REDIRECTS) {
            throw new RegistryError(
              "INVALID_RESPONSE",
              `Cannot finish ${JSON.stringify(request.what)}: more than ${MAX_REDIRECTS} redirects`,
              { status: response.status },
            );
          }
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            throw new RegistryError(
              "INVALID_RESPONSE",
              `Cannot finish ${JSON.stringify(request.what)}: redirect to an invalid URL`,
              { status: response.status },
            );
          }
          if (next.protocol !== "https:" && next.protocol !== "http:") {
            throw new RegistryError(
              "INVALID_RESPONSE",
              `Cannot finish ${JSON.stringify(request.what)}: redirect to a non-HTTP URL`,
              { status: response.status },
            );
          }
          if (!mayReachHost(request.url.hostname, next.hostname)) {
            throw new RegistryError(
              "INVALID_RESPONSE",
              `Cannot finish ${JSON.stringify(request.what)}: redirect to internal address ${
                JSON.stringify(next.hostname)
              } refused`,
              { status: response.status },
            );
          }
          if (
            url.protocol === "https:" && next.protocol === "http:" && request.allowHttp !== true &&
            !isLoopbackHost(request.url.hostname)
          ) {
            const host = request.url.host;
            throw new RegistryError(
              "INSECURE_REGISTRY",
              `Cannot finish ${JSON.stringify(request.what)}: a redirect to ${
                JSON.stringify(next.host)
              } would downgrade https to plain http; allow plain HTTP for ${
                JSON.stringify(host)
              } with the insecureRegistries option (--insecure-registry ${host})`,
              { status: response.status },
            );
          }
          if (next.origin !== authOrigin) delete headers.authorization;
          if (response.status === 303 || (response.status <= 302 && method === "POST")) {
            method = method === "HEAD" ? "HEAD" : "GET";
            body = undefined;
          }
          if (body !== undefined && next.origin !== authOrigin) {
            // 307/308 keep the body: a token request's form carries the refresh token.
            throw new RegistryError(
              "INVALID_RESPONSE",
              `Cannot finish ${
                JSON.stringify(request.what)
              }: a redirect would send the request body to another origin`,
              { status: response.status },
            );
          }
          url = next;
          continue;
        }
        const ok = response.status >= 200 && response.status < 300;
        const data = method === "HEAD"
          ? (await response.body?.cancel(), new Uint8Array())
          : await readBounded(
            response,
            ok ? request.maxBytes : MAX_ERROR_BODY_BYTES,
            !ok,
            request.what,
          );
        return { status: response.status, headers: response.headers, body: data, url };
      }
    } catch (error) {
      if (error instanceof RegistryError) throw new AttemptError(error, false);
      if (request.signal?.aborted) {
        throw new AttemptError(
          new RegistryError(
            "ABORTED",
            `Cannot finish ${JSON.stringify(request.what)}: aborted`,
            {
              cause: error,
            },
          ),
          false,
        );
      }
      if (timeout.aborted) {
        throw new AttemptError(
          new RegistryError(
            "TIMEOUT",
            `Cannot reach ${url.host} for ${
              JSON.stringify(request.what)
            }: no answer within ${timeoutMs} ms`,
            { cause: error },
          ),
          true,
        );
      }
      if (error instanceof Deno.errors.NotCapable) {
        // Deno's sandbox, not the network: retrying cannot help, the command line can.
        throw new AttemptError(
          new RegistryError(
            "INVALID_CONFIG",
            `Cannot reach ${url.host} for ${
              JSON.stringify(request.what)
            }: the net permission does not cover it; run with --allow-net=${url.host}`,
            { cause: error },
          ),
          false,
        );
      }
      if (isCertificateError(error)) {
        throw new AttemptError(
          new RegistryError(
            "TLS_UNTRUSTED",
            `Cannot reach ${url.host} for ${
              JSON.stringify(request.what)
            }: TLS certificate not trusted, ${certificateProblem(error, url.hostname)}`,
            { cause: error },
          ),
          false,
        );
      }
      if (!isNetworkFailure(error)) throw error; // a bad argument, not the network: not retried
      throw new AttemptError(
        new RegistryError(
          "NETWORK",
          `Cannot reach ${url.host} for ${JSON.stringify(request.what)}: ${networkReason(error)}`,
          { cause: error },
        ),
        !isTlsMismatch(error),
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
