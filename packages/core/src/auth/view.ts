import type { JsonValue } from '../crypto/canonical.js';
import type { ProjectionWrite } from '../store/store.js';

/** The kinds of participant. */
export type IdentityKind = 'human' | 'agent' | 'service';

/** One public key of an identity and the log positions it was valid for. */
export interface IdentityKey {
  /** `did:key:z6Mk…` */
  key: string;
  /** Seq of the event that registered it. */
  since: number;
  /** Seq of the event that retired it (events after it may not use it). */
  until?: number;
}

/** An identity as the workspace knows it. */
export interface Identity {
  id: string;
  kind: IdentityKind;
  name: string;
  /** The human accountable for an agent or service. */
  owner?: string;
  /** Who created it (absent for the bootstrap owners). */
  createdBy?: string;
  /** True for the workspace's owners: the roots of authority. */
  isOwner: boolean;
  meta: Record<string, JsonValue>;
  status: 'active' | 'suspended';
  keys: IdentityKey[];
  createdAt: string;
  /** Seq of the last event that changed it. */
  seq: number;
}

/** An approval rule on a grant: `action` needs a yes from one of `approvers` first. */
export interface ApprovalRule {
  action: string;
  /** Identity ids; defaults to the grant's issuer. */
  approvers?: string[];
}

/** The limits a grant carries. */
export interface GrantConstraints {
  expiresAt?: string;
  notBefore?: string;
  maxUses?: number;
  requiresApproval?: ApprovalRule[];
  /** How many further delegation steps are allowed below this grant. */
  depth?: number;
}

/** A grant (capability) as the workspace knows it. */
export interface Grant {
  id: string;
  issuer: string;
  audience: string;
  resource: string;
  actions: string[];
  constraints: GrantConstraints;
  /** The grant this one was issued under; absent for an owner's root grant. */
  parent?: string;
  /** True for an owner's root grant, made at bootstrap. */
  root: boolean;
  issuedAt: string;
  issuedSeq: number;
  revoked?: { by: string; at: string; seq: number; reason?: string };
  /** Events authorized by this grant so far (what `maxUses` counts). */
  uses: number;
  /** Seq of the last event that changed it. */
  seq: number;
}

/**
 * An approval request the authority view tracks: one that is pending, or approved and not
 * yet used. Admission judges decisions, uses and their consumption against it (never
 * against what an event claims), so every path — commands, `submit`, `ingest`, catch-up and
 * `verify()` — applies the same rule. Requests leave the view once consumed, denied or
 * cancelled.
 */
export interface ApprovalRequest {
  /** The handoff id of the request. */
  id: string;
  requester: string;
  /** Who may decide it: the approvers its grant named when it was requested. */
  approvers: string[];
  /** The grant it was requested under (its `handoff.offered` event's `auth`). */
  grant: string;
  action: string;
  resource: string;
  /** The digest of requester, action, resource and payload it was filed under. */
  digest: string;
  /** Hash of the requested payload's canonical JSON, when it has one. */
  payloadHash?: string;
  status: 'pending' | 'approved';
  /** Seq of the request. */
  seq: number;
  /** Who approved it. */
  decidedBy?: string;
  /**
   * Hash of the payload the approval binds: the approver's edited payload when given, else
   * the requested one (absent when neither has one). A use must name exactly this digest.
   */
  approvedPayloadHash?: string;
  /**
   * Seq of the `handoff.consumed` that used it up. The `grant.exercised` it allows must be
   * the very next event (the command writes both in one batch); the exercise then drops it.
   */
  consumedSeq?: number;
}

/** Workspace-wide facts fixed at bootstrap. */
export interface WorkspaceInfo {
  id: string;
  name: string;
  owners: string[];
  /** Allowed distance between an event's `at` and the committer's clock, in ms. */
  skewMs: number;
  createdAt: string;
  seq: number;
}

