import { isBatonError } from '@baton/core';
import type { CallToolResult } from '@modelcontextprotocol/server';

/** A successful tool result: `text` for the model, `value` as structured content. */
export function toolResult(text: string, value?: Record<string, unknown>): CallToolResult {
  const result: CallToolResult = { content: [{ type: 'text', text }] };
  if (value !== undefined) result.structuredContent = value;
  return result;
}

/** `{ action, resource }` pairs a refusal says are missing. */
function missing(details: Record<string, unknown>): { action: string; resource: string }[] {
  const needs = details.needs;
  if (!Array.isArray(needs)) return [];
  return needs.filter(
    (n): n is { action: string; resource: string } =>
      typeof n === 'object' &&
      n !== null &&
      typeof (n as { action?: unknown }).action === 'string' &&
      typeof (n as { resource?: unknown }).resource === 'string',
  );
}

/**
 * Turns a failure into a tool error (`isError: true`) the model can act on: the Baton error
 * code, core's message (what was wrong, what to do) and, for refusals, the grant that is
 * missing. Never rethrows: a refused or failed call is a result, not a protocol error.
 */
export function toolError(err: unknown): CallToolResult {
  if (isBatonError(err)) {
    const details = (err as { details?: Record<string, unknown> }).details ?? {};
    const lines = [`${err.code}: ${err.message}`];
    const needs = missing(details);
    if (needs.length > 0) {
      lines.push(
        `Missing grant: ${needs.map((n) => `\`${n.action}\` on \`${n.resource}\``).join(', ')}. Ask the workspace owner to grant it (\`baton grant <identity> --resource ${needs[0]!.resource} --actions ${needs[0]!.action}\`).`,
      );
    }
    return {
      content: [{ type: 'text', text: lines.join('\n') }],
      structuredContent: {
        error: { code: err.code, message: err.message, details: plain(details) },
      },
      isError: true,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    content: [{ type: 'text', text: `INTERNAL: ${message}` }],
    structuredContent: { error: { code: 'INTERNAL', message } },
    isError: true,
  };
}

/** `details` as plain JSON (drops what JSON cannot carry). */
function plain(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
