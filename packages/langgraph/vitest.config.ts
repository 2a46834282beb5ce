import { baseProject } from '../../vitest.shared.js';

export default baseProject('langgraph', { include: ['test/**/*.test.ts'] });
