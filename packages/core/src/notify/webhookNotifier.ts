import { utf8 } from '../crypto/encoding.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Notification, Notifier } from './notifications.js';

/** Options for {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** Where to POST. */
  url: string;
  /** The shared secret the HMAC-SHA256 signature (`x-baton-signature`) is made with. */
  secret: string;
  /** Give up on one attempt after this many ms. Defaults to `10_000`. */
  timeoutMs?: number;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * POSTs each notification as JSON — with a Slack-compatible `text` field — to a URL,
 * signed so the receiver can trust it: `x-baton-signature: sha256=<hex HMAC-SHA256 of the
 * body with the secret>`, and `x-baton-delivery: <id>`, stable across retries (deliveries
 * are at least once: drop a repeated id).
 */
export class WebhookNotifier implements Notifier {
  readonly name: string;
  readonly #url: string;
  readonly #key: Promise<CryptoKey>;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: WebhookNotifierOptions) {
    if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw new BatonError(ErrorCode.VALIDATION, 'WebhookNotifier: `url` must be an http(s) URL.');
    }
    if (typeof options.secret !== 'string' || options.secret.length < 16) {
      throw new BatonError(
        ErrorCode.VALIDATION,
        'WebhookNotifier: `secret` must be a string of at least 16 characters.',
      );
    }
    this.name = `webhook ${new URL(options.url).host}`;
    this.#url = options.url;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#key = globalThis.crypto.subtle.importKey(
      'raw',
      utf8(options.secret) as BufferSource,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
  }

  async deliver(n: Notification): Promise<void> {
    const body = JSON.stringify({
      id: n.id,
      to: n.to,
      handoff: n.handoff,
      event: n.event,
      attempt: n.attempt,
      text: n.text,
    });
    const mac = new Uint8Array(
      await globalThis.crypto.subtle.sign('HMAC', await this.#key, utf8(body) as BufferSource),
    );
    const hex = Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
    const res = await this.#fetch(this.#url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-baton-delivery': n.id,
        'x-baton-signature': `sha256=${hex}`,
      },
      body,
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!res.ok)
      throw new BatonError(
        ErrorCode.STORE,
        `The webhook answered ${res.status} ${res.statusText}.`,
      );
  }
}
