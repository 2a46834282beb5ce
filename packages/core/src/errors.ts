/**
 * The error codes every Baton failure carries. Switch on `error.code`, not on the message.
 */
export const ErrorCode = {
  /** Bad input: a field has the wrong type, is missing, too large, or not plain JSON. */
  VALIDATION: 'VALIDATION',
  /** The thing named does not exist (or the actor may not know it exists). */
  NOT_FOUND: 'NOT_FOUND',
  /** No grant in force allows the actor to do this. */
  FORBIDDEN: 'FORBIDDEN',
  /** The action needs an approver's yes first; `approvalId` names the pending request. */
  APPROVAL_REQUIRED: 'APPROVAL_REQUIRED',
  /** The log head (or an expected version) moved under the caller. */
  CONFLICT: 'CONFLICT',
  /** A three-way merge found overlapping changes. */
  MERGE_CONFLICT: 'MERGE_CONFLICT',
  /** The operation is not valid in the current state (e.g. accepting a cancelled handoff). */
  INVALID_STATE: 'INVALID_STATE',
  /** A signature, hash or chain link does not check out. */
  INTEGRITY: 'INTEGRITY',
  /** The storage backend failed; the backend's error is the `cause`. */
  STORE: 'STORE',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options accepted by {@link BatonError}. */
export interface BatonErrorOptions {
  /** The underlying error, passed through unchanged. */
  cause?: unknown;
  /** Structured details for programs (the field path, the missing grant, …). */
  details?: Record<string, unknown>;
}

/**
 * The one error class Baton throws. Every failure has a {@link ErrorCode | code} and a
 * message that says what was wrong and what to do about it.
 *
 * @remarks
 * Use {@link isBatonError} rather than `instanceof` when your app may load two copies of
 * `@baton/core` (duplicate installs break `instanceof`).
 */
export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BatonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * Thrown by a {@link Store} when an append's `expectedHead` is not the head any more.
 * Core catches it, catches up and retries; callers only see it when retries run out.
 */
export class ConflictError extends BatonError {
  /** The head the store actually has. */
  readonly head: { seq: number; hash: string };

  constructor(expected: { seq: number; hash: string }, actual: { seq: number; hash: string }) {
    super(
      ErrorCode.CONFLICT,
      `The log head moved: expected seq ${expected.seq}, found seq ${actual.seq}. Catch up and retry.`,
      { details: { expected, actual } },
    );
    this.name = 'BatonError';
    this.head = actual;
  }
}

/** A region both sides of a three-way merge changed (see {@link MergeConflictError}). */
export interface MergeConflictRegion {
  /** Where it starts in the base: a 0-based line (text) or a JSON Pointer (json). */
  at: number | string;
  base: string;
  theirs: string;
  yours: string;
}

/**
 * Thrown by an edit whose base is behind the head when the three-way merge finds changes
 * on both sides to the same place. Nothing was written: the caller resolves the regions
 * and edits again with `baseVersion: theirsVersion`.
 */
export class MergeConflictError extends BatonError {
  /** The content at the caller's `baseVersion`. */
  readonly base: string;
  /** The head content, which others wrote since. */
  readonly theirs: string;
  /** The caller's content. */
  readonly yours: string;
  /** The head version the caller must rebase onto. */
  readonly theirsVersion: number;
  readonly regions: MergeConflictRegion[];

  constructor(args: {
    artifact: string;
    base: string;
    theirs: string;
    yours: string;
    baseVersion: number;
    theirsVersion: number;
    regions: MergeConflictRegion[];
  }) {
    super(
      ErrorCode.MERGE_CONFLICT,
      `Your edit of ${args.artifact} (based on version ${args.baseVersion}) and the changes up to version ${args.theirsVersion} touch the same ${args.regions.length === 1 ? 'place' : `${args.regions.length} places`}. Resolve them and edit again with baseVersion ${args.theirsVersion}.`,
      {
        details: {
          artifact: args.artifact,
          baseVersion: args.baseVersion,
          theirsVersion: args.theirsVersion,
        },
      },
    );
    this.name = 'BatonError';
    this.base = args.base;
    this.theirs = args.theirs;
    this.yours = args.yours;
    this.theirsVersion = args.theirsVersion;
    this.regions = args.regions;
  }
}

/**
 * True for any error Baton threw, including ones from another copy of the package.
 * Pass `code` to test for one code.
 */
export function isBatonError(error: unknown, code?: ErrorCode): error is BatonError {
  if (typeof error !== 'object' || error === null) return false;
  try {
    const e = error as { name?: unknown; code?: unknown };
    if (e.name !== 'BatonError' || typeof e.code !== 'string') return false;
    return code === undefined || e.code === code;
  } catch {
    // A value whose properties throw when read (a hostile Proxy) is no BatonError.
    return false;
  }
}

/** Wraps a backend failure as a `STORE` error, keeping the original as `cause`. */
export function storeError(what: string, cause: unknown): BatonError {
  if (isBatonError(cause)) return cause;
  return new BatonError(ErrorCode.STORE, `${what} failed in the store: ${reasonOf(cause)}`, {
    cause,
  });
}

/** @internal What a thrown value says: its message, or a stand-in when it cannot be shown. */
export function reasonOf(cause: unknown): string {
  try {
    return cause instanceof Error ? cause.message : String(cause);
  } catch {
    // A thrown value that cannot be made a string (no prototype, a throwing toString).
    return `a ${typeof cause} that cannot be shown`;
  }
}
