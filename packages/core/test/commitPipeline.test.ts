import { describe, expect, it } from 'vitest';
import { sha256b64 } from '../src/index.js';
import { noteWorld, noteWritten } from './notes.js';

const body = (text: string) => ({ hash: sha256b64(text), bytes: new TextEncoder().encode(text) });

describe('the commit pipeline', () => {
  it('writes the bodies a plan returns beside its drafts', async () => {
    const w = await noteWorld();
    const b = body('the plan’s own body');
    const [e] = await w.ws._commit({
      actor: w.drafter.id,
      plan: () => ({
        drafts: [{ type: 'note.written', data: { note: 'n1', body: b.hash } }],
        blobs: [b],
      }),
    });
    expect(e).toMatchObject({ type: 'note.written@1', data: { body: b.hash } });
    expect(await w.ws.text(b.hash)).toBe('the plan’s own body');
    expect((await w.ws.verify()).ok).toBe(true);
  });

  it('writes only the bodies of the attempt that won the race, never those of one that lost it', async () => {
    const w = await noteWorld();
    let retries = 0;
    const racer = await w.peer({
      eventTypes: [noteWritten as never],
      hooks: { onConflictRetry: () => retries++ },
    });
    const planned: string[] = [];
    const [e] = await racer._commit({
      actor: w.drafter.id,
      plan: async () => {
        const b = body(`attempt ${planned.length + 1}`);
        planned.push(b.hash);
        // Another instance commits while the first attempt is being planned: it loses the race.
        if (planned.length === 1)
          await w.agent.emit(
            'note.written',
            { note: 'n0', body: body('other').hash },
            { blobs: ['other'] },
          );
        return {
          drafts: [{ type: 'note.written', data: { note: 'n1', body: b.hash } }],
          blobs: [b],
        };
      },
    });
    expect(planned).toHaveLength(2);
    expect(retries).toBe(1);
    expect(e).toMatchObject({ data: { body: planned[1] } });
    expect(await racer.text(planned[1]!)).toBe('attempt 2');
    expect(await w.store.blobs.has(planned[0]!)).toBe(false);
    expect((await racer.verify()).ok).toBe(true);
  });
});