/**
 * The in-memory authority view: identities, grants and workspace facts, kept current by
 * applying events in commit order. Authorization reads it synchronously, which is what
 * keeps `can()` in microseconds. Writes go through a {@link ViewTx} so a refused or
 * conflicting append leaves it untouched.
 */
export class AuthorityView implements ViewReader {
  workspace: WorkspaceInfo | undefined;
  readonly identities = new Map<string, Identity>();
  readonly grants = new Map<string, Grant>();
  /**
   * Tags of artifacts, for `artifact:tag/<tag>` grants (tags are fixed at creation): while
   * {@link AuthorityView.tagsComplete}, every tagged artifact's tags; otherwise only the tags
   * grants name ({@link AuthorityView.namedTags}), so the view — and the checkpoint snapshot
   * made from it — grows with the grants, not with the artifacts.
   */
  readonly tags = new Map<string, readonly string[]>();
  /**
   * How many artifacts were created with each tag, every tag: what a load of a tag's
   * artifacts (see `loadTags`) must find, so rows that hide one are noticed.
   */
  readonly tagCounts = new Map<string, number>();
  /** The tags `artifact:tag/<tag>` grants name (revoked ones included). */
  readonly namedTags = new Set<string>();
  /**
   * Named tags whose earlier artifacts this view does not hold yet: every named tag of a view
   * opened from a checkpoint (its snapshot holds no tag's artifacts, so that opening reads
   * nothing that grows with them), and a tag a grant named for the first time after the view
   * stopped holding every artifact's tags. They are loaded (`loadTags`) before anything is
   * authorized by a grant that names them: by the catch-up of a call whose identity holds
   * such a grant ({@link AuthorityView.tagsNeededBy}), before any write, and before events
   * that need them are replayed.
   */
  readonly unloadedTags = new Set<string>();
  /**
   * True while {@link AuthorityView.tags} holds every tagged artifact's tags (a view replayed
   * from the first event, until {@link AuthorityView.keepNamedTagsOnly}); false for one built
   * from a checkpoint.
   */
  tagsComplete = true;
  /** Approval requests pending, or approved and not yet consumed, by handoff id. */
  readonly approvals = new Map<string, ApprovalRequest>();
  readonly #byAudience = new Map<string, Set<string>>();
  /** The seq this view reflects. */
  seq = 0;
  /** `at` of the event at `seq`: the floor (minus the skew window) for the next event's time. */
  lastAt: string | undefined;
  /** Bumped on every change; caches key on it. */
  generation = 0;

  identity(id: string): Identity | undefined {
    return this.identities.get(id);
  }

  grant(id: string): Grant | undefined {
    return this.grants.get(id);
  }

  tagsOf(artifactId: string): readonly string[] | undefined {
    return this.tags.get(artifactId);
  }

  approval(id: string): ApprovalRequest | undefined {
    return this.approvals.get(id);
  }

  approvalsBy(requester: string): ApprovalRequest[] {
    const out: ApprovalRequest[] = [];
    for (const a of this.approvals.values()) if (a.requester === requester) out.push(a);
    return out;
  }

  grantsOf(audience: string): Grant[] {
    const ids = this.#byAudience.get(audience);
    if (!ids) return [];
    const out: Grant[] = [];
    for (const id of ids) {
      const g = this.grants.get(id);
      if (g) out.push(g);
    }
    return out;
  }

  /**
   * The unloaded tags ({@link AuthorityView.unloadedTags}) that deciding for `identity` may
   * need: those named by a grant of its, or by any grant up the chain of one, up to a revoked
   * link (a decision stops there before looking at resources).
   */
  tagsNeededBy(identity: string): string[] {
    if (this.unloadedTags.size === 0) return [];
    const out = new Set<string>();
    for (const g of this.grantsOf(identity)) {
      const seen = new Set<string>();
      for (let link: Grant | undefined = g; link && !link.revoked && !seen.has(link.id); ) {
        seen.add(link.id);
        const tag = namedTag(link.resource);
        if (tag !== undefined && this.unloadedTags.has(tag)) out.add(tag);
        link = link.parent === undefined ? undefined : this.grants.get(link.parent);
      }
    }
    return [...out];
  }

