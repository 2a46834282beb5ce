import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { killSpawned } from '../../../test/helpers/spawnTs.js';
import { resourceText, textOf } from './fixtures.js';
import { type McpWorld, mcpWorld } from './stdioServer.js';

const worlds: McpWorld[] = [];
async function world(): Promise<McpWorld> {
  const w = await mcpWorld();
  worlds.push(w);
  return w;
}
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.remove();
  await killSpawned();
});

describe('baton mcp over stdio', () => {
  it('lists tools and resources, and reads, edits with a reason and records context as the agent, each event signed by its key', async () => {
    const w = await world();
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Launch post', content: 'Draft\n' });
    const client = await w.connect();

    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(
      expect.arrayContaining([
        'read_artifact',
        'edit_artifact',
        'record_context',
        'request_approval',
      ]),
    );
    const resources = (await client.listResources()).resources;
    expect(resources).toContainEqual(
      expect.objectContaining({ uri: `baton://artifact/${doc.id}`, title: 'Launch post' }),
    );
    const templates = (await client.listResourceTemplates()).resourceTemplates.map(
      (t) => t.uriTemplate,
    );
    expect(templates).toEqual(
      expect.arrayContaining(['baton://artifact/{id}', 'baton://handoff/{id}/briefing']),
    );
    const res = await client.readResource({ uri: `baton://artifact/${doc.id}` });
    expect(res.contents[0]).toMatchObject({
      text: 'Draft\n',
      _meta: { version: 1, title: 'Launch post' },
    });

    const read = await client.callTool({ name: 'read_artifact', arguments: { id: doc.id } });
    expect(textOf(read)).toContain('Draft');
    const edit = await client.callTool({
      name: 'edit_artifact',
      arguments: {
        id: doc.id,
        baseVersion: 1,
        content: 'Draft, tightened\n',
        reason: 'shorter opening',
      },
    });
    expect(edit.isError, textOf(edit)).toBeFalsy();
    const rec = await client.callTool({
      name: 'record_context',
      arguments: { type: 'learned', text: 'Readers skim the first line', about: [doc.id] },
    });
    expect(rec.isError, textOf(rec)).toBeFalsy();

    const check = await w.reader();
    const report = await check.verify();
    expect(report.ok).toBe(true);
    const events = (
      await check.as(w.ada.id).log({ types: ['artifact.edited', 'context.recorded'] })
    ).items;
    expect(events).toHaveLength(2);
    for (const e of events) expect(e.actor).toBe(w.drafter.id);
    const head = await check.as(w.ada.id).artifacts.get(doc.id);
    expect(head).toMatchObject({
      version: 2,
      content: 'Draft, tightened\n',
      updatedBy: w.drafter.id,
    });
    const history = await check.as(w.ada.id).artifacts.history(doc.id);
    expect(history.items[1]).toMatchObject({ author: w.drafter.id, reason: 'shorter opening' });
  });

  it('returns an edit without a write grant as isError naming the missing grant, and writes nothing', async () => {
    const w = await world();
    const reader = await w.cli.json<{ id: string }>([
      'id',
      'create',
      'reader',
      '--key-dir',
      w.agentKeys,
    ]);
    await w.cli.json(['grant', 'reader', '--resource', 'artifact:*', '--actions', 'read']);
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const client = await w.connect([], { as: 'reader' });
    const before = await ws.head();
    const r = await client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: 1, content: 'two\n', reason: 'try' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(`\`write\` on \`artifact:${doc.id}\``);
    expect(await ws.head()).toEqual(before);
    expect((await ws.as(w.ada.id).artifacts.get(doc.id)).version).toBe(1);
    expect(reader.id).toBeTruthy();
  });

  it('writes only MCP messages to stdout, one JSON-RPC message a line', async () => {
    const w = await world();
    const input = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'read_artifact', arguments: { id: 'art_missing' } },
      },
    ]
      .map((m) => JSON.stringify(m))
      .join('\n');
    const p = w.cli.spawn(['--keys', w.agentKeys, 'mcp', '--as', 'drafter']);
    p.child.stdin!.write(`${input}\n`);
    await p.waitForLine((l) => l.includes('"id":3'), 60_000);
    p.child.stdin!.end();
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    const messages = lines.map((l) => JSON.parse(l) as { jsonrpc: string; id?: number });
    for (const m of messages) expect(m.jsonrpc).toBe('2.0');
    expect(messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(r.stderr).toContain('serving as drafter');
  });

  it('refuses to serve as an identity whose key is not in the key directory, with stdout left empty', async () => {
    const w = await world();
    const r = await w.cli.run(['--keys', w.agentKeys, 'mcp', '--as', 'Ada'], { input: '' });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/key of Ada/);
  });

  it('tells a subscribed client when another process edits the artifact', async () => {
    const w = await world();
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const client = await w.connect();
    const updated = new Promise<string>((resolve) =>
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) =>
        resolve(n.params.uri),
      ),
    );
    await client.subscribeResource({ uri: `baton://artifact/${doc.id}` });
    await ws
      .as(w.ada.id)
      .artifacts.edit(doc.id, { baseVersion: 1, content: 'two\n', reason: 'from elsewhere' });
    expect(await updated).toBe(`baton://artifact/${doc.id}`);
    const res = await client.readResource({ uri: `baton://artifact/${doc.id}` });
    expect(res.contents[0]).toMatchObject({ text: 'two\n', _meta: { version: 2 } });
  });

  it('tells a subscribed client when work lands in its inbox from another process', async () => {
    const w = await world();
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const client = await w.connect();
    const updated = new Promise<string>((resolve) =>
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) =>
        resolve(n.params.uri),
      ),
    );
    await client.subscribeResource({ uri: 'baton://inbox' });
    const h = await ws
      .as(w.ada.id)
      .handoffs.offer({ to: w.drafter.id, artifacts: [doc.id], note: 'Yours' });
    expect(await updated).toBe('baton://inbox');
    const inbox = await client.readResource({ uri: 'baton://inbox' });
    expect(JSON.parse(resourceText(inbox)).items[0]).toMatchObject({
      id: h.id,
      note: 'Yours',
    });
  });

  it('waits for an approval the person gives from the CLI in another process, and returns approved', async () => {
    const w = await world();
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Post', content: 'x\n' });
    const client = await w.connect();
    const args = { action: 'publish', resource: `artifact:${doc.id}`, summary: 'Publish the post' };
    const pending = await client.callTool({
      name: 'request_approval',
      arguments: { ...args, waitMs: 0 },
    });
    expect(pending.structuredContent, textOf(pending)).toMatchObject({ status: 'pending' });
    const id = (pending.structuredContent as { id: string }).id;

    const waiting = client.callTool(
      { name: 'request_approval', arguments: { ...args, waitMs: 50_000 } },
      undefined,
      {
        timeout: 58_000,
      },
    );
    const approved = await w.cli.run(['approve', id]);
    expect(approved.code, approved.stderr).toBe(0);
    const done = await waiting;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ status: 'approved', id });
    const check = await w.reader();
    expect((await check.as(w.ada.id).handoffs.get(id)).status).toBe('consumed');
    expect((await check.verify()).ok).toBe(true);
  });

  it('returns the pending id on a short wait, and a later call with it completes once approved', async () => {
    const w = await world();
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Post', content: 'x\n' });
    const client = await w.connect(['--wait', '0']);
    const first = await client.callTool({
      name: 'request_approval',
      arguments: { action: 'publish', resource: `artifact:${doc.id}` },
    });
    expect(first.structuredContent, textOf(first)).toMatchObject({ status: 'pending' });
    const id = (first.structuredContent as { id: string }).id;
    expect(textOf(first)).toContain(id);
    await ws.as(w.ada.id).handoffs.approve(id);
    const later = await client.callTool({
      name: 'request_approval',
      arguments: { action: 'publish', resource: `artifact:${doc.id}`, approvalId: id },
    });
    expect(later.structuredContent, textOf(later)).toMatchObject({ status: 'approved', id });
  });

  it('answers malformed arguments with an error naming the field, and writes nothing', async () => {
    const w = await world();
    const ws = await w.open();
    const doc = await ws
      .as(w.ada.id)
      .artifacts.create({ kind: 'text', title: 'Doc', content: 'one\n' });
    const client = await w.connect();
    const before = await ws.head();
    const r = await client.callTool({
      name: 'edit_artifact',
      arguments: { id: doc.id, baseVersion: -3, content: 'two\n', reason: 'x' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('baseVersion');
    const t = await client.callTool({
      name: 'record_context',
      arguments: { type: 'gossip', text: 'x' },
    });
    expect(t.isError).toBe(true);
    expect(textOf(t)).toContain('type');
    expect(await ws.head()).toEqual(before);
  });
});
