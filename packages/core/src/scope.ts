import type { z } from 'zod';
import type { Decision } from './auth/evaluate.js';
import type { AuthorityView, Grant, Identity, ViewReader, ViewTx } from './auth/view.js';
import type { CommitRequest, IdMaker, Plan } from './commit/draft.js';
import type { JsonValue } from './crypto/canonical.js';
import type { Keyring } from './crypto/keyring.js';
import type { Body } from './log/body.js';
import type { BatonEvent, Head } from './log/event.js';
import type { EventTypes } from './log/eventTypes.js';
import type {
  IndexRange,
  Page,
  PageOptions,
  ProjectionRow,
  ReadQuery,
  Store,
} from './store/store.js';
import type { WatchFilter } from './validation.js';
import type { HandoffSpan } from './workspace/handoffSpans.js';

export type { HandoffSpan } from './workspace/handoffSpans.js';

/**
 * @internal What the facades read projection rows through: the store's row reads and text
 * search, nothing else. The typed row modules (`artifacts/artifactRows.ts`, `context/contextRows.ts`,
 * `handoffs/handoffRows.ts`) name the collections and give the rows their types.
 */
export interface RowSource {
  get(collection: string, key: string): Promise<JsonValue | undefined>;
  query(
    collection: string,
    index: string,
    range: IndexRange,
    options?: PageOptions,
  ): Promise<Page<ProjectionRow>>;
  search(
    collection: string,
    needle: string,
    index: string,
    range: IndexRange,
    options?: PageOptions,
  ): Promise<Page<ProjectionRow>>;
}

/** @internal The authority view as the facades read it: as of the last catch-up. */
export interface AuthorityReads extends ViewReader {
  readonly identities: ReadonlyMap<string, Identity>;
  readonly grants: ReadonlyMap<string, Grant>;
}

/** @internal What a facade asks the commit pipeline to write, as the scope's identity. */
export interface ScopeCommit {
  /** The operation name and parsed input; used when the caller gave an idempotency `key`. */
  idempotency?: { key: string | undefined; operation: string; input: unknown };
  /** Builds the events, and the bodies they refer to, against the caught-up view; throws to refuse. */
  plan(tx: ViewTx, ids: IdMaker, at: string): Plan | Promise<Plan>;
}

/**
 * @internal The one narrow thing a facade (`Identities`, `Capabilities`, `Artifacts`,
 * `ContextLog`, `Handoffs`) and the functions they share act through: who is acting, the
 * authority view, typed row reads, the commit pipeline, the clock and the bodies. Built by
 * the `Actor`; a facade never sees the workspace.
 */
export interface Scope {
  /** The acting identity. */
  readonly actor: string;
  /** The workspace's id (`''` before it has one): what idempotency-derived ids are made from. */
  readonly workspace: string;
  /** The workspace's keyring (identities made or rotated here get their keys from it). */
  readonly keyring: Keyring;
  /** The authority view as of the last {@link Scope.catchUp}. */
  readonly authority: AuthorityReads;
  /** Projection rows, for the typed row modules. */
  readonly rows: RowSource;
  /**
   * Brings the authority view (and the rows) up to the store's head, with what deciding for
   * the acting identity — and for `identity`, when given — needs loaded (the artifacts of the
   * tags their grants name).
   */
  catchUp(identity?: string): Promise<void>;
  /** Whether the acting identity may do `action` on `resource` now, as the view stands. */
  may(action: string, resource: string): boolean;
  /** The full decision for `identity` (the acting one by default), as the view stands. */
  decide(action: string, resource: string, identity?: string): Decision;
  /** Commits as the acting identity (its session and signer). */
  commit(request: ScopeCommit): Promise<BatonEvent[]>;
  /** The workspace's clock, in ms. */
  now(): number;
  /** A body by hash: its bytes, how it was erased, or `undefined`. */
  blob(hash: string): Promise<Body | undefined>;
  /** A body as text (how it was erased, when it was), or `undefined`. */
  text(hash: string): Promise<string | undefined>;
  /** A json artifact schema registered with the workspace, by name. */
  schema(name: string): z.ZodType | undefined;
  /** Events of the log, in commit order. */
  events(query?: ReadQuery): AsyncIterable<BatonEvent>;
  /** The store's head. */
  head(): Promise<Head>;
  /** Verified events after `filter.after` as they are committed, `allowed` ones only. */
  watch(
    filter: WatchFilter,
    allowed: (e: BatonEvent) => boolean,
  ): AsyncIterableIterator<BatonEvent>;
  /** Every work handoff's accepted span (for costs by handoff). */
  handoffSpans(): Promise<HandoffSpan[]>;
}

/**
 * @internal The workspace members an `Actor` builds its scope from (the `Workspace` has them;
 * named here so that neither the actor nor the facades import the workspace).
 */
export interface ScopeHost {
  readonly id: string | undefined;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly _types: EventTypes;
  readonly _schemas: ReadonlyMap<string, z.ZodType>;
  readonly _view: AuthorityView;
  _catchUp(tagsFor?: readonly string[]): Promise<unknown>;
  _commit(request: CommitRequest): Promise<BatonEvent[]>;
  _now(): number;
  _typeFilter(types: readonly string[] | undefined): string[] | undefined;
  _watch(
    filter: WatchFilter,
    allowed: (e: BatonEvent) => boolean,
    tagsFor?: readonly string[],
  ): AsyncIterableIterator<BatonEvent>;
  _subscribe(
    filter: WatchFilter,
    listener: (e: BatonEvent) => void | Promise<void>,
    allowed: (e: BatonEvent) => boolean,
    tagsFor?: readonly string[],
  ): () => void;
  _handoffSpans(): Promise<HandoffSpan[]>;
  blob(hash: string): Promise<Body | undefined>;
  text(hash: string): Promise<string | undefined>;
  upcast(e: BatonEvent): BatonEvent & { upcastFrom?: string };
  export(): AsyncIterable<string>;
}

/** @internal A page of projection rows as their values, typed `T`: what the row modules return. */
export function valuesOf<T>(page: Page<ProjectionRow>): Page<T> {
  return { ...page, items: page.items.map((r) => r.value as unknown as T) };
}
