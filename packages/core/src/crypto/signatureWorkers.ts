import { BatonError, ErrorCode } from '../errors.js';
import { toBase64url } from './encoding.js';
import { rawFromDidKey } from './keys.js';

/** One signature for the worker threads to check. */
export interface WorkerSignature {
  /** The keys that may have made it (`did:key` strings); it checks out when one of them did. */
  keys: readonly string[];
  /** The signature, base64url. */
  sig: string;
  /** The signed text (its UTF-8 is what was signed). */
  text: string;
}

/** What core needs of Node's `worker_threads` (read from the runtime, so browsers never load it). */
interface NodeWorker {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: { id: number; ok: Uint8Array }) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
type WorkerConstructor = new (source: string, options: { eval: true }) => NodeWorker;

/**
 * Node's `Worker` and the machine's parallelism, when the runtime offers them without a static
 * `node:` import (Node ≥ 20.16 has `process.getBuiltinModule`): core's main entry still loads
 * in browsers, where signatures are checked through WebCrypto on the main thread.
 */
const platform = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const threads = proc?.getBuiltinModule?.('node:worker_threads') as
    | { Worker?: WorkerConstructor; isMainThread?: boolean }
    | undefined;
  const os = proc?.getBuiltinModule?.('node:os') as
    | { availableParallelism?: () => number; cpus?: () => unknown[] }
    | undefined;
  if (!threads?.Worker) return undefined;
  const cores = os?.availableParallelism?.() ?? os?.cpus?.().length ?? 1;
  return { Worker: threads.Worker, cores: Math.max(1, cores) };
})();

/**
 * The program each worker runs, from source (`eval`), so it needs no file of its own — none to
 * resolve under tsx, vitest or a bundler's output. It uses only `node:crypto`: Ed25519 through
 * `crypto.verify`, OpenSSL's, which WebCrypto's Ed25519 uses too (the same answers). A request
 * is `{ id, texts, sigs, keys }`, each one string: the signed texts joined by newlines (canonical
 * JSON holds none), the signatures end to end (86 characters each), and per text the raw
 * public keys (base64url) that may have signed it, comma-separated, joined by newlines. The
 * answer is `{ id, ok }`, `ok[i]` 1 when one of text i's keys made its signature. A signature
 * must be unpadded base64url of exactly 64 bytes, as the main thread's strict decoder
 * requires: Buffer's decoder is lenient, so the text must round-trip.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function keyOf(x) {
  let key = keys.get(x);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keys.size >= 4096) keys.clear();
    keys.set(x, key);
  }
  return key;
}
parentPort.on('message', ({ id, texts: joined, sigs, keys }) => {
  const texts = joined.split('\\n');
  const candidates = keys.split('\\n');
  const ok = new Uint8Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const text = sigs.slice(i * 86, i * 86 + 86);
    const sig = Buffer.from(text, 'base64url');
    if (sig.length !== 64 || sig.toString('base64url') !== text) continue;
    const msg = Buffer.from(texts[i], 'utf8');
    for (const x of candidates[i].split(',')) {
      try {
        if (verify(null, msg, keyOf(x), sig)) { ok[i] = 1; break; }
      } catch {}
    }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
`;

// A base64url Ed25519 signature: 64 bytes, 86 characters. Anything else cannot check out, and
// keeping other text off the wire lets the worker cut the signatures apart by length.
const SIGNATURE_SHAPE = /^[A-Za-z0-9_-]{86}$/;

// The raw keys of the did:keys seen, as the worker takes them. Decoding a did:key (base58)
// costs more than the rest of an event's preparation; the cache is bounded like WebCrypto's.
const rawKeys = new Map<string, string | null>();
const RAW_KEY_CACHE = 4096;

function rawKeyOf(did: string): string | null {
  let x = rawKeys.get(did);
  if (x === undefined) {
    try {
      x = toBase64url(rawFromDidKey(did));
    } catch {
      // A malformed key (or a small-order point) signs nothing.
      x = null;
    }
    if (rawKeys.size >= RAW_KEY_CACHE) rawKeys.clear();
    rawKeys.set(did, x);
  }
  return x;
}

interface Pending {
  resolve(ok: Uint8Array): void;
  reject(error: Error): void;
}

/** One worker thread and the requests it has not answered yet. */
class SignatureWorker {
  readonly #worker: NodeWorker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #failure: Error | undefined;

  constructor(Worker: WorkerConstructor, onFailure: () => void) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true });
    // Idle, it never keeps the process alive; while it owes answers it does (see check).
    this.#worker.unref();
    this.#worker.on('message', ({ id, ok }) => {
      const p = this.#pending.get(id);
      if (!p) return;
      this.#pending.delete(id);
      if (this.#pending.size === 0) this.#worker.unref();
      p.resolve(ok);
    });
    this.#worker.on('error', (error) => this.#fail(error, onFailure));
    this.#worker.on('exit', (code) =>
      this.#fail(new Error(`a signature worker thread exited (code ${code})`), onFailure),
    );
  }

  /** Resolves to one byte per signature (1: checks out); rejects when the thread fails or ends. */
  check(texts: string, sigs: string, keys: string): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, texts, sigs, keys });
    });
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Ends the thread on purpose; requests it still owes reject. */
  terminate(): Promise<unknown> {
    this.#failure ??= new Error('the signature worker threads were stopped');
    return this.#worker.terminate();
  }

  /** @internal Ends the thread from outside, as a crash would (for tests). */
  kill(): void {
    void this.#worker.terminate();
  }

  #fail(error: Error, onFailure: () => void): void {
    const onPurpose = this.#failure !== undefined;
    this.#failure ??= error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#worker.unref();
    for (const p of pending) p.reject(this.#failure);
    if (!onPurpose) onFailure();
  }
}

