import { baseProject } from '../../vitest.shared.js';

export default baseProject('cli', { include: ['test/**/*.test.ts'] });
