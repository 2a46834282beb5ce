import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Actor, type BatonError, isBatonError, OPERATIONS, Workspace } from '@baton/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BEGIN as CLI_BEGIN, CLI_DOC, renderCliReference } from './docs/cliReference.js';
import { OPERATIONS_DOC, renderOperations } from './docs/operations.js';
import { blocks, guides, quoted, ROOT } from './docs/snippets.js';
import { killSpawned, runTs } from './helpers/spawnTs.js';

const FIX =
  'Run `pnpm exec tsx --conditions=source test/docs/snippets.ts --write` to copy the regions into the guides.';

afterEach(killSpawned);

describe('the guides in docs/', () => {
  it('include the concepts, security, storage and operations guides and an index', () => {
    expect(guides()).toEqual(
      expect.arrayContaining([
        'docs/README.md',
        'docs/agents.md',
        'docs/cli.md',
        'docs/concepts.md',
        'docs/notifications.md',
        'docs/operations.md',
        'docs/security.md',
        'docs/storage.md',
      ]),
    );
  });

  it.each(guides())(
    '%s quotes every ts block from a region of a program that a test runs',
    (guide) => {
      for (const b of blocks(guide)) {
        const where = `${guide}:${b.line}`;
        expect(
          b.source,
          `${where}: a \`\`\`ts block without a marker. Put its code in a region of a program in test/docs/ and write <!-- snippet: test/docs/<file>.ts#<region> --> on the line before it.`,
        ).toBeDefined();
        const q = quoted(b.source!);
        if ('error' in q) expect.fail(`${where}: ${q.error}.`);
        expect(b.text, `${where}: the block differs from ${b.source}. ${FIX}`).toBe(q.text);
      }
    },
  );

  it.each(guides())('%s has no code blocks other than ts and sh', (guide) => {
    let text = readFileSync(join(ROOT, guide), 'utf8');
    // docs/cli.md's generated reference quotes the program's own --help as ```text.
    if (guide === 'docs/cli.md') text = text.slice(0, text.indexOf(CLI_BEGIN));
    const fences = [...text.matchAll(/^```(\S*)\s*$/gm)].map((m) => m[1]);
    // Fences alternate: an opening one (with a language) and a closing one (without).
    const languages = fences.filter((_, i) => i % 2 === 0);
    expect(
      languages.filter((l) => l !== 'ts' && l !== 'sh'),
      `${guide}: only \`\`\`ts blocks (quoted from test/docs/) and \`\`\`sh commands are allowed`,
    ).toEqual([]);
  });

  it('links only to guides and files that exist', () => {
    for (const guide of guides()) {
      const text = readFileSync(join(ROOT, guide), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        expect(
          () => readFileSync(join(ROOT, 'docs', target!)),
          `${guide} links to ${target}`,
        ).not.toThrow(/ENOENT/);
      }
    }
  });
});

/** Runs a program of test/docs/ and returns what it printed, failing on any error output. */
async function run(program: string): Promise<string> {
  const r = await runTs(`test/docs/${program}`, [], { timeoutMs: 60_000 });
  expect(r.stderr, `${program} wrote to stderr`).toBe('');
  expect(r.code, `${program} exited with ${r.code}:\n${r.stdout}`).toBe(0);
  return r.stdout;
}

describe('the example programs the guides quote', () => {
  it("tell the story: Ada's inbox, then the agent's briefing with her three edits, reasons and answer", async () => {
    const out = await run('concepts.ts');
    expect(out).toContain('inbox: work from drafter: Draft ready');
    expect(out).toContain('open questions: Is the tone right?');
    expect(out).toContain('## Launch post (v1 → v4): 3 changes by others since you last saw it');
    for (const reason of ['say when', 'be concrete', 'lead with pricing'])
      expect(out).toContain(`by Ada: ${reason}`);
    expect(out).toContain('+Free for teams under 10.');
    expect(out).toMatch(/Q \(drafter\): Is the tone right\?\n\s+A \(Ada\): Warmer, please/);
    expect(out).toContain('Keep it under 100 words — because it goes on the home page');
    expect(out).toContain('reasons: first draft → say when → be concrete → lead with pricing');
    expect(out).toContain(
      'run-1 recorded: decision: Keep it under 100 words; question: Is the tone right?',
    );
    expect(out).toContain('retry returns the first entry: true');
    expect(out).toContain('same key, different request: VALIDATION');
    expect(out).toContain('watched: artifact.edited@1 by drafter');
  }, 90_000);

  it('show verify() passing, an edited event caught, and a truncation caught only with a checkpoint', async () => {
    const out = await run('securityLog.ts');
    expect(out).toMatch(/^verify: ok=true, 3 events, head seq 3$/m);
    expect(out).toMatch(/^from checkpoint 3: ok=true, 1 events checked$/m);
    expect(out).toContain('tampered: ok=false, seq 4: hash does not match the event');
    expect(out).toContain('truncated, no checkpoint: ok=true');
    expect(out).toContain(
      'truncated, with checkpoint: ok=false: the log ends at seq 2, before the kept checkpoint at seq 3: it was truncated',
    );
  }, 90_000);

  it('show 0600 key files, rotation, recovery, suspension and the skew rule', async () => {
    const out = await run('securityKeys.ts');
    expect(out).toContain("owners: 2, drafter's key file mode: 600");
    expect(out).toMatch(/drafter keys: retired at seq \d+, current/);
    expect(out).toMatch(/suspended: FORBIDDEN: drafter \(\S+\) is suspended and can do nothing/);
    expect(out).toMatch(/slow clock: VALIDATION: .* more than 120 s before the previous event/);
    expect(out).toContain("Ada's keys after recovery: 1 current, 1 retired");
  }, 90_000);

  it('show a FORBIDDEN refusal, an approval used once, attenuation, erasure and revocation', async () => {
    const out = await run('securityAuthority.ts');
    expect(out).toMatch(/refused: FORBIDDEN: drafter may not write on artifact:\S+: no grant/);
    expect(out).toContain('approved: used request true, grant true');
    expect(out).toContain('publish again without asking: false');
    expect(out).toMatch(/widening refused: .* may only narrow it, but it would outlive its parent/);
    expect(out).toContain('delegated rules: publish by drafter; publish by Ada');
    expect(out).toContain('checker publishes after approval by: Ada');
    expect(out).toContain('reads as: [erased by Ada: leaked API key]');
    expect(out).toContain('verify after erasure: ok=true, erased: leaked API key');
    expect(out).toMatch(/after revocation: grant \S+ \(in the chain of \S+\) was revoked/);
    expect(out).toContain('earlier events still verify: true');
  }, 90_000);

  it("show an agent's loop: its own key, waiting for work, asking, approval, tool calls and usage, handing back", async () => {
    const out = await run('agentLoop.ts');
    expect(out).toContain('took the work from Ada: Make it shine');
    expect(out).toContain('asked; answer: "Today"');
    expect(out).toContain('published under approval yes');
    expect(out).toContain('handed back; run-1 cost $0.004 for 300 tokens out');
    expect(out).toContain("Ada's inbox: work: Published; pricing line added");
    expect(out).toContain('tool calls Ada sees: web.search: searched the pricing page');
  }, 90_000);

  it('show signed webhooks received once, a failed delivery retried after backoff, and an escalation', async () => {
    const out = await run('notifications.ts');
    expect(out).toMatch(/^webhook: Ada handed you work \(ho_\w+\)$/m);
    expect(out).toContain('tick: queued 1, failed 1');
    expect(out).toMatch(/^pager: attempt 2: Ada handed you work/m);
    expect(out).toContain('retry: delivered 1');
    expect(out).toMatch(/^webhook: Past due and escalated to you: ho_\w+$/m);
    expect(out).toContain('escalated: 1');
    expect(out).toContain('review: expired, escalated to Ada');
    // Each notification reached the webhook once.
    expect(out.match(/^webhook: /gm)).toHaveLength(2);
  }, 90_000);

  it('show cross-connection watch, rebuilt projections, export/import and a newer file refused', async () => {
    const out = await run('storage.ts');
    expect(out).toContain('the other connection saw: artifact.created@1 at seq 2');
    expect(out).toContain('before rebuild: NOT_FOUND');
    expect(out).toContain('after rebuild: Notes');
    expect(out).toMatch(/imported \d+ lines: same head true, verify ok=true/);
    expect(out).toMatch(
      /newer file: STORE: .* schema version 99, written by a newer @baton\/sqlite/,
    );
  }, 90_000);
});

/** Markdown with its table rows normalized (cells trimmed, rule rows shortened), as Biome may align them. */
function tables(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((c) => (/^\s*:?-+:?\s*$/.test(c) ? '---' : c.trim()))
            .join('|')
        : line,
    )
    .join('\n');
}

