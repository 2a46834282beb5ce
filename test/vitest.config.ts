import { baseProject } from '../vitest.shared.js';

// These tests start real processes (the `baton` command from sources, examples, installs):
// under a loaded machine one `baton` call takes seconds, so a test of ten calls may take more
// than the packages' 30 s without anything being wrong.
export default baseProject('cross-package', {
  include: ['**/*.test.ts'],
  exclude: ['bench/**', 'structure/**'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
});
