/**
 * How a `ContainerRegistryClient` is put together from its (already checked)
 * options: the logger, the retry policy, the HTTP sender with its CAs, the
 * credential options and the transport.
 *
 * @module
 */

import { RegistryError } from "./errors.ts";
import { Logger, type LogLevel, type LogRecord, parseLogLevel } from "./log.ts";
import { type CredentialOptions, credentialsRegistry, resolveCredentials } from "./credentials.ts";
import { Http } from "./http.ts";
import { retryPolicy } from "./retry.ts";
import type { ContainerRegistryClientOptions } from "./client_options.ts";
import { Transport } from "./transport.ts";
import { checkPemCertificates } from "./ca_certs.ts";
import { VERSION } from "./version.ts";

const encoder = new TextEncoder();

/** Where records go when `logLevel` is given without `onLog`: stderr, one line each. */
function stderrHandler(record: LogRecord): void {
  try {
    Deno.stderr.writeSync(
      encoder.encode(`regkit: ${record.level}: ${record.message.replace(/[\r\n]+/g, " ")}\n`),
    );
  } catch { /* a closed stderr loses the record, never the operation */ }
}

/** What a client is made of. */
export interface ClientWiring {
  /** The log level. */
  logLevel: LogLevel;
  /** Retries after temporary failures. */
  retries: number;
  /** The options credentials are resolved with (the logger included). */
  credentialOptions: CredentialOptions;
  /** The HTTP sender. */
  http: Http;
  /** The authenticated transport. */
  transport: Transport;
  /** The HTTP client holding extra CAs, to close with the client. */
  httpClient?: Deno.HttpClient;
}

/**
 * Wires a client's parts from its options (checked by `checkClientOptions`).
 *
 * @param options The client's options.
 * @returns The parts.
 * @throws {RegistryError} `INVALID_CONFIG` when a CA certificate cannot be used.
 */
export function wireClient(options: ContainerRegistryClientOptions): ClientWiring {
  const {
    username,
    password,
    authFile,
    retries = 5,
    logLevel = "INFO",
    onLog,
    timeoutMs = 30_000,
    caCerts = [],
    insecureRegistries = [],
    backoff = {},
    fetch = globalThis.fetch,
    userAgent = `regkit/${VERSION}`,
  } = options;
  const level = parseLogLevel(logLevel);
  const retry = retryPolicy({ ...backoff, retries });
  const logger = new Logger(
    level,
    onLog ?? (options.logLevel === undefined ? undefined : stderrHandler),
  );
  credentialsRegistry(options); // checked now, not at the first request
  const credentialOptions: CredentialOptions = {
    logger,
    ...(username === undefined ? {} : { username, password: password! }),
    ...(options.credentialsFor === undefined ? {} : { credentialsFor: options.credentialsFor }),
    ...(authFile === undefined ? {} : { authFile }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.readTextFile === undefined ? {} : { readTextFile: options.readTextFile }),
    ...(options.runHelper === undefined ? {} : { runHelper: options.runHelper }),
    ...(options.helperTimeoutMs === undefined ? {} : { helperTimeoutMs: options.helperTimeoutMs }),
  };
  let httpClient: Deno.HttpClient | undefined;
  if (caCerts.length > 0) {
    caCerts.forEach(checkPemCertificates);
    try {
      httpClient = Deno.createHttpClient({ caCerts });
    } catch (error) {
      throw new RegistryError("INVALID_CONFIG", "Cannot use the CA certificates: not valid PEM", {
        cause: error,
      });
    }
  }
  const http = new Http({
    fetch,
    ...(httpClient === undefined ? {} : { client: httpClient }),
    retry,
    timeoutMs,
    userAgent,
    logger,
  });
  const transport = new Transport({
    http,
    logger,
    credentialsFor: (repository) => resolveCredentials(repository, credentialOptions),
    insecureRegistries: new Set(insecureRegistries.map((h) => h.toLowerCase())),
  });
  return {
    logLevel: level,
    retries: retry.retries,
    credentialOptions,
    http,
    transport,
    ...(httpClient === undefined ? {} : { httpClient }),
  };
}
