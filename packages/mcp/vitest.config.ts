import { baseProject } from '../../vitest.shared.js';

export default baseProject('mcp', { include: ['test/**/*.test.ts'] });