  /**
   * Forgets the tags no grant names: from now on the view holds only those (and loads a tag's
   * artifacts when a grant names it for the first time).
   */
  keepNamedTagsOnly(): void {
    this.tagsComplete = false;
    for (const [id, tags] of this.tags) {
      const named = tags.filter((t) => this.namedTags.has(t));
      if (named.length === 0) this.tags.delete(id);
      else if (named.length < tags.length) this.tags.set(id, named);
    }
    this.generation++;
  }

  setGrant(g: Grant): void {
    this.grants.set(g.id, g);
    const tag = namedTag(g.resource);
    if (tag !== undefined) this.namedTags.add(tag);
    let set = this.#byAudience.get(g.audience);
    if (!set) {
      set = new Set();
      this.#byAudience.set(g.audience, set);
    }
    set.add(g.id);
  }

  /** Starts a transaction of changes over this view. */
  begin(): ViewTx {
    return new ViewTx(this);
  }
}

/** A copy-on-write set of changes over an {@link AuthorityView}. */
export class ViewTx implements ViewReader {
  readonly base: AuthorityView;
  workspace: WorkspaceInfo | undefined;
  readonly identities = new Map<string, Identity>();
  readonly grants = new Map<string, Grant>();
  /** Tags of the artifacts created (or loaded) in this transaction: all their tags. */
  readonly tags = new Map<string, readonly string[]>();
  /** Artifacts created with each tag in this transaction. */
  #tagCounts: Map<string, number> | undefined;
  /** Tags grants named for the first time in this transaction. */
  #named: Set<string> | undefined;
  /** Of those, the ones whose earlier artifacts are still to load. */
  #unloaded: Set<string> | undefined;
  /** Tags whose artifacts were loaded in this transaction. */
  #loaded: Set<string> | undefined;
  /** Approval requests changed in this transaction; `undefined` marks one that left the view. */
  #approvals: Map<string, ApprovalRequest | undefined> | undefined;
  seq: number;
  lastAt: string | undefined;
  #workspaceChanged = false;
  readonly #startSeq: number;

  constructor(base: AuthorityView) {
    this.base = base;
    this.#startSeq = base.seq;
    this.workspace = base.workspace;
    this.seq = base.seq;
    this.lastAt = base.lastAt;
  }

  identity(id: string): Identity | undefined {
    return this.identities.get(id) ?? this.base.identities.get(id);
  }

  grant(id: string): Grant | undefined {
    return this.grants.get(id) ?? this.base.grants.get(id);
  }

  tagsOf(artifactId: string): readonly string[] | undefined {
    return this.tags.get(artifactId) ?? this.base.tags.get(artifactId);
  }

  approval(id: string): ApprovalRequest | undefined {
    const mine = this.#approvals;
    if (mine?.has(id)) return mine.get(id);
    return this.base.approvals.get(id);
  }

  approvalsBy(requester: string): ApprovalRequest[] {
    const mine = this.#approvals;
    const out: ApprovalRequest[] = [];
    for (const a of this.base.approvals.values()) {
      if (a.requester !== requester) continue;
      if (mine?.has(a.id)) {
        const now = mine.get(a.id);
        if (now) out.push(now);
      } else out.push(a);
    }
    for (const [id, a] of mine ?? []) {
      if (a && a.requester === requester && !this.base.approvals.has(id)) out.push(a);
    }
    return out;
  }

  /** Records an approval request as it now stands. */
  putApproval(doc: ApprovalRequest): void {
    this.#approvals ??= new Map();
    this.#approvals.set(doc.id, frozenCopy(doc));
  }

  /** Drops an approval request from the view (consumed, denied or cancelled). */
  dropApproval(id: string): void {
    this.#approvals ??= new Map();
    this.#approvals.set(id, undefined);
  }

