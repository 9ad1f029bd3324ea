/**
 * Internal: what every operation is given by the client.
 *
 * @module
 */

import type { CredentialOptions } from "../credentials.ts";
import type { Transport } from "../transport.ts";

/** The client's wiring, handed to each operation. */
export interface OperationContext {
  /** Authenticated requests to registries. */
  transport: Transport;
  /** How credentials are resolved (for the operations that report them). */
  credentials: CredentialOptions;
  /** The client's signal combined with the call's, if any. */
  signal?: AbortSignal | undefined;
}
