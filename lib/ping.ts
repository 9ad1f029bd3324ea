/**
 * The first contact with a registry: one `GET /v2/` learns whether it speaks
 * https (or, where allowed, plain HTTP), its challenge, and whether it is a
 * registry API at all.
 *
 * @module
 */

import { quote, RegistryError, statusError } from "./errors.ts";
import { type AuthChallenge, selectChallenge } from "./challenge.ts";
import { type Http, type HttpResponse, isPlainHttpAnswer } from "./http.ts";
import type { Logger } from "./log.ts";
import type { Repository } from "./reference.ts";

/** What the transport knows about one registry. */
export interface RegistryEndpoint {
  /** `https://host[:port]` or `http://…` for loopback and insecure registries. */
  base: URL;
  /** The registry's challenge, if it sent one. */
  challenge?: AuthChallenge;
  /**
   * What `GET /v2/` answered when it sent no challenge: its status, and whether
   * it looked like the registry API (`Docker-Distribution-API-Version`, or a
   * JSON object body), which `login` requires before storing anything.
   */
  answer?: { status: number; registry: boolean };
}

/** Options for {@linkcode pingRegistry}. */
export interface PingOptions {
  /** Whether plain HTTP may be used when the registry answers it. */
  allowHttp: boolean;
  /** Where the switch to plain HTTP is logged. */
  logger: Logger;
  /** Aborts the ping. */
  signal?: AbortSignal;
}

/**
 * Pings a registry: `GET /v2/` over https, or over plain HTTP when it answers
 * that and `allowHttp`.
 *
 * @param http The sender.
 * @param repository A repository of the registry (its host, and messages).
 * @param options Plain HTTP, the logger and a signal.
 * @returns The endpoint.
 * @throws {RegistryError} `INSECURE_REGISTRY` for plain HTTP that is not
 *   allowed; `UNEXPECTED_STATUS` for a 404 (not a registry); as
 *   {@linkcode statusError} for 5xx and 429; `NETWORK`, `TIMEOUT`, ...
 */
export async function pingRegistry(
  http: Http,
  repository: Repository,
  options: PingOptions,
): Promise<RegistryEndpoint> {
  const { allowHttp, logger, signal } = options;
  const host = repository.apiHost;
  const what = repository.repository === "" ? repository.registry : repository.name;
  const attempt = async (scheme: "https" | "http") => {
    const url = new URL(`${scheme}://${host}/v2/`);
    const response = await http.send({
      method: "GET",
      url,
      maxBytes: 64 * 1024,
      what,
      allowHttp,
      ...(signal === undefined ? {} : { signal }),
    });
    return { url, response };
  };
  let result: { url: URL; response: HttpResponse };
  try {
    result = await attempt("https");
  } catch (error) {
    if (!isPlainHttpAnswer(error)) throw error;
    if (!allowHttp) {
      throw new RegistryError(
        "INSECURE_REGISTRY",
        `Cannot reach ${
          quote(host)
        } over https: it answers plain HTTP; allow it with the insecureRegistries option (--insecure-registry ${host})`,
        { cause: error },
      );
    }
    logger.debug(`${host} answers plain HTTP; using http://`);
    result = await attempt("http");
  }
  const { url, response } = result;
  const endpoint: RegistryEndpoint = { base: new URL(url.origin) };
  const challenge = response.status === 401
    ? selectChallenge(response.headers.get("www-authenticate"))
    : undefined;
  if (challenge !== undefined) {
    endpoint.challenge = challenge;
  } else {
    endpoint.answer = { status: response.status, registry: looksLikeApi(response) };
  }
  if (response.status === 404) {
    // Every registry serves /v2/ (200 or 401): a 404 is a wrong port or a missing proxy route,
    // and then no other 404 from this host means "absent" either.
    throw new RegistryError(
      "UNEXPECTED_STATUS",
      `Cannot reach the registry API at ${
        quote(host)
      }: GET /v2/ answered 404, so this is not a registry (wrong host, port or proxy route?)`,
      { status: 404 },
    );
  } else if (response.status >= 500 || response.status === 429) {
    throw statusError(response, {
      action: "reach the registry API at",
      what: host,
      context: "api",
    });
  }
  return endpoint;
}

/** Whether a `GET /v2/` answer is the registry API's: its version header, or a JSON object. */
function looksLikeApi(response: HttpResponse): boolean {
  if (response.headers.has("docker-distribution-api-version")) return true;
  try {
    const body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(response.body));
    return typeof body === "object" && body !== null && !Array.isArray(body);
  } catch {
    return false;
  }
}