describe('docs/cli.md', () => {
  it('holds the help of every command, as the program prints it', async () => {
    const text = readFileSync(CLI_DOC, 'utf8');
    const fresh = await renderCliReference();
    expect(
      tables(text).includes(tables(fresh)),
      'docs/cli.md differs from `baton --help`. Run `pnpm exec tsx --conditions=source test/docs/cliReference.ts --write` to regenerate it.',
    ).toBe(true);
    // Every command and the id subcommands have a section.
    for (const c of ['init', 'inbox', 'edit', 'approve', 'verify', 'id create'])
      expect(fresh).toContain(`baton ${c}`);
  });
});

describe('docs/operations.md', () => {
  it('holds the table rendered from OPERATIONS', () => {
    const text = readFileSync(OPERATIONS_DOC, 'utf8');
    expect(
      tables(text).includes(tables(renderOperations())),
      'docs/operations.md differs from the OPERATIONS table. Run `pnpm exec tsx --conditions=source test/docs/operations.ts --write` to regenerate it.',
    ).toBe(true);
  });

  describe('its rows match what the code refuses', () => {
    let ws: Workspace;
    let agent: Actor;
    let doc: string;
    beforeAll(async () => {
      ws = await Workspace.open({ tickIntervalMs: 0 });
      const ada = await ws.bootstrap({ name: 'Ada' });
      const me = ws.as(ada.id);
      doc = (await me.artifacts.create({ kind: 'text', title: 'Doc', content: 'a\n' })).id;
      const drafter = await me.identities.create({ kind: 'agent', name: 'drafter' });
      agent = ws.as(drafter.id); // holds no grant at all
    });

    /** The error `attempt` throws, which must be a BatonError. */
    async function refusal(attempt: () => Promise<unknown>): Promise<BatonError> {
      try {
        await attempt();
      } catch (err) {
        if (isBatonError(err)) return err;
        throw err;
      }
      return expect.fail('the call was not refused');
    }

    const row = (operation: string) => {
      const r = OPERATIONS.find((o) => o.operation === operation);
      if (!r) expect.fail(`OPERATIONS has no row "${operation}"`);
      return r;
    };

    const cases: [
      operation: string,
      needs: (doc: string) => string,
      attempt: () => Promise<unknown>,
    ][] = [
      [
        'artifacts.create',
        () => 'create on artifact:',
        () => agent.artifacts.create({ kind: 'text', title: 'x', content: 'x' }),
      ],
      [
        'artifacts.edit',
        (d) => `write on artifact:${d}`,
        () => agent.artifacts.edit(doc, { content: 'b\n', baseVersion: 1, reason: 'r' }),
      ],
      ['artifacts.archive', (d) => `write on artifact:${d}`, () => agent.artifacts.archive(doc)],
      [
        'artifacts.claim / release',
        (d) => `write on artifact:${d}`,
        () => agent.artifacts.claim(doc),
      ],
      ['artifacts.markSeen', (d) => `read on artifact:${d}`, () => agent.artifacts.markSeen(doc)],
      [
        'context.record',
        (d) => `comment on artifact:${d}`,
        () => agent.context.record({ type: 'note', about: [doc], text: 't' }),
      ],
      [
        'handoffs.offer',
        (d) => `handoff on artifact:${d}`,
        () => agent.handoffs.offer({ to: agent.id, artifacts: [doc] }),
      ],
      ['erase', () => 'admin on workspace', () => agent.erase('A'.repeat(43), 'why')],
      [
        'export',
        () => 'admin on workspace',
        async () => {
          for await (const _ of agent.export()) break;
        },
      ],
    ];

    it.each(cases)('%s', async (operation, needs, attempt) => {
      const r = row(operation);
      const err = await refusal(attempt);
      expect(err.code).toBe('FORBIDDEN');
      expect(err.message).toContain(needs(doc));
      expect(
        needs(doc).startsWith(`${r.action.split(' ')[0]} on ${r.resource.split('<')[0]}`),
      ).toBe(true);
    });

    it('artifacts.get / list / history / diff / changesSince', async () => {
      expect(row('artifacts.get / list / history / diff / changesSince').resource).toContain(
        'NOT_FOUND',
      );
      expect((await refusal(() => agent.artifacts.get(doc))).code).toBe('NOT_FOUND');
    });
  });
});
