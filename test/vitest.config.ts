import { baseProject } from '../vitest.shared.js';

export default baseProject('cross-package', {
  include: ['**/*.test.ts'],
  exclude: ['bench/**', 'structure/**'],
});
