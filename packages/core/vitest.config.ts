import { baseProject } from '../../vitest.shared.js';

export default baseProject('core', { include: ['test/**/*.test.ts'] });
