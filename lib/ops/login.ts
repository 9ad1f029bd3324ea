/**
 * `verifyCredentials`: checks that resolved credentials are accepted, as
 * `docker login` does.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { parseRegistry, type RegistryName, Repository } from "../reference.ts";
import type { OperationContext } from "./_context.ts";

/**
 * Checks the credentials resolved for a registry: one `GET /v2/` learns the
 * challenge; a Basic registry gets `GET /v2/` with the credentials, a Bearer
 * registry's realm is asked for a token with no scope.
 *
 * @param ctx The client's wiring.
 * @param registry `host[:port]`, optionally with a namespace or an `https://` prefix.
 * @returns The scheme checked: `"none"`, `"basic"` or `"bearer"`.
 * @throws {RegistryError} `INVALID_REFERENCE` (not a registry), `AUTH_NOT_FOUND`,
 *   `UNAUTHORIZED`, `DENIED`, `REALM_REJECTED`, `TOKEN_EXCHANGE_FAILED`, ...
 */
export async function verifyCredentials(
  ctx: OperationContext,
  registry: string,
): Promise<"none" | "basic" | "bearer"> {
  let name: RegistryName;
  try {
    name = parseRegistry(registry);
  } catch (error) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `Cannot log in to ${quote(String(registry))}: not a registry host (host[:port][/namespace])`,
      { cause: error },
    );
  }
  const repository = new Repository(name.registry, name.namespace);
  return await ctx.transport.verify(repository, ctx.signal);
}
