import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact, BatonEvent, Grant, Handoff, Identity, VerifyReport } from '@baton/core';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killSpawned } from '../helpers/spawnTs.js';
import { BATON, type CliDir, cliDir, TSX_LOADER } from './baton.js';

const dirs: CliDir[] = [];
function fresh(): CliDir {
  const d = cliDir();
  dirs.push(d);
  return d;
}
afterEach(killSpawned);
afterAll(() => {
  for (const d of dirs) d.remove();
});

const DRAFT = 'Launch post\n\nWe launch soon.\nIt is fast.\n';

/** Ada's workspace with an agent, "drafter", allowed to draft, comment, hand off and (with her yes) publish. */
async function setUp(cli: CliDir): Promise<{ ada: Identity; drafter: Identity }> {
  const init = await cli.json<{ identity: Identity }>(['init', '--name', 'Ada']);
  const drafter = await cli.json<Identity>([
    'id',
    'create',
    'drafter',
    '--kind',
    'agent',
    '--key-here',
  ]);
  await cli.json<Grant>([
    'grant',
    'drafter',
    '--resource',
    'artifact:*',
    '--actions',
    'read,create,write,comment,handoff,publish',
    '--approval',
    'publish=Ada',
  ]);
  return { ada: init.identity, drafter };
}