  grantsOf(audience: string): Grant[] {
    const out = this.base.grantsOf(audience).map((g) => this.grants.get(g.id) ?? g);
    for (const g of this.grants.values()) {
      if (g.audience === audience && !this.base.grants.has(g.id)) out.push(g);
    }
    return out;
  }

  /** Records an identity as it now stands: a frozen copy, so no holder of `doc` or of what the view hands out can change it. */
  putIdentity(doc: Identity): void {
    this.identities.set(doc.id, frozenCopy(doc));
  }

  /**
   * Records a grant as it now stands (a frozen copy, as for identities). A grant naming a tag
   * no grant named before makes that tag's earlier artifacts due to load, unless the view
   * holds every artifact's tags.
   */
  putGrant(doc: Grant): void {
    this.grants.set(doc.id, frozenCopy(doc));
    const tag = namedTag(doc.resource);
    if (tag === undefined || this.#named?.has(tag) || this.base.namedTags.has(tag)) return;
    this.#named ??= new Set();
    this.#named.add(tag);
    if (this.base.tagsComplete) return;
    this.#unloaded ??= new Set();
    this.#unloaded.add(tag);
  }

  /** Records the tags of an artifact just created (only artifacts with tags are kept). */
  putTags(artifactId: string, tags: readonly string[]): void {
    if (tags.length === 0) return;
    this.tags.set(artifactId, [...tags]);
    this.#tagCounts ??= new Map();
    for (const t of new Set(tags)) this.#tagCounts.set(t, (this.#tagCounts.get(t) ?? 0) + 1);
  }

  /** How many artifacts were created with `tag` up to this transaction's position. */
  tagCount(tag: string): number {
    return (this.base.tagCounts.get(tag) ?? 0) + (this.#tagCounts?.get(tag) ?? 0);
  }

  /**
   * True when a grant of this transaction named a tag for the first time whose earlier
   * artifacts are still to load (see `loadTags`): the next event may be authorized by it.
   */
  hasUnloadedTags(): boolean {
    return this.#unloaded !== undefined && this.unloadedTags().length > 0;
  }

  /**
   * The tags grants of this transaction named for the first time whose earlier artifacts are
   * still to load (see `loadTags`). The base view's own unloaded tags are not among them: a
   * caller loads those it needs explicitly ({@link AuthorityView.tagsNeededBy}).
   */
  unloadedTags(): string[] {
    const out = [...(this.#unloaded ?? [])];
    return this.#loaded ? out.filter((t) => !this.#loaded!.has(t)) : out;
  }

  /** Records that `artifacts` carry `tag` (a load, see `loadTags`); the tag is loaded then. */
  putTagMembers(tag: string, artifacts: Iterable<string>): void {
    for (const id of artifacts) {
      const now = this.tagsOf(id) ?? [];
      if (!now.includes(tag)) this.tags.set(id, [...now, tag]);
    }
    this.#loaded ??= new Set();
    this.#loaded.add(tag);
  }

  putWorkspace(doc: WorkspaceInfo): void {
    this.workspace = frozenCopy(doc);
    this.#workspaceChanged = true;
  }

  /** The projection rows this transaction changed, for the store. */
  projectionWrites(): ProjectionWrite[] {
    const out: ProjectionWrite[] = [];
    if (this.#workspaceChanged && this.workspace) {
      out.push({ collection: 'meta', key: 'workspace', value: toJson(this.workspace) });
    }
    for (const doc of this.identities.values()) {
      out.push({
        collection: 'identities',
        key: doc.id,
        value: toJson(doc),
        indexes: { kind: doc.kind, status: doc.status },
      });
    }
    for (const doc of this.grants.values()) {
      const indexes: Record<string, string> = { audience: doc.audience, issuer: doc.issuer };
      if (doc.parent) indexes.parent = doc.parent;
      out.push({ collection: 'grants', key: doc.id, value: toJson(doc), indexes });
    }
    return out;
  }

  /**
   * Folds the changes into the base view — unless the base moved since this transaction
   * began (a concurrent catch-up already read these events from the store), in which case
   * the base is newer and is left alone.
   */
  commit(): void {
    const b = this.base;
    if (b.seq !== this.#startSeq) return;
    if (this.#workspaceChanged) b.workspace = this.workspace;
    for (const doc of this.identities.values()) b.identities.set(doc.id, doc);
    for (const doc of this.grants.values()) b.setGrant(doc);
    for (const t of this.#named ?? []) b.namedTags.add(t);
    for (const t of this.#unloaded ?? []) b.unloadedTags.add(t);
    for (const t of this.#loaded ?? []) b.unloadedTags.delete(t);
    for (const [t, n] of this.#tagCounts ?? []) b.tagCounts.set(t, (b.tagCounts.get(t) ?? 0) + n);
    for (const [id, tags] of this.tags) {
      const kept = b.tagsComplete ? tags : tags.filter((t) => b.namedTags.has(t));
      if (kept.length > 0) b.tags.set(id, kept);
    }
    for (const [id, a] of this.#approvals ?? []) {
      if (a) b.approvals.set(id, a);
      else b.approvals.delete(id);
    }
    b.seq = this.seq;
    b.lastAt = this.lastAt;
    b.generation++;
  }
}

/**
 * A deep copy of `doc`, frozen. The view takes every document in this way, once, so what it
 * hands to callers (identities, their `meta`, grants) cannot change it.
 */
function frozenCopy<T>(doc: T): T {
  if (doc === null || typeof doc !== 'object' || deepFrozen.has(doc)) return doc;
  let out: object;
  if (Array.isArray(doc)) out = Object.freeze(doc.map(frozenCopy));
  else {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) copy[k] = frozenCopy(v);
    out = Object.freeze(copy);
  }
  deepFrozen.add(out);
  return out as T;
}

/**
 * The copies {@link frozenCopy} made: frozen all the way down, so a later copy reuses them
 * as they are — a grant whose use count changed (`{ ...grant, uses }`) copies its top level
 * only. That was a tenth of an unsigned append in the bench (grant.exercised, batch 100).
 */
const deepFrozen = new WeakSet<object>();

function toJson<T>(doc: T): JsonValue {
  return JSON.parse(JSON.stringify(doc)) as JsonValue;
}

/** What authorization reads: an {@link AuthorityView} or a {@link ViewTx} over one. */
export interface ViewReader {
  readonly workspace: WorkspaceInfo | undefined;
  identity(id: string): Identity | undefined;
  grant(id: string): Grant | undefined;
  grantsOf(audience: string): Grant[];
  /** The tags of artifact `artifactId`, when it has any. */
  tagsOf(artifactId: string): readonly string[] | undefined;
  /** The approval request `id`, while it is pending or approved and unconsumed. */
  approval(id: string): ApprovalRequest | undefined;
  /** The approval requests of `requester` still in the view. */
  approvalsBy(requester: string): ApprovalRequest[];
}

/** A serializable copy of an {@link AuthorityView} at one seq (kept with checkpoints). */
export interface ViewSnapshot {
  seq: number;
  lastAt?: string;
  workspace?: WorkspaceInfo;
  identities: Identity[];
  grants: Grant[];
  /**
   * `[artifact id, tags]`: with {@link ViewSnapshot.tagCounts}, the tags grants name that are
   * not in {@link ViewSnapshot.unloadedTags}, for the artifacts that have any (a checkpoint's
   * snapshot holds none: every named tag is unloaded there); without (a snapshot made before
   * issue 18), every artifact's tags. Left out when there are none.
   */
  tags?: [string, string[]][];
  /**
   * `[tag, artifacts created with it]` for every tag; present when {@link ViewSnapshot.tags}
   * holds only the tags grants name.
   */
  tagCounts?: [string, number][];
  /**
   * Named tags whose artifacts up to the snapshot's position are not in it: loaded from their
   * signed events when needed (see `loadTags`).
   */
  unloadedTags?: string[];
  /** Approval requests pending or approved and unconsumed; left out when there are none. */
  approvals?: ApprovalRequest[];
}

/** What {@link snapshotOf} puts in a snapshot. */
export interface SnapshotOptions {
  /**
   * Keep the artifacts of the named tags the view holds loaded (`true`), or leave every named
   * tag with artifacts unloaded (`false`): a checkpoint's snapshot — what every open reads and
   * hashes — then grows with the grants and the number of tags, not with the tagged artifacts.
   * Defaults to `false`.
   */
  members?: boolean;
}

/** The snapshot of a view, in a stable order. */
export function snapshotOf(view: AuthorityView, options: SnapshotOptions = {}): ViewSnapshot {
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const snap: ViewSnapshot = {
    seq: view.seq,
    identities: [...view.identities.values()].sort(byId),
    grants: [...view.grants.values()].sort(byId),
  };
  if (view.lastAt !== undefined) snap.lastAt = view.lastAt;
  if (view.workspace) snap.workspace = view.workspace;
  const first = (a: [string, unknown], b: [string, unknown]) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  const unloaded = new Set(view.unloadedTags);
  if (!options.members) {
    for (const t of view.namedTags) if ((view.tagCounts.get(t) ?? 0) > 0) unloaded.add(t);
  }
  const tags: [string, string[]][] = [];
  if (options.members) {
    for (const [id, all] of view.tags) {
      const named = all.filter((t) => view.namedTags.has(t) && !unloaded.has(t));
      if (named.length > 0) tags.push([id, named]);
    }
  }
  if (tags.length > 0) snap.tags = tags.sort(first);
  if (view.tagCounts.size > 0) snap.tagCounts = [...view.tagCounts].sort(first);
  if (unloaded.size > 0) snap.unloadedTags = [...unloaded].sort();
  if (view.approvals.size > 0) snap.approvals = [...view.approvals.values()].sort(byId);
  return JSON.parse(JSON.stringify(snap)) as ViewSnapshot;
}

/** A view rebuilt from a {@link ViewSnapshot}. */
export function viewFromSnapshot(snap: ViewSnapshot): AuthorityView {
  const view = new AuthorityView();
  const tx = view.begin();
  if (snap.workspace) tx.putWorkspace(snap.workspace);
  for (const i of snap.identities) tx.putIdentity(i);
  for (const g of snap.grants) tx.putGrant(g);
  for (const a of snap.approvals ?? []) tx.putApproval(a);
  tx.seq = snap.seq;
  tx.lastAt = snap.lastAt;
  tx.commit();
  for (const [id, tags] of snap.tags ?? []) view.tags.set(id, [...tags]);
  if (snap.tagCounts) {
    for (const [t, n] of snap.tagCounts) view.tagCounts.set(t, n);
    for (const t of snap.unloadedTags ?? []) view.unloadedTags.add(t);
    view.tagsComplete = false;
  } else {
    // A snapshot made before issue 18 holds every artifact's tags: count them from it.
    for (const [, tags] of snap.tags ?? []) {
      for (const t of new Set(tags)) view.tagCounts.set(t, (view.tagCounts.get(t) ?? 0) + 1);
    }
    view.keepNamedTagsOnly();
  }
  return view;
}

const TAG_PATTERN = 'artifact:tag/';

/**
 * The tag a resource pattern names (`artifact:tag/launch` → `launch`), or `undefined` for any
 * other pattern (`artifact:tag/*` is a prefix pattern, not a tag).
 */
export function namedTag(pattern: string): string | undefined {
  return pattern.startsWith(TAG_PATTERN) && !pattern.endsWith('*')
    ? pattern.slice(TAG_PATTERN.length)
    : undefined;
}
