/**
 * The seed's three original methods (pubtools-sign's `ContainerRegistryClient`):
 * credential lookup, answering a `WWW-Authenticate` challenge with a token,
 * and the `[exists, message]` existence check with a shared token holder.
 *
 * @module
 */

import { isRegistryError, quote, RegistryError } from "../errors.ts";
import { explainCredentials, resolveCredentials } from "../credentials.ts";
import { parseReference } from "../reference.ts";
import { headManifest } from "../registry_api.ts";
import type { AuthTokenWrapper } from "../token.ts";
import { snippet } from "../_redact.ts";
import type { OperationContext } from "./_context.ts";

/**
 * Explicit credentials, else the first auth file with an entry for the
 * reference's registry.
 *
 * @param ctx The client's wiring.
 * @param imageReference The image reference.
 * @returns `[username, password]`; token credentials give `["<token>", token]`.
 * @throws {RegistryError} `AUTH_NOT_FOUND` naming the registry and the files searched;
 *   `INVALID_REFERENCE`, `AUTH_FILE_INVALID`, `CREDENTIAL_HELPER_FAILED`.
 */
export async function resolveAuthentication(
  ctx: OperationContext,
  imageReference: string,
): Promise<[string, string]> {
  const ref = parseReference(imageReference);
  const resolved = await resolveCredentials(ref, ctx.credentials);
  if (resolved === undefined) {
    const explanation = await explainCredentials(ref, ctx.credentials);
    const searched = explanation.searched.length === 0
      ? "no auth file was readable"
      : `searched ${explanation.searched.map(quote).join(", ")}`;
    throw new RegistryError(
      "AUTH_NOT_FOUND",
      `Cannot find credentials for ${quote(ref.registry)}: ${searched}`,
    );
  }
  const { credentials } = resolved;
  return credentials.kind === "basic"
    ? [credentials.username ?? "", credentials.secret]
    : ["<token>", credentials.secret];
}

/** What {@linkcode authenticateToRegistry} answers. */
export interface ChallengeRequest {
  /** The image the token is for. */
  imageReference: string;
  /** The registry's `WWW-Authenticate` value. */
  authHeader: string;
}

/**
 * Answers a `WWW-Authenticate` Bearer challenge with a token.
 *
 * @param ctx The client's wiring.
 * @param request The image and the challenge.
 * @returns The token.
 * @throws {RegistryError} `TOKEN_EXCHANGE_FAILED`, `REALM_REJECTED`, `UNAUTHORIZED`, ...
 */
export async function authenticateToRegistry(
  ctx: OperationContext,
  request: ChallengeRequest,
): Promise<string> {
  const { imageReference, authHeader } = request;
  const ref = parseReference(imageReference);
  return await ctx.transport.tokenFor(ref, { header: authHeader, what: imageReference });
}

/** What {@linkcode checkContainerImageExists} checks. */
export interface SeedCheck {
  /** The image reference. */
  imageReference: string;
  /** The token holder, sent first and refreshed in place after a 401. */
  authToken: AuthTokenWrapper;
}

/**
 * The seed's existence check: `[true, ""]` when present, `[false, ""]` when
 * absent, `[false, "Unexpected Error: <status> - <detail>"]` otherwise. The
 * holder's token is sent first; a 401 is answered by the transport's
 * handshake, and a new bearer token is put in the holder.
 *
 * @param ctx The client's wiring.
 * @param check The reference and the token holder.
 * @returns `[exists, errorMessage]`.
 * @throws {RegistryError} `INVALID_REFERENCE` for an unparsable reference.
 */
export async function checkContainerImageExists(
  ctx: OperationContext,
  check: SeedCheck,
): Promise<[boolean, string]> {
  const { imageReference, authToken } = check;
  const ref = parseReference(imageReference);
  let answer;
  try {
    answer = await headManifest(ctx.transport, ref, {
      what: imageReference,
      signal: ctx.signal,
      firstAuthorization: authToken.token === "" ? null : `Bearer ${authToken.token}`,
      onAuthorization: (authorization) => {
        if (/^bearer /i.test(authorization)) authToken.token = authorization.slice(7);
      },
    });
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    return [false, `Unexpected Error: ${error.status ?? error.code} - ${error.message}`];
  }
  if (answer.kind === "present") return [true, ""];
  if (answer.kind === "absent") return [false, ""];
  const text = answer.body.byteLength > 0
    ? snippet(new TextDecoder().decode(answer.body), 500)
    : answer.error.message;
  return [false, `Unexpected Error: ${answer.error.status} - ${text}`];
}
