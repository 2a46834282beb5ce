import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      // The official LangGraph checkpointer suite needs vitest globals: a project of its own.
      'packages/langgraph/vitest.validation.config.ts',
      'test/vitest.config.ts',
      'test/structure/vitest.config.ts',
    ],
  },
});
