import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// tsup's `clean` keeps old `.d.ts` chunks (their names carry a hash): empty `dist` once,
// when the config loads, so stale declarations never reach the tarball.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

export default defineConfig({
  entry: { index: 'src/index.ts', baton: 'src/baton.ts' },
  // A command: ESM only (top-level await in the entry), Node ≥ 20.19.
  format: ['esm'],
  target: 'node20',
  removeNodeProtocol: false,
  sourcemap: true,
  dts: { entry: { index: 'src/index.ts' } },
  external: [
    'better-sqlite3',
    '@baton/core',
    '@baton/sqlite',
    '@baton/mcp',
    'zod',
    'commander',
    'picocolors',
    'cli-progress',
  ],
});
