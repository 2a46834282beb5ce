import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeCycle,
  importCycles,
  importGraph,
  readSources,
  resolveImport,
} from './importCycles.js';

const sources = (files: Record<string, string>) => new Map(Object.entries(files));
/** The files of each cycle among `files` (path → source text). */
const cycleFiles = (files: Record<string, string>) =>
  importCycles(sources(files)).map((cycle) => cycle.files);
/** One loop through each cycle among `files`. */
const cycleLoops = (files: Record<string, string>) =>
  importCycles(sources(files)).map((cycle) => cycle.loop);

describe('the import-cycle check', () => {
  it('finds a cycle of runtime imports', () => {
    const loops = cycleLoops({
      'src/a.ts': "import { b } from './b.js';\nexport const a = () => b;",
      'src/b.ts': "import { c } from './deep/c.js';\nexport const b = c;",
      'src/deep/c.ts': "import { a } from '../a.js';\nexport const c = a;",
    });
    expect(loops).toEqual([['src/a.ts', 'src/b.ts', 'src/deep/c.ts', 'src/a.ts']]);
  });

  it('finds a cycle of type-only imports', () => {
    const files = cycleFiles({
      'src/draft.ts':
        "import type { Workspace } from './workspace.js';\nexport type D = Workspace;",
      'src/workspace.ts': "import { type Draft } from './draft.js';\nexport type W = Draft;",
    });
    expect(files).toEqual([['src/draft.ts', 'src/workspace.ts']]);
  });

  it('finds a cycle through export … from and import() types', () => {
    const files = cycleFiles({
      'src/index.ts': "export { Actor } from './actor.js';\nexport * from './view.js';",
      'src/actor.ts': "export type Root = typeof import('./index.js');\nexport class Actor {}",
      'src/view.ts': "export type { Actor as A } from './actor.js';",
    });
    expect(files).toEqual([['src/actor.ts', 'src/index.ts', 'src/view.ts']]);
  });

  it('finds a file that imports itself, and two separate cycles apart', () => {
    const loops = cycleLoops({
      'a/self.ts': "import './self.js';",
      'b/one.ts': "import './two.js';",
      'b/two.ts': "import './one.js';\nimport '../a/self.js';",
    });
    expect(loops).toEqual([
      ['a/self.ts', 'a/self.ts'],
      ['b/one.ts', 'b/two.ts', 'b/one.ts'],
    ]);
  });

  it('finds nothing where imports only run one way', () => {
    const graph = sources({
      'src/cli.ts': "import { run } from './runner.js';\nimport { a } from './commands/a.js';",
      'src/commands/a.ts': "import { run } from '../runner.js';\nimport { z } from 'zod';",
      'src/runner.ts': [
        "import type { Command } from 'commander';",
        "// import { a } from './commands/a.js';",
        'const text = "import { a } from \'./commands/a.js\'";',
        "export const imported = ws.import('./cli.js');",
      ].join('\n'),
    });
    expect(importCycles(graph)).toEqual([]);
    expect(importGraph(graph).imports.get('src/runner.ts')).toEqual([]);
  });

  it('resolves ESM spellings to TypeScript files, and reports what it cannot resolve', () => {
    const files = sources({
      'src/a.ts': '',
      'src/b.tsx': '',
      'src/c.mts': '',
      'src/d/index.ts': '',
      'src/e.ts': "import './missing.js';\nimport 'node:fs';\nimport '@baton/core';",
    });
    expect(resolveImport(files, 'src/e.ts', './a.js')).toBe('src/a.ts');
    expect(resolveImport(files, 'src/e.ts', './b.js')).toBe('src/b.tsx');
    expect(resolveImport(files, 'src/e.ts', './c.mjs')).toBe('src/c.mts');
    expect(resolveImport(files, 'src/e.ts', './d')).toBe('src/d/index.ts');
    expect(resolveImport(files, 'src/d/index.ts', '../a.ts')).toBe('src/a.ts');
    expect(importGraph(files).unresolved).toEqual([
      { from: 'src/e.ts', specifier: './missing.js' },
    ]);
  });

  it('names every file of a cycle in its description', () => {
    const [cycle] = importCycles(
      sources({
        'src/a.ts': "import './b.js';\nimport './c.js';",
        'src/b.ts': "import './a.js';",
        'src/c.ts': "import './a.js';",
      }),
    );
    expect(describeCycle(cycle!)).toBe(
      'cycle of 3: src/a.ts → src/b.ts → src/a.ts → src/c.ts → src/a.ts',
    );
  });
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = readdirSync(new URL('../../packages', import.meta.url)).sort();
const SOURCES = readSources(
  ROOT,
  PACKAGES.map((name) => `packages/${name}/src`),
);
const CYCLES = importCycles(SOURCES);

describe('the packages’ sources', () => {
  it('are all read, and every relative import in them names a file', () => {
    expect(PACKAGES).toEqual(
      expect.arrayContaining(['cli', 'core', 'langgraph', 'mcp', 'openai-agents', 'sqlite']),
    );
    for (const name of PACKAGES) {
      expect([...SOURCES.keys()].some((path) => path.startsWith(`packages/${name}/src/`))).toBe(
        true,
      );
    }
    expect(importGraph(SOURCES).unresolved).toEqual([]);
  });

  for (const name of PACKAGES) {
    it(`of ${name} import one another without a cycle`, () => {
      const found = CYCLES.filter((cycle) =>
        cycle.files.some((path) => path.startsWith(`packages/${name}/`)),
      ).map(describeCycle);
      expect(found, `import cycles in packages/${name}:\n${found.join('\n')}`).toEqual([]);
    });
  }
});
