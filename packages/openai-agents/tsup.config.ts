import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// tsup's `clean` keeps old `.d.ts` chunks (their names carry a hash): empty `dist` once,
// when the config loads, so stale declarations never reach the tarball.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  target: 'node20',
  // Keep `node:` specifiers as written: every supported runtime understands them.
  removeNodeProtocol: false,
  sourcemap: true,
  dts: true,
  // The framework (the peers), @baton/core and zod are the app's: never bundled.
  external: ['@openai/agents-core', '@baton/core', 'zod'],
});
