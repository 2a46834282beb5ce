import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, memoryWorkspace } from './fixtures.js';

// Field names the tools take, so random objects often get past the first field and probe
// the ones behind it; the rest are random keys (refused by the strict schemas).
const FIELDS = [
  'id',
  'version',
  'baseVersion',
  'content',
  'patch',
  'reason',
  'title',
  'kind',
  'tags',
  'query',
  'type',
  'text',
  'about',
  'why',
  'alternatives',
  'outcome',
  'options',
  'usage',
  'types',
  'actor',
  'open',
  'limit',
  'after',
  'kinds',
  'handoff',
  'maxTokens',
  'to',
  'artifacts',
  'note',
  'questions',
  'priority',
  'due',
  'question',
  'questionId',
  'action',
  'resource',
  'summary',
  'payload',
  'approvalId',
  'includeArchived',
  'tag',
];

describe('random tool arguments', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  async function setup() {
    const { ws, ada, drafter } = await memoryWorkspace();
    // waitMs 0: a random call that happens to be a valid approval request must not wait.
    const conn = await connect({ workspace: ws, as: drafter.id, waitMs: 0 });
    const doc = await ws
      .as(ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' });
    return { ws, conn, doc };
  }
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(async () => {
    await env.conn.close();
    await env.ws.close();
  });

  it('never crash the server: 1,000 random argument objects all get a tool result, and it keeps serving', async () => {
    const { client } = env.conn;
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const value = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.constantFrom(
        env.doc.id,
        1,
        0,
        -1,
        'artifact:*',
        `artifact:${env.doc.id}`,
        'publish',
        'note',
      ),
    );
    const args = fc.dictionary(
      fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })),
      value,
      {
        maxKeys: 6,
      },
    );
    let calls = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...tools), args, async (name, a) => {
        // What a client sends goes over the wire as JSON.
        const wire = JSON.parse(JSON.stringify(a)) as Record<string, unknown>;
        const r = await client.callTool({ name, arguments: wire });
        calls++;
        expect(Array.isArray(r.content)).toBe(true);
        if (r.isError) refused++;
      }),
      { numRuns: 1_000, seed: 16 },
    );
    expect(calls).toBe(1_000);
    expect(refused).toBeGreaterThan(500);
    const me = await client.callTool({ name: 'whoami', arguments: {} });
    expect(me.isError).toBeFalsy();
    expect((await env.ws.verify()).ok).toBe(true);
  });
});
