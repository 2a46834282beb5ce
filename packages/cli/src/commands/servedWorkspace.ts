import { BatonError, ErrorCode, type Keyring, type Signer, Workspace } from '@baton/core';
import { SqliteStore } from '@baton/sqlite';
import type { CliSession } from '../session.js';

/**
 * A keyring that gives out only the keys of the identities `serves` accepts — so an MCP
 * server, however many keys the directory holds, signs as those and no one else.
 */
class ServedKeys implements Keyring {
  constructor(
    readonly inner: Keyring,
    readonly serves: (identity: string) => boolean,
  ) {}

  async generate(): Promise<string> {
    throw new BatonError(ErrorCode.FORBIDDEN, '`baton mcp` makes no keys.');
  }

  async signer(identity: string, publicKey?: string): Promise<Signer | undefined> {
    return this.serves(identity) ? this.inner.signer(identity, publicKey) : undefined;
  }
}

/**
 * A workspace of its own on the session's file whose keyring gives out only the keys of the
 * identities `serves` accepts (asked with the workspace itself, so it can look them up).
 * It runs no ticks: escalations and notifications are a service host's job, not a server's.
 */
export async function servedWorkspace(
  session: CliSession,
  serves: (identity: string, ws: Workspace | undefined) => boolean,
): Promise<Workspace> {
  const busy = session.options.busyTimeout;
  let ws: Workspace | undefined;
  ws = await Workspace.open({
    store: new SqliteStore({
      path: session.db,
      ...(busy !== undefined ? { busyTimeoutMs: busy } : {}),
    }),
    keyring: new ServedKeys(session.keys, (id) => serves(id, ws)),
    tickIntervalMs: 0,
  });
  return ws;
}
