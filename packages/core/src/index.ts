/**
 * Baton core: the seam between people and AI agents. Five primitives — Artifact,
 * ContextLog, Identity, Capability, Handoff — on one signed, hash-chained event log over
 * a pluggable {@link Store}.
 *
 * @example
 * ```ts
 * import { Workspace } from '@baton/core';
 * const ws = await Workspace.open();
 * const ada = await ws.bootstrap({ name: 'Ada' });
 * const me = ws.as(ada.id);
 * const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
 * await me.capabilities.grant({ to: drafter.id, resource: 'artifact:*', actions: ['read', 'write'] });
 * ```
 *
 * @packageDocumentation
 * @module @baton/core
 */

export type {
  ActorOptions,
  Authorization,
  AuthorizeOptions,
  CanOptions,
  EmitOptions,
  LogQuery,
} from './actor.js';
export { Actor, LOG_SCAN_MIN, LOG_SCAN_PER_LIMIT } from './actor.js';
export { SNAPSHOT_EVERY } from './artifacts/artifactEvents.js';
export { SNAPSHOTS } from './artifacts/artifactHistory.js';
// Types
export type {
  Artifact,
  ArtifactChange,
  ArtifactContent,
  ArtifactVersion,
  CreateArtifactInput,
  EditArtifactInput,
  ListArtifactsOptions,
} from './artifacts/artifacts.js';
export { Artifacts, MAX_CONTENT, MAX_PATCH } from './artifacts/artifacts.js';
export type { ConflictRegion, MergeOutcome } from './artifacts/merge.js';
export { mergeJson, mergeText } from './artifacts/merge.js';
export type { Decision, EvaluateOptions, Requirement } from './auth/evaluate.js';
export {
  chainOf,
  coversAction,
  coversResource,
  evaluate,
  MAX_DELEGATION_DEPTH,
} from './auth/evaluate.js';
export type { Operation } from './auth/operations.js';
export { OPERATIONS, streamResource } from './auth/operations.js';
export type {
  ApprovalRequest,
  ApprovalRule,
  AuthorityView,
  Grant,
  GrantConstraints,
  Identity,
  IdentityKey,
  IdentityKind,
  ViewReader,
  ViewTx,
  WorkspaceInfo,
} from './auth/view.js';
export type { GrantInput, ListGrantsOptions } from './capabilities.js';
export { Capabilities } from './capabilities.js';
export type { ContextEntry, ContextQuery, CostLine, RecordInput } from './context/contextLog.js';
export { ContextLog } from './context/contextLog.js';
export type { ContextType } from './context/contextRows.js';
export { CONTEXT_TYPES } from './context/contextRows.js';
export type { JsonValue } from './crypto/canonical.js';
export { canonicalJson, findNonJson, MAX_EVENT_DEPTH, MAX_JSON_DEPTH } from './crypto/canonical.js';
export { fromBase64url, toBase64url } from './crypto/encoding.js';
export { sha256, sha256b64 } from './crypto/hash.js';
export type { Keyring, MemoryKeyringOptions } from './crypto/keyring.js';
export { MemoryKeyring } from './crypto/keyring.js';
export type { Signer } from './crypto/keys.js';
export {
  cryptoKeySigner,
  didKeyFromRaw,
  didKeyOf,
  generateEd25519,
  rawFromDidKey,
  verifySignature,
} from './crypto/keys.js';
export type { BatonErrorOptions, MergeConflictRegion } from './errors.js';
export {
  BatonError,
  ConflictError,
  ErrorCode,
  isBatonError,
  MergeConflictError,
  storeError,
} from './errors.js';
export type { Briefing, Withheld } from './handoffs/briefing.js';
export type {
  HandoffKind,
  HandoffRow,
  HandoffStatus,
  Priority,
} from './handoffs/handoffRows.js';
export { PRIORITIES } from './handoffs/handoffRows.js';
export type {
  ApprovalInput,
  AskInput,
  Handoff,
  InboxItem,
  InboxOptions,
  OfferInput,
} from './handoffs/handoffs.js';
export { Handoffs } from './handoffs/handoffs.js';
export type { CreateIdentityInput, ListIdentitiesOptions, TrackRecord } from './identities.js';
export { Identities } from './identities.js';
export type { Body } from './log/body.js';
export { erasedText } from './log/body.js';
export { rootGrantId } from './log/builtinEvents.js';
export type { Checkpoint } from './log/checkpoint.js';
export { CHECKPOINT_EVERY } from './log/checkpoint.js';
export type { BatonEvent, Head, SignedEvent, SignedFields } from './log/event.js';
export {
  EMPTY_HEAD,
  eventHash,
  parseType,
  signedFieldsOf,
  signingBytes,
  signingText,
} from './log/event.js';
export type {
  AuthRule,
  EventOf,
  EventTypeDef,
  ProjectionReader,
  StateReader,
} from './log/eventTypes.js';
export { DEFAULT_SKEW_MS, defineEventType } from './log/eventTypes.js';
export type { ErasedBody, VerifyProgress, VerifyReport } from './log/verifier.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { IdKind } from './lookup.js';
export { ID_KINDS, MIN_SHORT_ID } from './lookup.js';
export type { Notification, Notifier, OutboxRow } from './notify/notifications.js';
export type { WebhookNotifierOptions } from './notify/webhookNotifier.js';
export { WebhookNotifier } from './notify/webhookNotifier.js';
export { checkBatch } from './store/checkBatch.js';
export {
  compareKeys,
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  inRange,
} from './store/keys.js';
export { checkKvBatch, kvConflict, kvValueEquals, MAX_KV_BATCH } from './store/kvBatch.js';
export { MemoryStore } from './store/memoryStore.js';
export type {
  AppendBatch,
  BlobArea,
  BlobWrite,
  IndexRange,
  KvArea,
  KvBatchOptions,
  KvExpectation,
  KvValue,
  KvWrite,
  Page,
  PageOptions,
  ProjectionRow,
  ProjectionWrite,
  ReadQuery,
  Store,
} from './store/store.js';
export { PRIMARY_INDEX } from './store/store.js';
export type { TrackRecordCounts } from './trackRecordRows.js';
export { parseInput } from './validation.js';
export type {
  BootstrapOptions,
  TickResult,
  WatchFilter,
  WorkspaceHooks,
  WorkspaceOptions,
} from './workspace.js';
export { MAX_SUBMIT_BYTES, Workspace } from './workspace.js';
