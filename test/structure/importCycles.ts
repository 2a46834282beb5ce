import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

/** Source files by their path (posix, relative to one root): what the check reads. */
export type Sources = ReadonlyMap<string, string>;

/** One import cycle: the files that import each other, and one loop through all of them. */
export interface ImportCycle {
  /** The files of the cycle (a strongly connected component of the import graph), sorted. */
  files: string[];
  /** One walk along imports from the first file back to it, through every file of the cycle. */
  loop: string[];
}

/** The files' relative imports, resolved to the files they name. */
export interface ImportGraph {
  imports: Map<string, string[]>;
  /** Relative specifiers that name no file in the sources (the check would miss their edges). */
  unresolved: { from: string; specifier: string }[];
}

const SOURCE = /\.(c|m)?tsx?$/;

/** Reads every TypeScript file under `dirs` (relative to `root`), keyed by its path from `root`. */
export function readSources(root: string, dirs: readonly string[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const dir of dirs) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (!SOURCE.test(entry)) continue;
      const path = posix.join(dir, entry.split('\\').join('/'));
      sources.set(path, readFileSync(join(root, path), 'utf8'));
    }
  }
  return sources;
}

/**
 * Every import between the sources: `import`, `import type`, `export … from`, `import x =
 * require(…)`, side-effect imports and `import(…)` (in code or in a type), read with the
 * TypeScript scanner, so imports inside comments and strings are not counted.
 */
export function importGraph(sources: Sources): ImportGraph {
  const imports = new Map<string, string[]>();
  const unresolved: ImportGraph['unresolved'] = [];
  for (const [from, text] of sources) {
    const targets = new Set<string>();
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      const target = resolveImport(sources, from, specifier);
      if (target === undefined) unresolved.push({ from, specifier });
      else targets.add(target);
    }
    imports.set(from, [...targets]);
  }
  return { imports, unresolved };
}

/**
 * The source a relative specifier names: the ESM spelling `./x.js` means `./x.ts` (or `.tsx`,
 * `.d.ts`); `.mjs`/`.cjs` mean `.mts`/`.cts`; a specifier without an extension may also name
 * a folder's `index.ts`.
 */
export function resolveImport(
  sources: Sources,
  from: string,
  specifier: string,
): string | undefined {
  const base = posix.join(posix.dirname(from), specifier);
  const stem = base.replace(/\.(c|m)?jsx?$/, '');
  const candidates =
    stem === base
      ? [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`]
      : [base, ...tsSpellings(stem, base.slice(stem.length))];
  return candidates.find((path) => sources.has(path));
}

function tsSpellings(stem: string, jsExtension: string): string[] {
  if (jsExtension === '.mjs') return [`${stem}.mts`, `${stem}.d.mts`];
  if (jsExtension === '.cjs') return [`${stem}.cts`, `${stem}.d.cts`];
  return [`${stem}.ts`, `${stem}.tsx`, `${stem}.d.ts`];
}

/** The import cycles among `sources`, each one strongly connected component of the graph. */
export function importCycles(sources: Sources): ImportCycle[] {
  const { imports } = importGraph(sources);
  return stronglyConnected(imports)
    .filter(([first, ...rest]) => rest.length > 0 || imports.get(first!)!.includes(first!))
    .map((component) => {
      const files = component.sort();
      return { files, loop: loopThrough(imports, files) };
    })
    .sort((a, b) => (a.files[0]! < b.files[0]! ? -1 : 1));
}

/** A cycle as one line for a failure message: its size, then the loop. */
export function describeCycle(cycle: ImportCycle): string {
  return `cycle of ${cycle.files.length}: ${cycle.loop.join(' → ')}`;
}

/** Tarjan's algorithm: the graph's strongly connected components, each found once. */
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    components.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

/**
 * A closed walk from the component's first file that passes through every file of it: shortest
 * paths, chained from one not yet visited file to the next, then back to the start.
 */
function loopThrough(graph: Map<string, string[]>, files: string[]): string[] {
  const inside = new Set(files);
  const loop = [files[0]!];
  const unvisited = new Set(files.slice(1));
  let at = files[0]!;
  while (unvisited.size > 0) {
    const path = shortestPath(graph, inside, at, (node) => unvisited.has(node));
    for (const node of path) unvisited.delete(node);
    loop.push(...path);
    at = path.at(-1)!;
  }
  loop.push(...shortestPath(graph, inside, at, (node) => node === files[0]));
  return loop;
}

/** Breadth-first: the files after `from` up to the nearest one that is `wanted`, inside the set. */
function shortestPath(
  graph: Map<string, string[]>,
  inside: Set<string>,
  from: string,
  wanted: (node: string) => boolean,
): string[] {
  const cameFrom = new Map<string, string>();
  const seen = new Set([from]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const next of graph.get(node) ?? []) {
      if (!inside.has(next)) continue;
      if (wanted(next)) {
        const path = [next];
        for (let back = node; back !== from; back = cameFrom.get(back)!) path.unshift(back);
        return path;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      cameFrom.set(next, node);
      queue.push(next);
    }
  }
  throw new Error(`no import path from ${from} inside its own cycle`);
}
