import { baseProject } from '../../vitest.shared.js';

// The source-structure checks (import cycles): fast, no processes, part of `npm test`.
export default baseProject('structure', { include: ['**/*.test.ts'] });
