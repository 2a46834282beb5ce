/**
 * Keeps the code blocks of docs/*.md equal to the regions of the programs they quote.
 *
 * In a program, a region is the lines between `// #region <name>` and
 * `// #endregion <name>`. In a guide, each ```ts block follows a marker line
 * `<!-- snippet: test/docs/<file>.ts#<name> -->` and holds the region's text, dedented.
 * test/docs.test.ts checks this; run
 * `pnpm exec tsx --conditions=source test/docs/snippets.ts --write` to copy every region
 * into the guides after changing a program.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The guides: every Markdown file directly in docs/. */
export function guides(): string[] {
  return readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
}

/** `lines` with their common leading indentation removed. */
export function dedent(lines: string[]): string {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

/** The named regions of a program (path relative to the root), dedented. */
export function regions(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const open = new Map<string, number>();
  lines.forEach((line, i) => {
    const m = /^\s*\/\/ #(region|endregion) (\S+)\s*$/.exec(line);
    if (!m) return;
    const [, kind, name] = m as unknown as [string, string, string];
    if (kind === 'region') open.set(name, i);
    else if (open.has(name)) {
      out.set(name, dedent(lines.slice(open.get(name)! + 1, i)));
      open.delete(name);
    }
  });
  for (const name of open.keys()) throw new Error(`${file}: region "${name}" is never closed`);
  return out;
}

/** One ```ts block of a guide and the marker before it. */
export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  /** `test/docs/x.ts#name`, or `undefined` when the block has no marker. */
  source: string | undefined;
  /** The block's text between the fences. */
  text: string;
  /** Offsets of the text in the guide, for rewriting it. */
  start: number;
  end: number;
}

/** Every ```ts block of a guide. */
export function blocks(guide: string): Block[] {
  const text = readFileSync(join(ROOT, guide), 'utf8');
  const out: Block[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const before = text.slice(0, m.index).trimEnd().split('\n').at(-1) ?? '';
    const marker = /^<!-- snippet: (\S+) -->$/.exec(before);
    const start = m.index + '```ts\n'.length;
    out.push({
      line: text.slice(0, m.index).split('\n').length,
      source: marker?.[1],
      text: m[1]!.replace(/\n$/, ''),
      start,
      end: start + m[1]!.length,
    });
  }
  return out;
}

/** The region a marker names, or an error message saying what is wrong. */
export function quoted(source: string): { text: string } | { error: string } {
  const [file, name] = source.split('#') as [string, string | undefined];
  if (!name) return { error: `the marker names no region (write ${file}#<region>)` };
  let found: Map<string, string>;
  try {
    found = regions(file);
  } catch (err) {
    return { error: (err as Error).message };
  }
  const text = found.get(name);
  if (text === undefined) return { error: `${file} has no region "${name}"` };
  return { text };
}

/** Rewrites every marked block of every guide with the region it names. */
export function writeAll(): string[] {
  const changed: string[] = [];
  for (const guide of guides()) {
    let text = readFileSync(join(ROOT, guide), 'utf8');
    for (const b of blocks(guide).reverse()) {
      if (!b.source) continue;
      const q = quoted(b.source);
      if ('error' in q) throw new Error(`${guide}:${b.line}: ${q.error}`);
      text = `${text.slice(0, b.start)}${q.text}\n${text.slice(b.end)}`;
    }
    if (text !== readFileSync(join(ROOT, guide), 'utf8')) {
      writeFileSync(join(ROOT, guide), text);
      changed.push(guide);
    }
  }
  return changed;
}

if (process.argv.includes('--write')) {
  const changed = writeAll();
  console.log(changed.length ? `updated ${changed.join(', ')}` : 'every snippet is up to date');
}
