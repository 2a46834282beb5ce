import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  type Actor,
  BatonError,
  ErrorCode,
  type Identity,
  isBatonError,
  Workspace,
} from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { SqliteStore } from '@baton/sqlite';
import type { CliIo } from './output.js';

/** The workspace file `baton` uses when neither `--db` nor `BATON_DB` names one. */
export const DEFAULT_DB = '.baton/workspace.db';

/** Options every command takes. */
export interface GlobalOptions {
  db?: string;
  as?: string;
  json?: boolean;
}

/** What `baton` remembers next to the database: who this terminal acts as. */
interface Config {
  as?: string;
}

/**
 * The files one `baton` invocation works on — the SQLite database, the key directory next to
 * it (`keys/`, one 0600 file per identity) and `config.json` (the identity in use) — and the
 * workspace opened on them.
 */
export class CliSession {
  readonly db: string;
  readonly home: string;
  readonly keys: KeyDirectory;
  #ws: Workspace | undefined;

  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
  ) {
    this.db = resolve(io.cwd, options.db ?? io.env.BATON_DB ?? DEFAULT_DB);
    this.home = dirname(this.db);
    this.keys = new KeyDirectory({ path: join(this.home, 'keys') });
  }

  get configFile(): string {
    return join(this.home, 'config.json');
  }

  /** Whether a database exists at the path. */
  exists(): boolean {
    return existsSync(this.db);
  }

  /** Opens the workspace; refuses (without creating a file) when there is none. */
  async open(options: { create?: boolean } = {}): Promise<Workspace> {
    if (this.#ws) return this.#ws;
    if (!options.create && !this.exists()) {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `No workspace at ${this.db}. Run \`baton init --name <your name>\` here, or point --db (or BATON_DB) at one.`,
      );
    }
    if (options.create) await mkdir(this.home, { recursive: true, mode: 0o700 });
    this.#ws = await Workspace.open({
      store: new SqliteStore({ path: this.db }),
      keyring: this.keys,
      // A command is short-lived: no background timers.
      tickIntervalMs: 0,
    });
    if (!options.create && !this.#ws.info) {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        `${this.db} holds no workspace yet. Run \`baton init --name <your name>\`.`,
      );
    }
    return this.#ws;
  }

  async close(): Promise<void> {
    await this.#ws?.close();
    this.#ws = undefined;
  }

  async readConfig(): Promise<Config> {
    try {
      return JSON.parse(await readFile(this.configFile, 'utf8')) as Config;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new BatonError(
        ErrorCode.STORE,
        `Cannot read ${this.configFile}: fix or delete it, then \`baton use <identity>\`.`,
        { cause: err },
      );
    }
  }

  async writeConfig(config: Config): Promise<void> {
    await mkdir(this.home, { recursive: true, mode: 0o700 });
    const tmp = `${this.configFile}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.configFile);
  }

  /**
   * Finds an identity by id, unique id prefix or name (names match case-insensitively), as
   * core's `identities.resolve` does.
   *
   * @throws BatonError `NOT_FOUND` when none matches; `VALIDATION` when a name or prefix is ambiguous.
   */
  async identity(ref: string, actor?: Actor): Promise<Identity> {
    const ws = await this.open();
    // Which id a name stands for is no secret (every event names its actor by id): any
    // member may ask, so before `me` is known the first owner's handle asks.
    const asker = actor ?? ws.as(ws.info!.owners[0]!);
    const id = await asker.identities.resolve(ref).catch((err: unknown) => {
      if (!isBatonError(err, ErrorCode.NOT_FOUND)) throw err;
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `No identity "${ref}" in this workspace. \`baton id list\` shows who is here.`,
      );
    });
    // The identity itself is read from the workspace's resident view: whoever holds the
    // database file can read it anyway, and the commands themselves are authorized as usual.
    return (await actor?.identities.get(id)) ?? ws._view.identity(id)!;
  }

  /** The id of an identity named by id or name. */
  async idOf(ref: string): Promise<string> {
    return (await this.identity(ref)).id;
  }

  /** The identity this invocation acts as: `--as`, then `BATON_AS`, then `baton use`'s choice. */
  async me(): Promise<Identity> {
    const ref = this.options.as ?? this.io.env.BATON_AS ?? (await this.readConfig()).as;
    if (!ref) {
      throw new BatonError(
        ErrorCode.INVALID_STATE,
        'No identity chosen. Run `baton use <identity>` (or pass --as <identity>).',
      );
    }
    const who = await this.identity(ref);
    await this.requireKey(who);
    return who;
  }

  /** Refuses an identity whose private key is not in this directory's key files. */
  async requireKey(who: Identity): Promise<void> {
    const current = who.keys.filter((k) => k.until === undefined).map((k) => k.key);
    for (const k of current) if (await this.keys.signer(who.id, k)) return;
    throw new BatonError(
      ErrorCode.FORBIDDEN,
      `The key of ${who.name} (${who.id}) is not here (${this.keys.path}): only the identity's own key can act as it.`,
    );
  }

  /** The actor for the identity in use. */
  async actor(): Promise<Actor> {
    const ws = await this.open();
    const me = await this.me();
    return ws.as(me.id);
  }
}
