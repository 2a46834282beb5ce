/** Formatting shared by the bench tables. */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';

/** A time given in ns, in the unit that reads best. */
export function fmtUs(ns: number): string {
  const v = ns / 1_000;
  if (v >= 1_000) return `${(v / 1_000).toFixed(2)} ms`;
  if (v >= 100) return `${v.toFixed(0)} µs`;
  if (v >= 10) return `${v.toFixed(1)} µs`;
  return `${v.toFixed(2)} µs`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtRatio(r: number): string {
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

export function fmtPct(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)} %`;
}

export function fmtMb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

export const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

/** Prints an aligned table: the first column left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): void {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    `  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')}`.trimEnd();
  console.log(line(head));
  console.log(`  ${widths.map((w) => '─'.repeat(w)).join('   ')}`);
  for (const r of rows) console.log(line(r));
}

/**
 * Writes `report` as test/bench/results/`name` (numbers to 6 significant digits) and returns
 * the file's path.
 */
export async function writeResults(name: string, report: object): Promise<string> {
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = new URL(name, dir);
  const round = (_key: string, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v;
  await writeFile(file, `${JSON.stringify(report, round, 2)}\n`);
  return file.pathname;
}

/** The checkout's short revision, `+dirty` when the packages have uncommitted changes; `unknown` without git. */
export function gitRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'packages') ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** The machine's CPU model and count, as bench headers print it. */
export function cpuName(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} ×${cpus.length}`;
}
