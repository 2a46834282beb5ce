import type { Store } from '../store/store.js';

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
