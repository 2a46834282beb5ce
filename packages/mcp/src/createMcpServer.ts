import { BatonError, ErrorCode, parseInput, Workspace } from '@baton/core';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ResourceSubscriptions, registerBatonResources } from './batonResources.js';
import { MAX_WAIT_MS, registerBatonTools } from './batonTools.js';

/** Default wait of `request_approval` and `ask_person` for a person, in ms. */
export const DEFAULT_WAIT_MS = 25_000;

/** Options of {@link createMcpServer}. */
export interface CreateMcpServerOptions {
  /** An open workspace. Its keyring must hold the key of `as` (and of `approver`, when given). */
  workspace: Workspace;
  /** The identity id every tool call acts and signs as. */
  as: string;
  /** The run or session recorded on every event. Defaults to none. */
  session?: string;
  /**
   * How long `request_approval` and `ask_person` wait for a person when the agent does not
   * say, in ms (at most {@link MAX_WAIT_MS}). Defaults to `25_000`.
   */
  waitMs?: number;
  /**
   * The person at the client, by identity id: when a request needs their approval, the
   * client can show a form (elicitation) and the workspace's keyring holds their key, they
   * are asked in place and their decision is signed as theirs. Defaults to none: approvals
   * wait in the approvers' inbox.
   */
  approver?: string;
  /** The server's name in `serverInfo`. Defaults to `'baton'`. */
  name?: string;
}

const optionsSchema = z.object({
  workspace: z.custom<Workspace>((w) => w instanceof Workspace, {
    message: 'must be an open Workspace',
  }),
  as: z.string().min(1).max(400),
  session: z.string().min(1).max(400).optional(),
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS).optional(),
  approver: z.string().min(1).max(400).optional(),
  name: z.string().min(1).max(200).optional(),
});

const INSTRUCTIONS = `You are a participant in a Baton workspace, acting as your own identity: every call is signed by your key and shown to people with your name.
- Start with my_inbox. Work handed to you: accept_handoff (or the pick_up_handoff prompt) gives its briefing.
- read_artifact before edit_artifact; pass the version you read as baseVersion and always say why (reason).
- Record what you tried, learned and decided with record_context; ask a person with ask_person.
- When an action needs approval (see can), call request_approval; if it is still pending, call it again later.
- A refusal names the grant you lack: ask a person for it, do not work around it.`;

/**
 * An MCP server over a Baton workspace, acting as one identity: tools to list, read, search,
 * create and edit artifacts, record and query context, read the inbox and briefings, offer,
 * accept, return and complete handoffs, ask a person, request approval and wait for it, and
 * check what the identity may do; the artifacts, briefings and the inbox as resources (with
 * subscriptions); and a prompt that picks up a handoff.
 *
 * @remarks
 * One server serves one connection: connect it to a transport (`await server.connect(t)`).
 * Closing it (or its transport) stops the workspace subscriptions it opened. Refusals and
 * failures are tool results with `isError: true` (the text says which grant is missing);
 * arguments the input schema refuses get a validation error naming the field, and nothing
 * is written.
 *
 * @example
 * ```ts
 * import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
 * const server = createMcpServer({ workspace, as: drafter.id });
 * await server.connect(new StdioServerTransport());
 * ```
 * @throws BatonError `VALIDATION` for bad options; `NOT_FOUND` when `as` or `approver` names
 *   no identity of the workspace.
 */
export function createMcpServer(options: CreateMcpServerOptions): McpServer {
  const o = parseInput(optionsSchema, options, 'createMcpServer');
  const ws = o.workspace;
  for (const [field, id] of [
    ['as', o.as],
    ['approver', o.approver],
  ] as const) {
    if (id !== undefined && !ws.identity(id))
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `createMcpServer: \`${field}\` names no identity of this workspace (${id}).`,
        {
          details: { field },
        },
      );
  }
  const actor = ws.as(o.as, o.session !== undefined ? { session: o.session } : {});
  const server = new McpServer(
    { name: o.name ?? 'baton', version: '0.1.0' },
    {
      capabilities: { tools: {}, resources: { subscribe: true, listChanged: false }, prompts: {} },
      instructions: INSTRUCTIONS,
    },
  );
  const subscriptions = new ResourceSubscriptions();
  registerBatonTools(server, {
    workspace: ws,
    actor,
    waitMs: o.waitMs ?? DEFAULT_WAIT_MS,
    ...(o.approver !== undefined ? { approver: ws.as(o.approver) } : {}),
    canElicit: () => server.server.getClientCapabilities()?.elicitation !== undefined,
  });
  registerBatonResources(server, actor, subscriptions);
  const previous = server.server.onclose;
  server.server.onclose = () => {
    subscriptions.close();
    previous?.();
  };
  return server;
}
