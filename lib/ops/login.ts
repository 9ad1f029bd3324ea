/**
 * `verifyCredentials`: checks that resolved credentials are accepted, as
 * `docker login` does.
 *
 * @module
 */

import { quote, RegistryError } from "../errors.ts";
import { parseRepository, Repository } from "../reference.ts";
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
  const input = String(registry).replace(/^https?:\/\//i, "").replace(/\/+$/, "");
  const slash = input.indexOf("/");
  const host = slash === -1 ? input : input.slice(0, slash);
  const namespace = slash === -1 ? "" : input.slice(slash + 1);
  const hostLike = host.includes(".") || host.includes(":") || host === "localhost" ||
    host.startsWith("[");
  let parsed: Repository | undefined;
  try {
    if (hostLike) parsed = parseRepository(`${host}/${namespace || "regkit"}`);
  } catch { /* reported below */ }
  if (parsed === undefined) {
    throw new RegistryError(
      "INVALID_REFERENCE",
      `Cannot log in to ${quote(String(registry))}: not a registry host (host[:port][/namespace])`,
    );
  }
  const repository = new Repository(parsed.registry, namespace);
  return await ctx.transport.verify(repository, ctx.signal);
}
