import type { BatonError } from '@baton/core';

/** A word as a shell takes it: as is when plain, else in single quotes. */
export function shellArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) && !s.includes('*') ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

interface Need {
  action: string;
  resource: string;
}

function needsOf(value: unknown): Need[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.filter(
    (n): n is Need =>
      typeof n === 'object' &&
      n !== null &&
      typeof (n as Need).action === 'string' &&
      typeof (n as Need).resource === 'string',
  );
}

/** `baton grant` commands giving `who` every need, one per resource. */
function grantCommands(who: string, needs: Need[]): string[] {
  const byResource = new Map<string, string[]>();
  for (const n of needs) {
    // Creating names the new thing's id, which no grant can know beforehand: its kind's `*`.
    const resource = n.action === 'create' ? n.resource.replace(/^(\w+):.*$/, '$1:*') : n.resource;
    byResource.set(resource, [...(byResource.get(resource) ?? []), n.action]);
  }
  return [...byResource].map(
    ([resource, actions]) =>
      `baton grant ${shellArg(who)} --resource ${shellArg(resource)} --actions ${[...new Set(actions)].join(',')}`,
  );
}

/**
 * Library advice in core's messages (calls a program makes), each with what replaces it for a
 * person at a terminal: a sentence to drop (its advice given as a command instead) or rewrite.
 */
const LIBRARY_ADVICE: readonly [RegExp, string | ((...m: string[]) => string)][] = [
  [/ ?Grant it with actor\.capabilities\.grant\(.*?\)(?: first)?\./, ''],
  [/ ?Resolve them and edit again with baseVersion \d+\./, ''],
  [/ ?Retry, or raise busyTimeoutMs\./, ''],
  [
    / ?Wait for it with actor\.handoffs\.wait\('[^']*'\) and call again with the same payload\./,
    '',
  ],
  [/ ?Check the grant it was requested under with actor\.can\('[^']*', '[^']*'\)\./, ''],
  [/ ?List them with actor\.(?:identities|artifacts)\.list\(\)\./, ''],
  [/ ?Open the workspace with a keyring that has it, or pass ws\.as\(id, \{ signer \}\)\./, ''],
  [/Call workspace\.bootstrap\(\{ name \}\) first\./, 'Run `baton init --name <your name>` first.'],
  [/Run workspace\.verify\(\)/, 'Run `baton verify`'],
];

/**
 * The message and advice `baton` prints for `err`: core's message with library advice taken
 * out, and the commands (with their flags) that fix it.
 *
 * @param nameOf - Names an identity id for the commands shown (a name is easier to type).
 */
export function adviceFor(
  err: BatonError,
  nameOf: (id: string) => string,
): { message: string; advice: string[] } {
  let message = err.message;
  for (const [pattern, replacement] of LIBRARY_ADVICE)
    message = message.replace(pattern, replacement as string);
  message = message.trim();
  const d = err.details ?? {};
  const advice: string[] = [];
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

  switch (err.code) {
    case 'FORBIDDEN': {
      const recipient = str(d.recipient);
      const actor = str(d.actor);
      const needs = needsOf(d.needs);
      if ((recipient ?? actor) && needs.length > 0) {
        const cmds = grantCommands(nameOf((recipient ?? actor)!), needs);
        advice.push(
          `An owner (or someone holding it, with \`baton delegate\`) runs: ${cmds.map((c) => `\`${c}\``).join(' and ')}`,
        );
      } else if (/holds no key for/.test(err.message)) {
        advice.push(
          'Act as an identity whose key file is here (`--as <identity>`, `baton use`), or point --keys (env BATON_KEYS) at the key directory that holds its key.',
        );
      } else if (
        /approved \(request \S+\), but the approval cannot be used now/.test(err.message)
      ) {
        const m = / on (\S+) was approved/.exec(err.message);
        const a = /^(\S+) on /.exec(err.message)?.[1];
        if (a && m) advice.push(`\`baton can ${shellArg(a)} ${shellArg(m[1]!)}\` says why.`);
      }
      break;
    }
    case 'APPROVAL_REQUIRED': {
      const approval = str(d.approvalId);
      if (approval)
        advice.push(
          `An approver runs \`baton approve ${approval}\` (or \`baton deny ${approval}\`); then run this again, unchanged.`,
        );
      break;
    }
    case 'MERGE_CONFLICT': {
      const artifact = str(d.artifact);
      const theirs = d.theirsVersion;
      if (artifact)
        advice.push(
          `Run \`baton edit ${artifact}\` again: it starts from version ${String(theirs)}, the latest; make your change there.`,
        );
      break;
    }
    case 'CONFLICT':
      advice.push('Someone wrote at the same moment: run the command again.');
      break;
    case 'STORE':
      if (typeof d.sqlite === 'string' && d.sqlite.startsWith('SQLITE_BUSY'))
        advice.push(
          'Run it again, or wait longer for the lock with --busy-timeout <ms> (env BATON_BUSY_TIMEOUT_MS; default 5000).',
        );
      break;
    case 'NOT_FOUND':
      if (/^Identity /.test(err.message)) advice.push('`baton id list` shows who is here.');
      else if (/^Artifact /.test(err.message)) advice.push('`baton list` shows the artifacts.');
      else if (/^Handoff /.test(err.message))
        advice.push('`baton inbox --all` shows the handoffs waiting on you.');
      break;
  }
  return { message, advice };
}
