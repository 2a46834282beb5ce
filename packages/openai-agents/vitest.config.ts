import { baseProject } from '../../vitest.shared.js';

export default baseProject('openai-agents', { include: ['test/**/*.test.ts'] });
