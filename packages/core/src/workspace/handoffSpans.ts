import type { JsonValue } from '../crypto/canonical.js';
import type { ProjectionReader } from '../log/eventTypes.js';
import type { ProjectionWrite, Store } from '../store/store.js';

/** A work handoff's accepted span: its recipient and artifacts, and the seqs from acceptance to its end. */
export interface HandoffSpan {
  id: string;
  recipient: string;
  artifacts: string[];
  from: number;
  until: number;
}

/** Every work handoff's accepted span, read from the log (for the context log's costs). */
export async function handoffSpans(store: Store): Promise<HandoffSpan[]> {
  const spans = new Map<string, HandoffSpan>();
  const head = await store.head();
  const offers = new Map<string, { to: string; artifacts: string[] }>();
  for await (const e of store.read({
    types: [
      'handoff.offered@1',
      'handoff.accepted@1',
      'handoff.completed@1',
      'handoff.returned@1',
      'handoff.cancelled@1',
    ],
  })) {
    const d = e.data as {
      id: string;
      kind?: string;
      to?: string[];
      artifacts?: { id: string }[];
    };
    if (e.type === 'handoff.offered@1' && d.kind === 'work')
      offers.set(d.id, { to: d.to![0]!, artifacts: d.artifacts!.map((a) => a.id) });
    else if (
      e.type === 'handoff.accepted@1' &&
      offers.has(d.id) &&
      offers.get(d.id)!.to === e.actor
    ) {
      spans.set(d.id, {
        id: d.id,
        recipient: e.actor,
        artifacts: offers.get(d.id)!.artifacts,
        from: e.seq,
        until: head.seq,
      });
    } else if (spans.has(d.id)) spans.get(d.id)!.until = Math.min(spans.get(d.id)!.until, e.seq);
  }
  return [...spans.values()];
}

/** A recipient's work handoffs accepted and not ended yet, as the `handoff-spans` row holds them. */
export interface OpenSpans {
  spans: { id: string; artifacts: string[]; from: number }[];
}

const SPANS = 'handoff-spans';

/** The work handoffs `recipient` has accepted and not yet completed, returned or had cancelled. */
export async function openSpans(rows: ProjectionReader, recipient: string): Promise<OpenSpans> {
  return ((await rows.get(SPANS, recipient)) as OpenSpans | undefined) ?? { spans: [] };
}

/**
 * The `handoff-spans` row a handoff transition changes (what {@link handoffSpans} reads from
 * the log, kept as the log grows): acceptance of a work handoff by its recipient opens a span,
 * completion, return or cancellation closes it. `next` is the handoff's row after `name`.
 */
export async function spanWrites(
  rows: ProjectionReader,
  name: string,
  e: { actor: string; seq: number },
  next: { id: string; kind: string; to: string[]; artifacts: { id: string }[] },
): Promise<ProjectionWrite[]> {
  if (next.kind !== 'work') return [];
  const recipient = next.to[0]!;
  const open = await openSpans(rows, recipient);
  const others = open.spans.filter((s) => s.id !== next.id);
  let spans: OpenSpans['spans'];
  if (name === 'handoff.accepted' && e.actor === recipient)
    spans = [...others, { id: next.id, artifacts: next.artifacts.map((a) => a.id), from: e.seq }];
  else if (others.length !== open.spans.length) spans = others;
  else return [];
  return [
    {
      collection: SPANS,
      key: recipient,
      value: spans.length ? ({ spans } as unknown as JsonValue) : null,
    },
  ];
}
