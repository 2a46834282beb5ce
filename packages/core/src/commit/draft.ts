import type { ViewTx } from '../auth/view.js';
import type { JsonValue } from '../crypto/canonical.js';
import type { Signer } from '../crypto/keys.js';
import type { BlobWrite } from '../store/store.js';

/** @internal A planned event before signing. */
export interface Draft {
  /** Type name without version (`'grant.issued'`). */
  type: string;
  /** The grant that must authorize it; by default the first one in force that does. */
  auth?: string;
  data: JsonValue;
  refs?: string[];
}

/** @internal What a command asks the commit pipeline to write. */
export interface CommitRequest {
  actor: string;
  session?: string;
  signer?: Signer;
  /** The operation name and parsed input; used when the caller gave an idempotency `key`. */
  idempotency?: { key: string | undefined; operation: string; input: unknown };
  /**
   * Builds the events, and the bodies they refer to, against the caught-up view; throws to
   * refuse. Runs again on each retry, so each attempt writes only the bodies it planned.
   */
  plan(view: ViewTx, ids: IdMaker, at: string): Plan | Promise<Plan>;
}

/** @internal Makes ids for a command: random, or derived from its idempotency key. */
export interface IdMaker {
  next(prefix: string): string;
}

/** @internal What a plan returns: the events to sign and the bodies they refer to. */
export interface Plan {
  drafts: Draft[];
  blobs?: BlobWrite[];
}
