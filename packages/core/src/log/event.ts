import { badArgument } from '../crypto/arguments.js';
import { canonicalJsonUnchecked, findNonJson, type JsonValue } from '../crypto/canonical.js';
import { utf8 } from '../crypto/encoding.js';
import { sha256b64 } from '../crypto/hash.js';
import { BatonError, ErrorCode } from '../errors.js';

/**
 * The fields an actor signs. Canonical JSON (RFC 8785) of exactly these fields is what the
 * Ed25519 signature covers.
 */
export interface SignedFields {
  /** Workspace id (random, fixed at bootstrap): an event cannot be replayed into another workspace. */
  ws: string;
  /** Unique per workspace; derived from an `idempotencyKey` when the caller gives one. */
  id: string;
  /** `'artifact/<id>' | 'handoff/<id>' | 'identity/<id>' | 'grant/<id>' | 'context/<id>' | 'workspace'`. */
  stream: string;
  /** Versioned type, `noun.pastTense@version`, e.g. `'grant.issued@1'`. */
  type: string;
  /** The identity that did it. */
  actor: string;
  /** The grant that authorized it (absent only for the bootstrap batch). */
  auth?: string;
  /** The actor's run or session, when it has one. */
  session?: string;
  /** ISO-8601 time the actor claims; accepted only within the skew window of the committer's clock. */
  at: string;
  /** Type-specific payload, validated by the type's zod schema. */
  data: JsonValue;
  /** Ids this event is about (artifacts, recipients, grants): the query index. */
  refs: string[];
}

/** A signed event before commit: the signed fields and the signature. */
export interface SignedEvent extends SignedFields {
  /** Ed25519 signature (base64url) by the actor over the canonical signed fields. */
  sig: string;
}

/** An event as committed: signed by its actor and chained into the workspace log. */
export interface BatonEvent extends SignedEvent {
  /** 1-based position within its stream. */
  version: number;
  /** Workspace-wide commit order: gap-free, strictly increasing, from 1. */
  seq: number;
  /** Hash of the event at `seq - 1`; the workspace id for `seq` 1. */
  prev: string;
  /** `sha256(prev ‖ signing text ‖ sig ‖ version ‖ seq)`, newline-joined, base64url (see {@link eventHash}). */
  hash: string;
}

/** The log head: the last committed seq and its hash. An empty log is `{ seq: 0, hash: '' }`. */
export interface Head {
  seq: number;
  hash: string;
}

/** The head of a log with no events. */
export const EMPTY_HEAD: Head = Object.freeze({ seq: 0, hash: '' });

/**
 * Picks the signed fields out of an event, dropping everything else.
 *
 * @throws BatonError `VALIDATION` when `e` is not an object.
 */
export function signedFieldsOf(e: SignedFields): SignedFields {
  if (typeof e !== 'object' || e === null) throw notAnEvent('signedFieldsOf', e);
  const out: SignedFields = {
    ws: e.ws,
    id: e.id,
    stream: e.stream,
    type: e.type,
    actor: e.actor,
    at: e.at,
    data: e.data,
    refs: e.refs,
  };
  if (e.auth !== undefined) out.auth = e.auth;
  if (e.session !== undefined) out.session = e.session;
  return out;
}

function notAnEvent(fn: string, e: unknown): BatonError {
  return badArgument(fn, 'e', 'an event (an object with ws, id, stream, type, …)', e);
}

/**
 * The text an actor signs: RFC 8785 canonical JSON of the signed fields.
 *
 * @param check - Check the signed fields are plain JSON first. Defaults to `true`; the
 *   write path passes `false` for fields it has just checked.
 * @throws BatonError `VALIDATION` when `e` is not an object or its signed fields are not
 *   plain JSON (with `check: false` too, when they cannot be serialized at all).
 */
export function signingText(e: SignedFields, check = true): string {
  if (typeof e !== 'object' || e === null) throw notAnEvent('signingText', e);
  if (check !== false) {
    const bad = findNonJson(signedFieldsOf(e));
    if (bad) {
      throw new BatonError(ErrorCode.VALIDATION, `Not plain JSON: ${bad}. Pass only JSON values.`, {
        details: { function: 'signingText', field: 'e' },
      });
    }
  }
  try {
    return canonicalJsonUnchecked(signedFieldsOf(e));
  } catch (cause) {
    // Only unchecked fields get here (a bigint, a cycle, nesting too deep to serialize).
    throw badArgument('signingText', 'e', 'an event whose signed fields are plain JSON', e, {
      advice: 'Call it without `check: false` to learn which field is not.',
      cause,
    });
  }
}

/**
 * The bytes an actor signs: the UTF-8 of {@link signingText}.
 *
 * @throws BatonError `VALIDATION` as {@link signingText} does.
 */
export function signingBytes(e: SignedFields): Uint8Array {
  return utf8(signingText(e));
}

/**
 * The chain hash of a committed event: `sha256(prev ‖ "\n" ‖ signing text ‖ "\n" ‖ sig ‖
 * "\n" ‖ version ‖ "\n" ‖ seq)`, base64url. Canonical JSON holds no raw newline, so the
 * joined text is unambiguous.
 *
 * @param text - The event's {@link signingText}, when the caller has it already. Defaults
 *   to computing it.
 * @throws BatonError `VALIDATION` when `e` is not an object, `text` not a string, or the
 *   signed fields not plain JSON.
 */
export function eventHash(e: Omit<BatonEvent, 'hash'>, text?: string): string {
  if (typeof e !== 'object' || e === null) throw notAnEvent('eventHash', e);
  if (text === undefined) text = signingText(e);
  else if (typeof text !== 'string')
    throw badArgument('eventHash', 'text', "the event's signing text (a string)", text);
  let joined: string;
  try {
    joined = `${e.prev}\n${text}\n${e.sig}\n${e.version}\n${e.seq}`;
  } catch (cause) {
    // A symbol, or an object that has no string form, in prev, sig, version or seq.
    throw badArgument(
      'eventHash',
      'e',
      'an event whose prev, sig, version and seq are text or numbers',
      e,
      { cause },
    );
  }
  return sha256b64(joined);
}

/**
 * Splits `'artifact.edited@2'` into its name and version (1 when it has none).
 *
 * @throws BatonError `VALIDATION` when `type` is not a string.
 */
export function parseType(type: string): { readonly name: string; readonly version: number } {
  if (typeof type !== 'string')
    throw badArgument('parseType', 'type', "an event type such as 'grant.issued@1'", type);
  const at = type.lastIndexOf('@');
  const version = at <= 0 ? 1 : Number(type.slice(at + 1));
  return {
    name: at <= 0 ? type : type.slice(0, at),
    version: Number.isInteger(version) && version > 0 ? version : 1,
  };
}
