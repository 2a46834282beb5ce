import { chmod, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBase64url, toBase64url } from '../crypto/encoding.js';
import type { Keyring } from '../crypto/keyring.js';
import { cryptoKeySigner, didKeyOf, generateEd25519, type Signer } from '../crypto/keys.js';
import { BatonError, ErrorCode } from '../errors.js';

/** Options for {@link KeyDirectory}. */
export interface KeyDirectoryOptions {
  /**
   * The directory holding one key file per identity. Created (mode 0700) when missing; an
   * existing one must not be open to group or others (`chmod 700 <dir>`).
   */
  path: string;
}

/** Permission bits for the group and others: a key directory or key file must have none. */
const SHARED_BITS = 0o077;
/** Windows keeps no POSIX modes (every file reads as 0666): its ACLs are the user's to set. */
const CHECK_MODES = process.platform !== 'win32';

function modeText(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

interface KeyFile {
  identity: string;
  keys: { publicKey: string; pkcs8: string }[];
}

/**
 * A {@link Keyring} on Node that keeps one file per identity (`<identity>.key.json`, mode
 * 0600) in a directory (mode 0700). Give an agent process a directory holding only its own
 * file and it cannot sign as anyone else.
 *
 * @remarks
 * A directory or key file that others may read or write (any group or other permission bit,
 * e.g. a directory of mode 0755) is refused with a `STORE` error that says the `chmod` to
 * run: a key anyone on the host can read signs for anyone. (Not checked on Windows.)
 *
 * @example
 * ```ts
 * const ws = await Workspace.open({ store, keyring: new KeyDirectory({ path: '.baton/keys' }) });
 * ```
 */
export class KeyDirectory implements Keyring {
  readonly path: string;
  readonly #signers = new Map<string, Promise<Signer[]>>();
  /** Set once the directory was found (or made) private. */
  #checked = false;

  constructor(options: KeyDirectoryOptions) {
    if (!options || typeof options.path !== 'string' || options.path.length === 0) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'KeyDirectory needs `path`: the directory for key files.',
      );
    }
    this.path = options.path;
  }

  /** The file holding `identity`'s keys. */
  fileOf(identity: string): string {
    return join(this.path, `${encodeURIComponent(identity)}.key.json`);
  }

  async generate(identity: string): Promise<string> {
    const pair = await generateEd25519(true);
    const did = await didKeyOf(pair.publicKey);
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    const file = (await this.#read(identity)) ?? { identity, keys: [] };
    file.keys.push({ publicKey: did, pkcs8: toBase64url(pkcs8) });
    await this.#write(file);
    this.#signers.delete(identity);
    return did;
  }

  /**
   * Files the keys kept under a provisional name as `identity`'s — for a process that made
   * its key before the workspace gave it an id (it sends the public key to the owner, who
   * creates the identity with `key`, and tells it the id).
   */
  async assign(provisional: string, identity: string): Promise<void> {
    const file = await this.#read(provisional);
    if (!file)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `No key file for "${provisional}" in ${this.path}.`,
      );
    const existing = (await this.#read(identity)) ?? { identity, keys: [] };
    existing.keys.push(...file.keys);
    await this.#write(existing);
    await rm(this.fileOf(provisional), { force: true });
    this.#signers.delete(provisional);
    this.#signers.delete(identity);
  }

  async discard(identity: string, publicKey: string): Promise<void> {
    const file = await this.#read(identity);
    if (!file) return;
    file.keys = file.keys.filter((k) => k.publicKey !== publicKey);
    if (file.keys.length > 0) await this.#write(file);
    else await rm(this.fileOf(identity), { force: true });
    this.#signers.delete(identity);
  }

  async signer(identity: string, publicKey?: string): Promise<Signer | undefined> {
    let signers = this.#signers.get(identity);
    if (!signers) {
      signers = this.#load(identity);
      this.#signers.set(identity, signers);
      signers.catch(() => this.#signers.delete(identity));
    }
    const list = await signers;
    return publicKey === undefined ? list.at(-1) : list.find((s) => s.publicKey === publicKey);
  }

  async #load(identity: string): Promise<Signer[]> {
    const file = await this.#read(identity);
    if (!file) return [];
    return Promise.all(
      file.keys.map(async (k) => {
        const key = await crypto.subtle.importKey(
          'pkcs8',
          fromBase64url(k.pkcs8) as BufferSource,
          { name: 'Ed25519' },
          false,
          ['sign'],
        );
        return cryptoKeySigner(key, k.publicKey);
      }),
    );
  }

  /** Refuses a directory that group or others may enter or read; a missing one is fine. */
  async #checkDirectory(): Promise<void> {
    if (this.#checked || !CHECK_MODES) return;
    let mode: number;
    try {
      mode = (await stat(this.path)).mode;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new BatonError(ErrorCode.STORE, `Cannot read the key directory ${this.path}.`, {
        cause,
      });
    }
    if (mode & SHARED_BITS) {
      throw new BatonError(
        ErrorCode.STORE,
        `The key directory ${this.path} has mode ${modeText(mode)}: group or others on this host may read or replace the private keys in it. Make it private with \`chmod 700 ${this.path}\` (and each key file with \`chmod 600\`), then try again.`,
        { details: { path: this.path, mode: modeText(mode) } },
      );
    }
    this.#checked = true;
  }

  async #read(identity: string): Promise<KeyFile | undefined> {
    await this.#checkDirectory();
    const path = this.fileOf(identity);
    let text: string;
    try {
      const handle = await open(path, 'r');
      try {
        // The mode of the file read, not of whatever the name pointed to a moment earlier.
        const { mode } = await handle.stat();
        if (CHECK_MODES && mode & SHARED_BITS) {
          throw new BatonError(
            ErrorCode.STORE,
            `The key file ${path} has mode ${modeText(mode)}: group or others on this host may read or change it. Make it private with \`chmod 600 ${path}\`, then try again.`,
            { details: { path, mode: modeText(mode) } },
          );
        }
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (cause) {
      if (cause instanceof BatonError) throw cause;
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BatonError(ErrorCode.STORE, `Cannot read the key file of "${identity}".`, {
        cause,
      });
    }
    try {
      const file = JSON.parse(text) as KeyFile;
      if (file.identity !== identity || !Array.isArray(file.keys))
        throw new Error('unexpected shape');
      return file;
    } catch (cause) {
      throw new BatonError(
        ErrorCode.INTEGRITY,
        `The key file ${this.fileOf(identity)} is damaged; restore it from a backup.`,
        { cause },
      );
    }
  }

  async #write(file: KeyFile): Promise<void> {
    await mkdir(this.path, { recursive: true, mode: 0o700 });
    await this.#checkDirectory();
    const target = this.fileOf(file.identity);
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    // Written under a temporary name with 0600 and renamed, so a crash never leaves a half key.
    await writeFile(tmp, JSON.stringify(file, null, 2), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, target);
  }
}
