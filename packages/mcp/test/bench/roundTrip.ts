/**
 * MCP bench (issue 16): a tool call's round trip over stdio — the SDK's client to
 * `createMcpServer` in a child process, on a SQLite workspace — for Baton's `read_artifact`
 * and `edit_artifact`, against a bare `noop` tool on the same SDK server, in the same run.
 * Each round calls, in turn: noop, edit (artifact B), read (artifact A, just after that
 * commit: a full read), read (A again, nothing committed since: the server's kept copy,
 * re-checked). Calls are timed one by one (each takes hundreds of µs), so load from other
 * processes falls on every row alike; p50 and p99 per row.
 * Goal: read ≤ 1.5× the no-op at p50.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const GOAL_READ_RATIO = 1.5;
const WARMUP = 300;
const CALLS = 2_000;

const dir = mkdtempSync(join(tmpdir(), 'baton-mcp-bench-'));
try {
  const db = join(dir, 'workspace.db');
  const keys = join(dir, 'keys');
  const ws = await Workspace.open({
    store: new SqliteStore({ path: db }),
    keyring: new KeyDirectory({ path: keys }),
    tickIntervalMs: 0,
  });
  const ada = await ws.bootstrap({ name: 'Ada' });
  const me = ws.as(ada.id);
  const drafter = await me.identities.create({ kind: 'agent', name: 'drafter', generateKey: true });
  await me.capabilities.grant({
    to: drafter.id,
    resource: 'artifact:*',
    actions: ['read', 'create', 'write', 'comment'],
  });
  // A page of text (~2 KB) to read; a second artifact to edit.
  const page = Array.from(
    { length: 40 },
    (_, i) => `Line ${i}: the launch post says what is new.`,
  ).join('\n');
  const readDoc = await me.artifacts.create({
    kind: 'text',
    title: 'Read me',
    content: `${page}\n`,
  });
  const editDoc = await me.artifacts.create({
    kind: 'text',
    title: 'Edit me',
    content: `${page}\n`,
  });
  await ws.close();

  const server = fileURLToPath(new URL('./benchServer.ts', import.meta.url));
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [...process.execArgv, server, db, keys, drafter.id],
      stderr: 'inherit',
    }),
  );

  let version = 1;
  const ops: Record<string, () => Promise<unknown>> = {
    noop: () => client.callTool({ name: 'noop', arguments: { id: readDoc.id } }),
    read: () => client.callTool({ name: 'read_artifact', arguments: { id: readDoc.id } }),
    again: () => client.callTool({ name: 'read_artifact', arguments: { id: readDoc.id } }),
    edit: async () => {
      const r = await client.callTool({
        name: 'edit_artifact',
        arguments: {
          id: editDoc.id,
          baseVersion: version,
          content: `${page}\nEdit ${version}\n`,
          reason: 'bench',
        },
      });
      if (r.isError) throw new Error(JSON.stringify(r.content));
      version = (r.structuredContent as { version: number }).version;
    },
  };
  // The order matters: `read` follows the edit's commit, `again` follows `read`.
  const names = ['noop', 'edit', 'read', 'again'];
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < WARMUP + CALLS; i++) {
    for (const name of names) {
      const t0 = performance.now();
      await ops[name]!();
      const ms = performance.now() - t0;
      if (i >= WARMUP) samples[name]!.push(ms);
    }
  }
  await client.close();

  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  };
  const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  const base50 = pct(samples.noop!, 50);
  const base99 = pct(samples.noop!, 99);
  console.log(
    `\n6. MCP tool call round trip over stdio (SDK client → createMcpServer in a child process, SQLite), ${CALLS} calls each — goal: read ≤ ${GOAL_READ_RATIO}× no-op at p50`,
  );
  console.log(
    `  ${'tool'.padEnd(21)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}   p50 ratio   p99 ratio`,
  );
  for (const [label, name] of [
    ['noop (baseline)', 'noop'],
    ['read, after a commit', 'read'],
    ['read, again', 'again'],
    ['edit_artifact', 'edit'],
  ] as const) {
    const p50 = pct(samples[name]!, 50);
    const p99 = pct(samples[name]!, 99);
    const verdict =
      name === 'read' || name === 'again'
        ? `   ${p50 / base50 <= GOAL_READ_RATIO ? 'PASS' : 'MISS'}`
        : '';
    console.log(
      `  ${label.padEnd(21)} ${us(p50).padStart(9)} ${us(p99).padStart(9)}   ${(p50 / base50).toFixed(2).padStart(8)}×   ${(p99 / base99).toFixed(2).padStart(8)}×${verdict}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
