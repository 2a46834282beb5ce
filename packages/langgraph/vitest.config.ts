import { baseProject } from '../../vitest.shared.js';

export default baseProject('langgraph', {
  include: ['test/**/*.test.ts'],
  exclude: ['test/validation.test.ts'],
});
