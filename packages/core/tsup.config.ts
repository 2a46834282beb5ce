import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// @noble/* and @scure/base ship ESM only. The CommonJS build carries its own
// copy so `require('@baton/core')` works without relying on require(esm); the ESM build
// imports them like any dependency.
const ESM_ONLY_DEPS = /^(@noble\/[^/]+|@scure\/base)(\/.*)?$/;

// tsup's `clean` keeps old `.d.ts` chunks (their names carry a hash), so stale declarations
// would pile up in `dist` and end up in the tarball. Empty it once, when the config loads.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

// One config for both formats rather than one per format: the declaration build (the slow
// part) then runs once and writes `.d.ts` and `.d.cts` from the same rollup.
const entry = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
  'store/index': 'src/store/index.ts',
  'node/index': 'src/node/index.ts',
};

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  target: 'node20',
  // Keep `node:` specifiers as written: every supported runtime understands them.
  removeNodeProtocol: false,
  sourcemap: true,
  // The package tsconfig keeps `types: []` so the browser-safe core cannot lean on Node
  // globals by accident; only the declaration build needs them, for `src/node`.
  dts: { compilerOptions: { types: ['node'] } },
  // Shared chunks in CommonJS too, so the three entries share one copy of the core: without
  // it `./node` would carry its own `BatonError` and `instanceof` would fail across entries.
  splitting: true,
  noExternal: [ESM_ONLY_DEPS],
  esbuildOptions(options, { format }) {
    // `@baton/core/testing` is ESM only: it imports vitest, which refuses to be `require`d.
    // (A new object: tsup hands both formats the same `entry`.)
    if (format === 'cjs') {
      const { 'testing/index': _esmOnly, ...rest } = entry;
      options.entryPoints = rest;
    }
  },
  esbuildPlugins: [
    {
      name: 'esm-only-deps-external-in-esm',
      setup(build) {
        // tsup runs esbuild in ESM for split CommonJS too, so ask tsup's own define.
        if (build.initialOptions.define?.TSUP_FORMAT !== '"esm"') return;
        build.onResolve({ filter: ESM_ONLY_DEPS }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
});