// Threads that fail this many times in a process are not started again: every later check
// runs on the main thread (a runtime that cannot start them would otherwise pay for each try).
const MAX_FAILURES = 3;

/**
 * A pool of worker threads that check Ed25519 signatures with Node's native `crypto.verify`,
 * one per core: a batch is split across them and checked in parallel.
 */
class SignatureWorkerPool {
  #workers: SignatureWorker[] = [];
  #failures = 0;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  /** False once threads failed {@link MAX_FAILURES} times. */
  get usable(): boolean {
    return this.#failures < MAX_FAILURES;
  }

  /** The threads, started the first time they are needed and again after one failed. */
  #threads(): SignatureWorker[] {
    if (this.#workers.some((w) => w.failed)) {
      for (const w of this.#workers) void w.terminate();
      this.#workers = [];
    }
    if (this.#workers.length === 0 && platform) {
      try {
        for (let i = 0; i < this.size; i++)
          this.#workers.push(new SignatureWorker(platform.Worker, () => this.#failures++));
      } catch (err) {
        this.#failures++;
        for (const w of this.#workers) void w.terminate();
        this.#workers = [];
        throw err;
      }
    }
    return this.#workers;
  }

  async check(items: readonly WorkerSignature[]): Promise<boolean[]> {
    const result = new Array<boolean>(items.length).fill(false);
    // What can be decided here is: a malformed signature or no usable key checks out for no one.
    const texts: string[] = [];
    const sigs: string[] = [];
    const keys: string[] = [];
    const at: number[] = [];
    items.forEach((item, i) => {
      if (typeof item.sig !== 'string' || !SIGNATURE_SHAPE.test(item.sig)) return;
      let candidates = '';
      for (const k of item.keys) {
        const x = typeof k === 'string' ? rawKeyOf(k) : null;
        if (x !== null) candidates = candidates ? `${candidates},${x}` : x;
      }
      if (!candidates) return;
      // Canonical JSON escapes every newline; a text with one would shift the worker's split.
      if (item.text.includes('\n')) throw new Error('a signed text holds a raw newline');
      texts.push(item.text);
      sigs.push(item.sig);
      keys.push(candidates);
      at.push(i);
    });
    if (at.length === 0) return result;
    const threads = this.#threads();
    const per = Math.ceil(at.length / threads.length);
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < at.length; start += per) {
      const end = start + per;
      // One string each (a structured clone of one string is a copy; of an array, a walk):
      // 8% of verify()'s main thread went to cloning arrays of 128 strings.
      parts.push(
        threads[parts.length]!.check(
          texts.slice(start, end).join('\n'),
          sigs.slice(start, end).join(''),
          keys.slice(start, end).join('\n'),
        ),
      );
    }
    const answers = await Promise.all(parts);
    answers.forEach((ok, part) => {
      for (let j = 0; j < ok.length; j++) if (ok[j] === 1) result[at[part * per + j]!] = true;
    });
    return result;
  }

  /** Ends every thread. */
  async terminate(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** @internal Threads running now (for tests). */
  get running(): number {
    return this.#workers.length;
  }

  /** @internal Ends one thread as a crash would (for tests). */
  crashOne(): void {
    this.#workers[0]?.kill();
  }
}

/**
 * A share of the process's signature worker threads, held by one open workspace: its checks go
 * to the shared threads until {@link SignatureWorkersLease.release}; the last release ends them.
 */
export interface SignatureWorkersLease {
  /**
   * One boolean per signature: whether one of its keys made it. Rejects with `INTEGRITY`
   * when a thread fails or is stopped while it owes answers (the caller checks that batch
   * another way), never hangs on a thread that died.
   */
  check(items: readonly WorkerSignature[]): Promise<boolean[]>;
  /** Gives the share back (idempotent); later checks reject. */
  release(): void;
}

let shared: SignatureWorkerPool | undefined;
let holders = 0;

/** True where worker threads can check signatures (Node, Deno, Bun; not browsers). */
export function signatureWorkersAvailable(): boolean {
  return platform !== undefined;
}

/**
 * A share of the process's one pool of signature worker threads (`os.availableParallelism()`
 * threads, started on the first check, ended when the last share is released), or
 * `undefined` where there are no worker threads.
 */
export function acquireSignatureWorkers(): SignatureWorkersLease | undefined {
  if (!platform) return undefined;
  holders++;
  let held = true;
  return {
    async check(items) {
      if (!held) throw stopped();
      shared ??= new SignatureWorkerPool(platform.cores);
      if (!shared.usable) throw unusable();
      try {
        return await shared.check(items);
      } catch (cause) {
        throw new BatonError(
          ErrorCode.INTEGRITY,
          `Checking signatures on worker threads failed (${cause instanceof Error ? cause.message : String(cause)}).`,
          { cause },
        );
      }
    },
    release() {
      if (!held) return;
      held = false;
      holders--;
      if (holders === 0 && shared) {
        const pool = shared;
        shared = undefined;
        void pool.terminate();
      }
    },
  };
}

function unusable(): BatonError {
  return new BatonError(
    ErrorCode.INVALID_STATE,
    `The signature worker threads failed ${MAX_FAILURES} times in this process; they are not started again.`,
  );
}

function stopped(): BatonError {
  return new BatonError(
    ErrorCode.INVALID_STATE,
    'This share of the signature worker threads was released (its workspace closed).',
  );
}

/** @internal The shared pool's running threads, and a way to crash one (for tests). */
export const signatureWorkersForTests = {
  get running(): number {
    return shared?.running ?? 0;
  },
  get holders(): number {
    return holders;
  },
  crashOne(): void {
    shared?.crashOne();
  },
};
