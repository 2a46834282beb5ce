import { existsSync, statSync } from 'node:fs';
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

/** The directory `baton` looks for, here or in the nearest parent (as git looks for `.git`). */
export const WORKSPACE_DIR = '.baton';
/** The database's name inside the workspace directory. */
export const DB_FILE = 'workspace.db';
/** The workspace file `baton` uses in a directory where none is found above it. */
export const DEFAULT_DB = `${WORKSPACE_DIR}/${DB_FILE}`;

/** Options every command takes. */
export interface GlobalOptions {
  dir?: string;
  db?: string;
  keys?: string;
  as?: string;
  busyTimeout?: number;
  json?: boolean;
}

/** What `baton` remembers next to the database: who this terminal acts as. */
interface Config {
  as?: string;
}

/**
 * The directory a command acts in: the caller's. Run as `pnpm baton …` (or `npm run baton`),
 * the package manager starts the script in the package's root and leaves the caller's
 * directory in `INIT_CWD`; that is used when this process is that script, at that root.
 */
export function callerDir(io: Pick<CliIo, 'cwd' | 'env'>): string {
  const { INIT_CWD, npm_lifecycle_event, npm_package_json } = io.env;
  if (
    INIT_CWD &&
    npm_lifecycle_event &&
    npm_package_json &&
    resolve(dirname(npm_package_json)) === resolve(io.cwd)
  )
    return resolve(INIT_CWD);
  return io.cwd;
}

/** The nearest `.baton/` directory at or above `from`, if any. */
export function findWorkspaceDir(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, WORKSPACE_DIR);
    try {
      if (statSync(candidate).isDirectory()) return candidate;
    } catch {
      // not here: look one level up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The files one `baton` invocation works on — the SQLite database, the key directory next to
 * it (`keys/`, one 0600 file per identity) and `config.json` (the identity in use) — and the
 * workspace opened on them.
 *
 * @remarks
 * Where: `--db`, else `--dir`, else `BATON_DB`, else `BATON_DIR`, else the nearest `.baton/`
 * at or above the caller's directory (see {@link callerDir}), else `./.baton/` (where `init`
 * creates one). The keys: `--keys`, else `BATON_KEYS`, else `keys/` beside the database.
 */
export class CliSession {
  db: string;
  home: string;
  keys: KeyDirectory;
  /** The directory the command was run from (relative paths resolve against it). */
  readonly cwd: string;
  /** Whether the user named the place (flag or environment) rather than it being found. */
  readonly named: boolean;
  #ws: Workspace | undefined;

  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
  ) {
    this.cwd = callerDir(io);
    const env = io.env;
    const db =
      options.db ??
      (options.dir !== undefined ? join(options.dir, DB_FILE) : undefined) ??
      env.BATON_DB ??
      (env.BATON_DIR ? join(env.BATON_DIR, DB_FILE) : undefined);
    this.named = db !== undefined;
    this.db = resolve(
      this.cwd,
      db ?? join(findWorkspaceDir(this.cwd) ?? join(this.cwd, WORKSPACE_DIR), DB_FILE),
    );
    this.home = dirname(this.db);
    this.keys = this.#keyDirectory();
  }

  #keyDirectory(): KeyDirectory {
    const keys = this.options.keys ?? this.io.env.BATON_KEYS;
    return new KeyDirectory({
      path: keys ? resolve(this.cwd, keys) : join(this.home, 'keys'),
    });
  }

  /**
   * For `init` and `import`, which make a workspace: here, in `./.baton/`, unless a place was
   * named — never in a parent's.
   */
  createHere(): void {
    if (this.named) return;
    this.db = join(this.cwd, WORKSPACE_DIR, DB_FILE);
    this.home = dirname(this.db);
    this.keys = this.#keyDirectory();
  }

  /** An identity's name when it names only that identity (else its id): for advice to type. */
  nameOf(id: string): string {
    const who = this.#ws?.identity(id);
    if (!this.#ws || !who) return id;
    const lower = who.name.toLowerCase();
    const same = this.#ws.identityList().filter((i) => i.name.toLowerCase() === lower);
    return same.length === 1 ? who.name : id;
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
        `No workspace at ${this.db}. Run \`baton init --name <your name>\` here, or point --dir (BATON_DIR) or --db (BATON_DB) at one.`,
      );
    }
    if (options.create) await mkdir(this.home, { recursive: true, mode: 0o700 });
    const busy = this.options.busyTimeout ?? busyFromEnv(this.io.env.BATON_BUSY_TIMEOUT_MS);
    this.#ws = await Workspace.open({
      store: new SqliteStore({
        path: this.db,
        ...(busy !== undefined ? { busyTimeoutMs: busy } : {}),
      }),
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
    const found = await asker.identities.find(ref);
    if (found) return found;
    // Absent, or one `actor` may not read: resolve tells the two apart.
    const id = await asker.identities.resolve(ref).catch((err: unknown) => {
      if (!isBatonError(err, ErrorCode.NOT_FOUND)) throw err;
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `No identity "${ref}" in this workspace. \`baton id list\` shows who is here.`,
      );
    });
    // The identity itself is read from the workspace's resident view: whoever holds the
    // database file can read it anyway, and the commands themselves are authorized as usual.
    return ws.identity(id)!;
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
    // A key made with `baton keygen` is filed under its did:key until the identity exists:
    // file it under the identity now.
    for (const k of current) {
      if (await this.keys.signer(k, k)) {
        await this.keys.assign(k, who.id);
        return;
      }
    }
    throw new BatonError(
      ErrorCode.FORBIDDEN,
      `The key of ${who.name} (${who.id}) is not here (${this.keys.path}): only the identity's own key can act as it. Point --keys (env BATON_KEYS) at the key directory that holds it.`,
    );
  }

  /** The actor for the identity in use. */
  async actor(): Promise<Actor> {
    const ws = await this.open();
    const me = await this.me();
    return ws.as(me.id);
  }
}

function busyFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new BatonError(
      ErrorCode.VALIDATION,
      `BATON_BUSY_TIMEOUT_MS must be a whole number of milliseconds (0 or more), not "${value}".`,
    );
  return n;
}
