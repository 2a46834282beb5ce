import { defineConfig } from 'tsup';

const entry = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
  'node/index': 'src/node/index.ts',
};

// canonicalize and @noble/hashes ship ESM only; the CommonJS build carries its own copy
// so `require('@baton/core')` works without relying on require(esm).
export default defineConfig([
  { entry, format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'node20' },
  {
    entry,
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    noExternal: ['canonicalize', /^@noble\/hashes/, /^@scure\/base/],
  },
]);
