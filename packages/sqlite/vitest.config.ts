import { baseProject } from '../../vitest.shared.js';

export default baseProject('sqlite', { include: ['test/**/*.test.ts'] });
