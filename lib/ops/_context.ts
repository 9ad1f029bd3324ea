/**
 * Internal: what every operation is given by the client.
 *
 * @module
 */

import type { CredentialOptions } from "../credentials.ts";
import type { Transport } from "../transport.ts";

/** Whether a repository has the referrers API, learnt from its first answer. */
export interface ReferrersCapability {
  /** `true` when the registry answered the referrers API with an index. */
  api: boolean;
  /** Why not, e.g. `404 (no referrers API)`. */
  reason?: string;
}

/** The client's wiring, handed to each operation. */
export interface OperationContext {
  /** Authenticated requests to registries. */
  transport: Transport;
  /** How credentials are resolved (for the operations that report them). */
  credentials: CredentialOptions;
  /** The client's signal combined with the call's, if any. */
  signal?: AbortSignal | undefined;
  /** Per repository (`registry/path`), whether it has the referrers API; kept by the client. */
  referrers?: Map<string, Promise<ReferrersCapability>>;
}