describe('the baton command', () => {
  let cli: CliDir;
  let ada: Identity;
  let drafter: Identity;
  beforeAll(async () => {
    cli = fresh();
    ({ ada, drafter } = await setUp(cli));
  }, 120_000);

  it('lets two identities pass work back and forth, each briefed with what the other did and why', async () => {
    // The agent drafts, records a decision and hands the draft to Ada with a question.
    const doc = await cli.json<Artifact>(
      ['--as', 'drafter', 'new', '--title', 'Launch post', '--reason', 'first draft'],
      {
        input: DRAFT,
      },
    );
    expect(doc).toMatchObject({ title: 'Launch post', version: 1, content: DRAFT });
    await cli.json([
      '--as',
      'drafter',
      'decide',
      'Lead with speed',
      '--why',
      'it is the news',
      '--about',
      doc.id,
    ]);
    const offer = await cli.json<Handoff>([
      '--as',
      'drafter',
      'offer',
      '--to',
      'Ada',
      '--artifact',
      doc.id,
      '--note',
      'Draft ready',
      '--question',
      'Tone right?',
    ]);

    // Ada (the identity `init` chose) sees it waiting, accepts, and reads the briefing.
    const inbox = await cli.json<Handoff[]>(['inbox']);
    expect(inbox.map((h) => h.id)).toEqual([offer.id]);
    expect(inbox[0]).toMatchObject({
      kind: 'work',
      from: drafter.id,
      status: 'offered',
      noteText: 'Draft ready',
    });
    const brief = await cli.run(['accept', offer.id]);
    expect(brief.code).toBe(0);
    expect(brief.stdout).toContain('Draft ready');
    expect(brief.stdout).toContain('Lead with speed');
    expect(brief.stdout).toContain('Tone right?');

    // Three edits with reasons, from files.
    const edits: [string, string][] = [
      ['Launch post\n\nWe launch today.\nIt is fast.\n', 'say when'],
      ['Launch post\n\nWe launch today.\nIt is twice as fast.\n', 'be concrete'],
      [
        'Launch post\n\nWe launch today.\nIt is twice as fast.\nFree for teams under 10.\n',
        'lead with pricing',
      ],
    ];
    for (const [i, [text, reason]] of edits.entries()) {
      const file = cli.file(`edit-${i}.txt`, text);
      const r = await cli.run(['edit', doc.id, '--file', file, '--reason', reason]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`version ${i + 2} — "${reason}"`);
    }
    const back = await cli.json<Handoff>([
      'offer',
      '--to',
      drafter.id,
      '--artifact',
      doc.id,
      '--note',
      'Your turn',
    ]);
    expect((await cli.json<Handoff>(['complete', offer.id])).status).toBe('completed');

    // The agent's briefing holds exactly Ada's three edits, with her reasons and the diffs.
    const agentBrief = await cli.run(['--as', 'drafter', 'accept', back.id]);
    expect(agentBrief.code).toBe(0);
    for (const [, reason] of edits) expect(agentBrief.stdout).toContain(`by Ada: ${reason}`);
    expect(agentBrief.stdout).toContain('+Free for teams under 10.');
    expect(agentBrief.stdout).toContain('Your turn');
    // Accepting marked the changes seen: nothing new since.
    expect(await cli.json<unknown[]>(['--as', 'drafter', 'changes', doc.id])).toEqual([]);
    expect((await cli.json<Handoff>(['--as', 'drafter', 'complete', back.id])).status).toBe(
      'completed',
    );

    const history = await cli.json<{ version: number; author: string; reason?: string }[]>([
      'history',
      doc.id,
    ]);
    expect(history.map((v) => [v.version, v.author, v.reason])).toEqual([
      [1, drafter.id, 'first draft'],
      [2, ada.id, 'say when'],
      [3, ada.id, 'be concrete'],
      [4, ada.id, 'lead with pricing'],
    ]);
    const record = await cli.json<{ handoffs: { offered: number; completed: number } }>([
      'record',
      'drafter',
    ]);
    expect(record.handoffs).toMatchObject({ offered: 1 });
    const shown = await cli.run(['show', doc.id]);
    expect(shown.stdout).toBe(edits[2]![0]);
    expect(shown.stderr).toContain('version 4 of 4');
  }, 120_000);

  it('edits in $EDITOR, asks for the reason, writes nothing for no change, and shows a merge conflict clearly', async () => {
    const doc = await cli.json<Artifact>(['new', '--title', 'Notes', '--reason', 'start'], {
      input: 'one\ntwo\nthree\n',
    });
    // An editor that changes the second line; the reason comes from the prompt (stdin).
    const sed = cli.script('edit-two.sh', `sed -i 's/^two$/TWO/' "$1"`);
    const r = await cli.run(['edit', doc.id], {
      env: { EDITOR: sed },
      input: 'shout the middle\n',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Why this change?');
    expect(r.stdout).toContain('version 2 — "shout the middle"');
    expect((await cli.json<Artifact>(['show', doc.id])).content).toBe('one\nTWO\nthree\n');

    // An editor that saves the file unchanged: nothing is written.
    const before = await cli.json<BatonEvent[]>(['log']);
    const noop = await cli.run(['edit', doc.id, '--reason', 'nothing'], {
      env: { EDITOR: 'true' },
    });
    expect(noop.code).toBe(0);
    expect(noop.stdout).toContain('No change; nothing written.');
    expect(await cli.json<BatonEvent[]>(['log'])).toHaveLength(before.length);

    // An editor that fails: nothing written, and what was typed is kept.
    const failing = cli.script('edit-fail.sh', `echo "half a thought" >> "$1"; exit 3`);
    const failed = await cli.run(['edit', doc.id, '--reason', 'x'], { env: { EDITOR: failing } });
    expect(failed.code).toBe(2);
    const keptAt = /What you typed is in (\S+)\./.exec(failed.stderr)?.[1];
    expect(keptAt && readFileSync(keptAt, 'utf8')).toContain('half a thought');
    expect(await cli.json<BatonEvent[]>(['log'])).toHaveLength(before.length);

    // No $EDITOR: a clear error, nothing written.
    const none = await cli.run(['edit', doc.id, '--reason', 'x']);
    expect(none.code).toBe(7);
    expect(none.stderr).toMatch(/Set \$EDITOR/);

    // While Ada's editor is open, the agent changes the same line: Ada's save conflicts.
    const agentText = cli.file('agent.txt', 'one\nTwo (agent)\nthree\n');
    const racing = cli.script(
      'edit-race.sh',
      [
        `"${process.execPath}" --import "${TSX_LOADER}" --conditions=source "${BATON}" --as drafter edit ${doc.id} --file "${agentText}" --reason "agent fix" >/dev/null`,
        `sed -i 's/^TWO$/Two (Ada)/' "$1"`,
      ].join('\n'),
    );
    const conflict = await cli.run(['edit', doc.id, '--reason', 'my fix'], {
      env: { EDITOR: racing },
    });
    expect(conflict.code).toBe(6);
    expect(conflict.stderr).toContain('MERGE_CONFLICT');
    expect(conflict.stderr).toContain('<<<<<<< yours');
    expect(conflict.stderr).toContain('Two (Ada)');
    expect(conflict.stderr).toContain('Two (agent)');
    expect(conflict.stderr).toContain('>>>>>>> theirs (version 3)');
    // The advice is the command to run again, not the library's baseVersion.
    expect(conflict.stderr).toContain(
      `Run \`baton edit ${doc.id}\` again: it starts from version 3`,
    );
    expect(conflict.stderr).not.toContain('baseVersion');
    // Ada's text is kept for her, and only the agent's edit was written.
    const kept = /Your edited text is kept in (\S+)\./.exec(conflict.stderr)?.[1];
    expect(kept && readFileSync(kept, 'utf8')).toBe('one\nTwo (Ada)\nthree\n');
    const after = await cli.json<Artifact>(['show', doc.id]);
    expect(after).toMatchObject({ version: 3, content: 'one\nTwo (agent)\nthree\n' });
  });

  it('runs an approval round trip: asked, approved, used once, asked again', async () => {
    const resource = 'artifact:launch-post';
    const publish = (json = false) =>
      cli.run([
        ...(json ? ['--json'] : []),
        '--as',
        'drafter',
        'do',
        'publish',
        resource,
        '--summary',
        'Publish the launch post',
      ]);
    const can = await cli.run(['--as', 'drafter', 'can', 'publish', resource]);
    expect(can.code).toBe(5);
    expect(can.stdout).toMatch(/not allowed: publish on artifact:launch-post/);

    const first = await publish(true);
    expect(first.code).toBe(5);
    const err = JSON.parse(first.stderr) as {
      error: { code: string; details: { approvalId: string } };
    };
    expect(err.error.code).toBe('APPROVAL_REQUIRED');
    const request = err.error.details.approvalId;

    const waiting = await cli.json<Handoff[]>(['inbox']);
    const item = waiting.find((h) => h.id === request);
    expect(item).toMatchObject({
      kind: 'approval',
      from: drafter.id,
      approval: { action: 'publish', resource, summary: 'Publish the launch post' },
    });
    const human = await cli.run(['inbox']);
    expect(human.stdout).toContain(
      'approve publish on artifact:launch-post: Publish the launch post',
    );

    const decided = await cli.json<Handoff[]>(['approve', request, '--note', 'go']);
    expect(decided.map((h) => [h.id, h.status])).toEqual([[request, 'approved']]);

    const usedRun = await publish(true);
    expect(usedRun.code).toBe(0);
    const used = JSON.parse(usedRun.stdout) as { approval: string; event: BatonEvent };
    expect(used.approval).toBe(request);
    expect(used.event.type).toBe('grant.exercised@1');
    // An approval is good for one use: the next publish asks again.
    const again = await publish();
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/needs approval by Ada/);

    // Ada can say no, too; asking again after a no is a new request.
    const next = /request (\S+) is offered/.exec(again.stderr)![1]!;
    expect(again.stderr).toContain(`baton approve ${next}`);
    expect((await cli.json<Handoff[]>(['deny', next]))[0]!.status).toBe('denied');
    const afterNo = await publish();
    expect(afterNo.code).toBe(5);
    const third = /request (\S+) is offered/.exec(afterNo.stderr)![1]!;
    expect(third).not.toBe(next);
  });

  it('carries a question to a person and the answer back', async () => {
    await cli.json(['grant', 'drafter', '--resource', 'workspace', '--actions', 'handoff,comment']);
    const asked = await cli.json<Handoff>([
      '--as',
      'drafter',
      'ask',
      '--to',
      'Ada',
      'Ship it today?',
      '--option',
      'yes',
      '--option',
      'no',
    ]);
    const inbox = await cli.run(['inbox']);
    expect(inbox.stdout).toContain('question: Ship it today? [yes / no]');
    const answered = await cli.json<Handoff>(['answer', asked.id, 'yes']);
    expect(answered).toMatchObject({ status: 'answered', answer: { by: ada.id, value: 'yes' } });
    // The answer is in the ContextLog, where whoever may read it finds it.
    const answers = await cli.json<{ type: string; text: string; actor: string }[]>([
      'context',
      '--type',
      'answer',
    ]);
    expect(answers.at(-1)).toMatchObject({ type: 'answer', actor: ada.id });
    expect(answers.at(-1)!.text).toContain('yes');
  });

  it('prints JSON that parses, on every read command', async () => {
    const who = await cli.json<{ identity: Identity; db: string }>(['whoami']);
    expect(who.identity.id).toBe(ada.id);
    expect(who.db).toBe(cli.db);
    const ids = await cli.json<Identity[]>(['id', 'list']);
    expect(ids.map((i) => i.name).sort()).toEqual(['Ada', 'drafter']);
    const shown = await cli.json<Identity & { grants: Grant[] }>(['id', 'show', 'drafter']);
    expect(shown.grants.map((g) => g.resource)).toEqual(['artifact:*', 'workspace']);
    const grants = await cli.json<Grant[]>(['grants', 'drafter']);
    expect(grants[0]).toMatchObject({ audience: drafter.id, resource: 'artifact:*' });
    const can = await cli.json<{ allowed: boolean; chain: Grant[] }>([
      '--as',
      'drafter',
      'can',
      'write',
      'artifact:x',
    ]);
    expect(can.allowed).toBe(true);
    expect(can.chain.map((g) => g.id)).toContain(grants[0]!.id);
    const list = await cli.json<Artifact[]>(['list']);
    expect(list.length).toBeGreaterThan(0);
    const log = await cli.json<BatonEvent[]>(['log', '--type', 'artifact.created']);
    expect(log.every((e) => e.type === 'artifact.created@1')).toBe(true);
    expect(log.length).toBe(list.length);
    const byDrafter = await cli.json<BatonEvent[]>(['log', '--actor', 'drafter', '--limit', '2']);
    expect(byDrafter).toHaveLength(2);
    expect(byDrafter.every((e) => e.actor === drafter.id)).toBe(true);
    await cli.json(['note', 'costs are tracked', '--about', list[0]!.id]);
    const context = await cli.json<{ type: string; text: string }[]>([
      'context',
      '--about',
      list[0]!.id,
    ]);
    expect(context.some((e) => e.type === 'note' && e.text === 'costs are tracked')).toBe(true);
    expect(await cli.json<unknown[]>(['costs', '--by', 'actor'])).toEqual([]);
    const verify = await cli.json<VerifyReport>(['verify']);
    expect(verify).toMatchObject({ ok: true, erased: [] });
  });

  it('shows the log live with watch', async () => {
    const watcher = cli.spawn(['watch', '--json', '--count', '1', '--type', 'context.recorded']);
    // The watch starts at the head: wait until it is running, then record a note.
    await new Promise((done) => setTimeout(done, 1_500));
    await cli.json(['note', 'seen live']);
    const line = await watcher.waitForLine(/context\.recorded/, 30_000);
    expect((JSON.parse(line) as BatonEvent).actor).toBe(ada.id);
    expect((await watcher.exited).code).toBe(0);
  });
});

describe('trust from the command line', () => {
  it('verify passes on a sound log and exits 8 at the event someone changed in the database', async () => {
    const cli = fresh();
    await setUp(cli);
    await cli.json(['new', '--title', 'Plan', '--reason', 'start'], { input: 'step one\n' });
    const cp = join(cli.dir, 'checkpoint.json');
    expect((await cli.run(['checkpoint', '--out', cp])).code).toBe(0);
    await cli.json(['note', 'the plan is small']);
    const ok = await cli.run(['verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/The log checks out: \d+ events/);
    expect((await cli.json<VerifyReport>(['verify', '--from', cp])).ok).toBe(true);

    // Someone with the file shifts an event's time (its signature no longer matches).
    const db = new Database(cli.db);
    const row = db
      .prepare("SELECT seq, body FROM baton_events WHERE type = 'context.recorded@1'")
      .get() as {
      seq: number;
      body: string;
    };
    const body = JSON.parse(row.body) as BatonEvent;
    body.at = new Date(Date.parse(body.at) + 1).toISOString();
    db.prepare('UPDATE baton_events SET body = ? WHERE seq = ?').run(JSON.stringify(body), row.seq);
    db.close();

    const bad = await cli.run(['verify']);
    expect(bad.code).toBe(8);
    expect(bad.stdout).toContain(`does not check out at seq ${row.seq}`);
    const json = await cli.run(['--json', 'verify', '--from', cp]);
    expect(json.code).toBe(8);
    expect((JSON.parse(json.stdout) as VerifyReport).problem?.seq).toBe(row.seq);
  });

  it('exports, imports into a new database after checking it all, and erases a body', async () => {
    const cli = fresh();
    await setUp(cli);
    await cli.json(['new', '--title', 'Secret', '--reason', 'oops'], {
      input: 'the password is hunter2\n',
    });
    const out = join(cli.dir, 'export.jsonl');
    expect((await cli.run(['export', out])).code).toBe(0);
    const copy = join(cli.dir, 'copy', 'workspace.db');
    const imported = await cli.run(['--db', copy, 'import', out]);
    expect(imported.stdout).toMatch(/Imported \d+ events/);
    expect(imported.code).toBe(0);
    expect((await cli.json<VerifyReport>(['--db', copy, '--as', 'Ada', 'verify'])).ok).toBe(true);
    // Importing again over a workspace is refused.
    const twice = await cli.run(['--db', copy, 'import', out]);
    expect(twice.code).toBe(7);
    expect(twice.stderr).toMatch(/holds a workspace already/);

    // Erase the secret's body: reads show the erasure, verify lists it.
    const log = await cli.json<BatonEvent[]>(['log', '--type', 'artifact.created']);
    const hash = (log.at(-1)!.data as { content: string }).content;
    const erased = await cli.run(['erase', hash, '--reason', 'a password was pasted']);
    expect(erased.code).toBe(0);
    const report = await cli.json<VerifyReport>(['verify']);
    expect(report.ok).toBe(true);
    expect(report.erased.map((e) => e.hash)).toEqual([hash]);
    const shown = await cli.run(['show', (log.at(-1)!.data as { id: string }).id]);
    expect(shown.stdout).toMatch(/erased by Ada: a password was pasted/);
    expect(shown.stdout).not.toContain('hunter2');
  });

  it('switches identity only to one whose own key is here', async () => {
    const cli = fresh();
    const { drafter } = await setUp(cli);
    const used = await cli.run(['use', 'drafter']);
    expect(used.code).toBe(0);
    expect((await cli.json<{ identity: Identity }>(['whoami'])).identity.id).toBe(drafter.id);
    expect((await cli.run(['use', 'Ada'])).code).toBe(0);
    // An agent whose key was made in its own process: its key is not in this directory.
    const elsewhere = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
    await cli.json(['id', 'create', 'remote-agent', '--key', elsewhere]);
    const refused = await cli.run(['use', 'remote-agent']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/key of remote-agent .* is not here/);
    expect((await cli.json<{ identity: Identity }>(['whoami'])).identity.name).toBe('Ada');
    const unknown = await cli.run(['use', 'nobody']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/No identity "nobody"/);
  });

  it('says what to do where there is no workspace yet, and refuses a second init', async () => {
    const cli = fresh();
    const none = await cli.run(['inbox']);
    expect(none.code).toBe(7);
    expect(none.stderr).toMatch(/No workspace at .*baton init/);
    await setUp(cli);
    const again = await cli.run(['init', '--name', 'Bob']);
    expect(again.code).toBe(7);
    expect(again.stderr).toMatch(/holds the workspace "Ada's workspace" already/);
    const config = readFileSync(join(cli.dir, '.baton', 'config.json'), 'utf8');
    expect(JSON.parse(config)).toHaveProperty('as');
    const keys = readdirSync(join(cli.dir, '.baton', 'keys'));
    expect(keys).toHaveLength(2);
    for (const k of keys)
      expect(statSync(join(cli.dir, '.baton', 'keys', k)).mode & 0o777).toBe(0o600);
  });
});
