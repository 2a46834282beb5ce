import { z } from 'zod';
import { defineEventType } from '../src/index.js';
import { world } from './world.js';

/** An app event type with an erasable body: `body` is the hash of the text. */
export const noteWritten = defineEventType({
  name: 'note.written',
  schema: z.object({ note: z.string(), body: z.string() }),
  stream: (d) => `note/${d.note}`,
  blobs: (d) => [d.body],
});

/** A world that knows `note.written`, where the drafter may write notes. */
export async function noteWorld() {
  const w = await world({ eventTypes: [noteWritten as never] });
  await w.me.capabilities.grant({ to: w.drafter.id, resource: 'note:*', actions: ['write'] });
  return w;
}
