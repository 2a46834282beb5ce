import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact, ContextEntry, Handoff, Identity } from '@baton/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killSpawned, runTs } from '../helpers/spawnTs.js';
import { type CliDir, cliDir } from './baton.js';

const AGENT = 'test/cli/questionAgent.ts';

const dirs: string[] = [];
const clis: CliDir[] = [];
function fresh(): CliDir {
  const d = cliDir();
  clis.push(d);
  return d;
}
afterEach(killSpawned);
afterAll(() => {
  for (const d of clis) d.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the agent's own process; fails the test on a non-zero exit. */
async function agent(args: string[]): Promise<string> {
  const r = await runTs(AGENT, args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`agent ${args[0]} exited ${r.code}\n${r.stderr}`);
  return r.stdout.trim();
}

/** The short ids a line of text shows after `label` (`questions: ctx_ab…, ctx_cd…`). */
function idsAfter(text: string, label: string): string[] {
  const m = new RegExp(`${label}: ([^)]*)\\)`).exec(text);
  return m ? m[1]!.split(', ') : [];
}

describe('answering an agent from the terminal', () => {
  it('lets the person answer both questions of an agent’s handoff by short ids, and the agent’s next briefing holds both answers and no open question', async () => {
    const cli = fresh();
    const keys = mkdtempSync(join(tmpdir(), 'baton-agent-keys-'));
    dirs.push(keys);
    const ada = (await cli.json<{ identity: Identity }>(['init', '--name', 'Ada'])).identity;
    // The agent makes its key in its own directory; Ada registers only the public half.
    const did = await agent(['key', keys]);
    const drafter = await cli.json<Identity>(['id', 'create', 'drafter', '--key', did]);
    await cli.json([
      'grant',
      'drafter',
      '--resource',
      'artifact:*',
      '--actions',
      'read,create,comment,handoff',
    ]);
    const asked = JSON.parse(await agent(['ask', keys, cli.db, drafter.id, ada.id])) as {
      doc: string;
      handoff: string;
      questions: string[];
    };
    expect(asked.questions).toHaveLength(2);

    // The inbox shows the handoff and its two questions by short ids.
    const inbox = await cli.run(['inbox']);
    expect(inbox.code).toBe(0);
    const shortQuestions = idsAfter(inbox.stdout, 'questions');
    expect(shortQuestions).toHaveLength(2);
    shortQuestions.forEach((s, i) => {
      expect(asked.questions[i]!.startsWith(s)).toBe(true);
      expect(s.length).toBeLessThan(asked.questions[i]!.length);
    });
    const shortHandoff = inbox.stdout.split('\n')[1]!.split(/\s+/)[0]!;
    expect(asked.handoff.startsWith(shortHandoff)).toBe(true);
    expect(shortHandoff.length).toBeLessThan(asked.handoff.length);

    // Accepting by the short id: the briefing lists both questions with their ids.
    const accepted = await cli.run(['accept', shortHandoff]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain('## Open questions');
    for (const q of asked.questions) expect(accepted.stdout).toContain(q);
    // `context --open` lists them too, by id.
    const open = await cli.run(['context', '--open']);
    for (const s of shortQuestions) expect(open.stdout).toContain(s);

    // Ada answers both by their short ids.
    const first = await cli.run(['answer', shortQuestions[0]!, 'Yes, keep it warm']);
    expect(first.code, first.stderr).toBe(0);
    const second = await cli.json<ContextEntry>(['answer', shortQuestions[1]!, 'Friday']);
    expect(second).toMatchObject({ type: 'answer', answers: asked.questions[1], text: 'Friday' });
    expect((await cli.run(['context', '--open'])).stdout).toContain('No open questions.');
    // A second answer to the same question is refused, writing nothing.
    const again = await cli.run(['answer', shortQuestions[0]!, 'No']);
    expect(again.code).toBe(7);
    expect(again.stderr).toMatch(/answered already/);

    // Ada hands back a note only: the agent's briefing carries its answers all the same.
    const back = await cli.json<Handoff>(['offer', '--to', 'drafter', '--note', 'Answered']);
    const brief = JSON.parse(await agent(['brief', keys, cli.db, drafter.id, back.id])) as {
      answered: { question: string; answer: string }[];
      questions: string[];
      markdown: string;
    };
    expect(brief.questions).toEqual([]);
    expect(brief.answered).toEqual([
      { question: asked.questions[0], answer: 'Yes, keep it warm' },
      { question: asked.questions[1], answer: 'Friday' },
    ]);
    expect(brief.markdown).toContain('A (Ada): Yes, keep it warm');
    expect(brief.markdown).toContain('A (Ada): Friday');
    expect(brief.markdown).not.toContain('Open questions');

    // And so does a handoff of the draft itself (named by a short id).
    const list = await cli.run(['list']);
    const shortDoc = list.stdout.split('\n')[1]!.split(/\s+/)[0]!;
    expect(asked.doc.startsWith(shortDoc)).toBe(true);
    const withDoc = await cli.json<Handoff>(['offer', '--to', 'drafter', '--artifact', shortDoc]);
    const brief2 = JSON.parse(await agent(['brief', keys, cli.db, drafter.id, withDoc.id])) as {
      answered: unknown[];
      questions: string[];
    };
    expect(brief2.answered).toHaveLength(2);
    expect(brief2.questions).toEqual([]);
  }, 180_000);

  it('answers a question recorded in the ContextLog and one asked with `ask`, by either id', async () => {
    const cli = fresh();
    await cli.json(['init', '--name', 'Ada']);
    await cli.json(['id', 'create', 'drafter', '--kind', 'agent', '--key-here']);
    await cli.json(['grant', 'drafter', '--resource', 'workspace', '--actions', 'comment,handoff']);
    const q = await cli.json<ContextEntry>(['--as', 'drafter', 'question', 'Who signs off?']);
    const open = await cli.run(['context', '--open']);
    expect(open.stdout).toMatch(
      new RegExp(`${q.id.slice(0, 11)}\\S* .*question by drafter: Who signs off\\? \\(open\\)`),
    );
    const a = await cli.json<ContextEntry>(['answer', q.id.slice(0, 12), 'Ada does']);
    expect(a).toMatchObject({ type: 'answer', answers: q.id, text: 'Ada does' });
    const after = await cli.json<ContextEntry[]>(['context', '--type', 'question']);
    expect(after[0]).toMatchObject({ open: false, answer: { text: 'Ada does' } });

    // A question handoff: answered by the id of its entry, it is answered as a handoff too.
    const h = await cli.json<Handoff>(['--as', 'drafter', 'ask', '--to', 'Ada', 'Ship today?']);
    const answered = await cli.json<ContextEntry>(['answer', h.questions[0]!.slice(0, 12), 'yes']);
    expect(answered).toMatchObject({ type: 'answer', text: 'yes' });
    const shown = await cli.json<Handoff>(['--as', 'drafter', 'show', h.id]);
    expect(shown).toMatchObject({ status: 'answered', answer: { value: 'yes' } });
  }, 120_000);
});

describe('ids and names in the terminal', () => {
  it('takes unique prefixes, lists the candidates of an ambiguous one, and shows short ids in tables', async () => {
    const cli = fresh();
    await cli.json(['init', '--name', 'Ada']);
    const one = await cli.json<Artifact>(['new', '--title', 'One'], { input: 'one\n' });
    const two = await cli.json<Artifact>(['new', '--title', 'Two'], { input: 'two\n' });
    const list = await cli.run(['list']);
    const shown = list.stdout
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[0]!);
    expect(shown).toHaveLength(2);
    for (const s of shown) expect(s.length).toBeLessThan(one.id.length);
    expect(shown.sort()).toEqual(
      [one.id, two.id].map((id) => shown.find((s) => id.startsWith(s))).sort(),
    );
    // A unique prefix, with or without the kind's own prefix.
    const shortOne = shown.find((s) => one.id.startsWith(s))!;
    expect((await cli.run(['show', shortOne])).stdout).toBe('one\n');
    expect((await cli.run(['show', shortOne.slice('art_'.length)])).stdout).toBe('one\n');
    // An ambiguous one names every candidate, exits as a usage error and changes nothing.
    const ambiguous = await cli.run(['show', 'art_0']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(one.id);
    expect(ambiguous.stderr).toContain(two.id);
    expect(ambiguous.stderr).toMatch(/ambiguous/);
    const none = await cli.run(['history', 'art_Z']);
    expect(none.code).toBe(3);
  }, 120_000);

  it('refuses a second identity whose name differs only in case, and finds names whatever their case', async () => {
    const cli = fresh();
    await cli.json(['init', '--name', 'Ada']);
    const drafter = await cli.json<Identity>(['id', 'create', 'drafter', '--key-here']);
    const dup = await cli.run(['id', 'create', 'Drafter', '--key-here']);
    expect(dup.code).toBe(7);
    expect(dup.stderr).toMatch(/An identity named "drafter" exists already .*whatever their case/);
    expect((await cli.json<Identity[]>(['id', 'list'])).map((i) => i.name)).toEqual([
      'Ada',
      'drafter',
    ]);
    await cli.json(['grant', 'DRAFTER', '--resource', 'artifact:*', '--actions', 'read']);
    const grants = await cli.json<{ audience: string }[]>(['grants', 'Drafter']);
    expect(grants.map((g) => g.audience)).toEqual([drafter.id]);
  }, 120_000);
});

describe('smaller things the terminal shows', () => {
  it('lets an owner ask what another identity may do, and refuses the agent asking about the owner', async () => {
    const cli = fresh();
    await cli.json(['init', '--name', 'Ada']);
    await cli.json(['id', 'create', 'drafter', '--key-here']);
    await cli.json(['grant', 'drafter', '--resource', 'artifact:*', '--actions', 'read']);
    const yes = await cli.run(['can', 'read', 'artifact:x', '--for', 'drafter']);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/allowed: drafter: read on artifact:x/);
    const no = await cli.run(['can', 'write', 'artifact:x', '--for', 'drafter']);
    expect(no.code).toBe(4);
    expect(no.stdout).toMatch(/not allowed: drafter: write on artifact:x/);
    const refused = await cli.run(['--as', 'drafter', 'can', 'read', 'workspace', '--for', 'Ada']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/needs read on grant:\*/);
  }, 120_000);

  it('prints its version', async () => {
    const cli = fresh();
    const r = await cli.run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses to offer a handoff with nothing in it, writing nothing', async () => {
    const cli = fresh();
    await cli.json(['init', '--name', 'Ada']);
    await cli.json(['id', 'create', 'drafter', '--key-here']);
    const before = await cli.json<unknown[]>(['log']);
    const r = await cli.run(['offer', '--to', 'drafter']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Nothing to hand over/);
    expect(await cli.json<unknown[]>(['log'])).toEqual(before);
  }, 120_000);

  it('shows exactly what an approval decides on brief, show and approve', async () => {
    const cli = fresh();
    await cli.json(['init', '--name', 'Ada']);
    await cli.json(['id', 'create', 'drafter', '--key-here']);
    const g = await cli.json<{ id: string }>([
      'grant',
      'drafter',
      '--resource',
      'artifact:*',
      '--actions',
      'read,publish',
      '--approval',
      'publish',
    ]);
    const asked = await cli.run([
      '--as',
      'drafter',
      'do',
      'publish',
      'artifact:launch',
      '--summary',
      'Ship the launch post',
    ]);
    expect(asked.code).toBe(5);
    const [request] = await cli.json<Handoff[]>(['inbox']);
    const short = request!.id.slice(0, 12);
    for (const args of [
      ['brief', short],
      ['show', short],
    ]) {
      const r = await cli.run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Approval request ${request!.id}`);
      expect(r.stdout).toMatch(/requester\s+drafter \(id_/);
      expect(r.stdout).toMatch(/action\s+publish/);
      expect(r.stdout).toMatch(/resource\s+artifact:launch/);
      expect(r.stdout).toMatch(/summary\s+Ship the launch post/);
      expect(r.stdout).toMatch(/payload\s+\(none\)/);
      expect(r.stdout).toContain(request!.approval!.digest);
      expect(r.stdout).toMatch(new RegExp(`grant\\s+${g.id}`));
    }
    const approved = await cli.run(['approve', short]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/action\s+publish/);
    expect(approved.stdout).toMatch(/resource\s+artifact:launch/);
    expect(approved.stdout).toContain(request!.approval!.digest);
    expect(approved.stdout).toMatch(/is approved/);
  }, 120_000);
});
