import type { Actor, Artifact, BatonEvent, WatchFilter } from '@baton/core';
import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  ResourceTemplate,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** The URI of an artifact's head. */
export function artifactUri(id: string): string {
  return `baton://artifact/${encodeURIComponent(id)}`;
}
/** The URI of a handoff's briefing. */
export function briefingUri(id: string): string {
  return `baton://handoff/${encodeURIComponent(id)}/briefing`;
}
/** The URI of the acting identity's inbox. */
export const INBOX_URI = 'baton://inbox';

const MIME = { text: 'text/markdown', json: 'application/json' } as const;

function artifactContents(uri: string, a: Artifact): ReadResourceResult {
  return {
    contents: [
      {
        uri,
        mimeType: MIME[a.kind],
        text: typeof a.content === 'string' ? a.content : JSON.stringify(a.content, null, 2),
        _meta: { id: a.id, title: a.title, version: a.version, kind: a.kind },
      },
    ],
  };
}

/** What a subscription to a URI follows, once the actor is found to be allowed to read it. */
interface Followed {
  filter: WatchFilter;
  /** Throws when the actor may not read what the URI names. */
  check(): Promise<unknown>;
}

/**
 * Which part of the log a resource URI follows, or `undefined` when it names none. Each is
 * followed through the actor (core's `actor.subscribe`): only events it may read — a
 * handoff's events reach its parties — and a notification carries only the URI; what changed
 * is read again through the actor, authorized as usual.
 */
function followed(actor: Actor, uri: string): Followed | undefined {
  // The inbox changes with every handoff event naming this identity (offered to it, decided,
  // answered, escalated to it, …); the listener keeps only handoff events.
  if (uri === INBOX_URI) return { filter: { ref: actor.id }, check: async () => undefined };
  const art = /^baton:\/\/artifact\/([^/?#]+)$/.exec(uri);
  if (art) {
    const id = decodeURIComponent(art[1]!);
    return { filter: { stream: `artifact/${id}` }, check: () => actor.artifacts.get(id) };
  }
  const brief = /^baton:\/\/handoff\/([^/?#]+)\/briefing$/.exec(uri);
  if (brief) {
    const id = decodeURIComponent(brief[1]!);
    return { filter: { stream: `handoff/${id}` }, check: () => actor.handoffs.get(id) };
  }
  return undefined;
}

/** Live subscriptions of one connection: stop functions by URI. */
export class ResourceSubscriptions {
  readonly #stops = new Map<string, () => void>();

  /** Stops every subscription (the connection closed). */
  close(): void {
    for (const stop of this.#stops.values()) stop();
    this.#stops.clear();
  }

  /** @internal */
  add(uri: string, stop: () => void): void {
    this.#stops.get(uri)?.();
    this.#stops.set(uri, stop);
  }

  /** @internal */
  remove(uri: string): void {
    this.#stops.get(uri)?.();
    this.#stops.delete(uri);
  }
}

/**
 * Registers the Baton resources (artifacts at their head, handoff briefings, the inbox), the
 * subscription handlers and the prompt that picks up a handoff. A subscription follows the
 * log through core's `actor.subscribe` — which hears commits of other processes on the same store —
 * and sends `notifications/resources/updated` for the URI on each matching event.
 */
export function registerBatonResources(
  server: McpServer,
  actor: Actor,
  subscriptions: ResourceSubscriptions,
): void {
  server.registerResource(
    'artifact',
    new ResourceTemplate('baton://artifact/{id}', {
      list: async () => {
        const page = await actor.artifacts.list({ limit: 100 });
        return {
          resources: page.items.map((a) => ({
            uri: artifactUri(a.id),
            name: a.id,
            title: a.title,
            mimeType: MIME[a.kind],
            _meta: { version: a.head },
          })),
        };
      },
    }),
    {
      title: 'Artifact',
      description: 'An artifact at its head: content, with its title and version in _meta.',
    },
    async (uri, vars) => {
      const id = decodeURIComponent(String(vars.id));
      return artifactContents(uri.href, await read(() => actor.artifacts.get(id), uri.href));
    },
  );

  server.registerResource(
    'briefing',
    new ResourceTemplate('baton://handoff/{id}/briefing', { list: undefined }),
    {
      title: 'Handoff briefing',
      description: 'The briefing of a handoff, as markdown.',
      mimeType: 'text/markdown',
    },
    async (uri, vars) => {
      const id = decodeURIComponent(String(vars.id));
      const b = await read(() => actor.handoffs.briefing(id), uri.href);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: b.toMarkdown() }] };
    },
  );

  server.registerResource(
    'inbox',
    INBOX_URI,
    {
      title: 'My inbox',
      description: 'What waits on this identity: work, approvals and questions (JSON).',
      mimeType: 'application/json',
    },
    async (uri) => {
      const page = await actor.inbox();
      const items = page.items.map((h) => ({
        id: h.id,
        kind: h.kind,
        status: h.status,
        from: h.from,
        priority: h.priority,
        ...(h.due ? { due: h.due } : {}),
        ...(h.noteText !== undefined ? { note: h.noteText } : {}),
        ...(h.questionText !== undefined ? { question: h.questionText } : {}),
        ...(h.approval
          ? { approval: { action: h.approval.action, resource: h.approval.resource } }
          : {}),
        briefing: briefingUri(h.id),
      }));
      return {
        contents: [
          { uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ items }, null, 2) },
        ],
      };
    },
  );

  server.server.setRequestHandler('resources/subscribe', async (req) => {
    const uri = req.params.uri;
    const f = followed(actor, uri);
    if (!f)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Cannot subscribe to ${uri}: subscribe to baton://artifact/<id>, baton://handoff/<id>/briefing or baton://inbox.`,
      );
    await read(() => f.check(), uri);
    const notify = async (e: BatonEvent) => {
      if (uri === INBOX_URI && !e.type.startsWith('handoff.')) return;
      await server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    };
    subscriptions.add(uri, actor.subscribe(f.filter, notify));
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (req) => {
    subscriptions.remove(req.params.uri);
    return {};
  });

  server.registerPrompt(
    'pick_up_handoff',
    {
      title: 'Pick up a handoff',
      description: 'Accept work handed to you and start from its briefing.',
      argsSchema: z.object({
        handoff: z.string().min(1).max(400).describe('The handoff id (or a unique prefix).'),
      }),
    },
    async ({ handoff }) => {
      const id = await actor.resolveId(handoff, ['handoff']);
      const h = await actor.handoffs.get(id);
      const accepting = h.status === 'offered';
      const b = accepting ? await actor.handoffs.accept(id) : await actor.handoffs.briefing(id);
      const state = accepting
        ? `You accepted handoff ${id}.`
        : `Handoff ${id} is ${h.status}; you pick it up.`;
      return {
        description: accepting ? `Handoff ${id}, accepted` : `Handoff ${id} (${h.status})`,
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `${state} Its briefing follows. Read the artifacts it names with read_artifact, record decisions with record_context, edit with edit_artifact (always with a reason), and hand back with offer_handoff or complete_handoff.\n\n${b.toMarkdown()}`,
            },
          },
        ],
      };
    },
  );
}

/** Reads for a resource: a Baton failure becomes "resource not found" (with its message). */
async function read<T>(f: () => Promise<T>, uri: string): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Cannot read ${uri}: ${message}`);
  }
}
