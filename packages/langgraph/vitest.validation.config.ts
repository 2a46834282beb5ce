import { baseProject } from '../../vitest.shared.js';

/**
 * The official `@langchain/langgraph-checkpoint-validation` suite: its `validate()` registers
 * Jest-style global tests (`describe`, `it`, `beforeAll` as globals), so this project turns
 * vitest's globals on — apart from the package's own tests, which import what they use.
 */
export default baseProject('langgraph-validation', {
  include: ['test/validation.test.ts'],
  globals: true,
});
