import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Identity, MemoryKeyring, Workspace } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BATON, type CliDir, cliDir, TSX_LOADER } from '../../../test/cli/baton.js';

/** The command line that runs `baton ...args` from sources, as a client's config would name it. */
export function batonCommand(args: string[]): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: ['--import', TSX_LOADER, '--conditions=source', BATON, ...args],
  };
}

/** What the child's environment must not inherit from the test's. */
const CLEAN = [
  'BATON_DB',
  'BATON_AS',
  'BATON_DIR',
  'BATON_KEYS',
  'INIT_CWD',
  'npm_lifecycle_event',
];

/**
 * A workspace made with the real `baton` CLI: Ada (owner, key in `.baton/keys`) and `drafter`
 * (agent, its key in a directory of its own), drafter allowed to read, create, write, comment
 * and hand off artifacts, and to publish only with Ada's approval.
 */
export interface McpWorld {
  cli: CliDir;
  ada: Identity;
  drafter: Identity;
  /** The agent's own key directory. */
  agentKeys: string;
  /** Connects an SDK client spawning `baton --keys <agentKeys> mcp --as drafter ...extra`. */
  connect(extra?: string[], options?: { keys?: string; as?: string }): Promise<Client>;
  /** A second Workspace on the same SQLite file, in this (another) process, signing as Ada. */
  open(): Promise<Workspace>;
  /** A Workspace on the file that holds no key (for reading and verifying). */
  reader(): Promise<Workspace>;
  remove(): Promise<void>;
}

/** The environment a client gives the `baton mcp` it spawns: the test's, minus any Baton choice. */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !CLEAN.includes(k)) env[k] = v;
  env.NO_COLOR = '1';
  return env;
}

export async function mcpWorld(): Promise<McpWorld> {
  const cli = cliDir();
  const agentKeys = mkdtempSync(join(tmpdir(), 'baton-mcp-agent-'));
  const ada = (await cli.json<{ identity: Identity }>(['init', '--name', 'Ada'])).identity;
  const drafter = await cli.json<Identity>(['id', 'create', 'drafter', '--key-dir', agentKeys]);
  await cli.json([
    'grant',
    'drafter',
    '--resource',
    'artifact:*',
    '--actions',
    'read,create,write,comment,handoff,publish',
    '--approval',
    'publish',
  ]);
  const clients: Client[] = [];
  const workspaces: Workspace[] = [];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !CLEAN.includes(k)) env[k] = v;
  env.NO_COLOR = '1';
  return {
    cli,
    ada,
    drafter,
    agentKeys,
    async connect(extra = [], options = {}) {
      const { command, args } = batonCommand([
        '--keys',
        options.keys ?? agentKeys,
        'mcp',
        '--as',
        options.as ?? 'drafter',
        ...extra,
      ]);
      const transport = new StdioClientTransport({
        command,
        args,
        cwd: cli.dir,
        env,
        stderr: 'pipe',
      });
      const client = new Client({ name: 'baton-test', version: '1.0.0' }, { capabilities: {} });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async open() {
      const ws = await Workspace.open({
        store: new SqliteStore({ path: cli.db }),
        keyring: new KeyDirectory({ path: join(cli.dir, '.baton', 'keys') }),
        tickIntervalMs: 0,
      });
      workspaces.push(ws);
      return ws;
    },
    async reader() {
      const ws = await Workspace.open({
        store: new SqliteStore({ path: cli.db }),
        keyring: new MemoryKeyring(),
        tickIntervalMs: 0,
      });
      workspaces.push(ws);
      return ws;
    },
    async remove() {
      for (const c of clients) await c.close().catch(() => undefined);
      for (const w of workspaces) await w.close().catch(() => undefined);
      cli.remove();
      rmSync(agentKeys, { recursive: true, force: true });
    },
  };
}
