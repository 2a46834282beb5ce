import { fileURLToPath } from 'node:url';
import { baseProject } from '../../vitest.shared.js';

// The SDK pulls in packages (eventsource, eventsource-parser, via the MCP SDK) whose own
// `source` export condition points at TypeScript files Node cannot load, so this project
// resolves without that condition and points the workspace packages at their sources itself.
const src = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const project = baseProject('openai-agents', { include: ['test/**/*.test.ts'] });
project.resolve = {
  alias: [
    { find: /^@baton\/core\/node$/, replacement: src('core/src/node/index.ts') },
    { find: /^@baton\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
    { find: /^@baton\/core\/store$/, replacement: src('core/src/store/index.ts') },
    { find: /^@baton\/core$/, replacement: src('core/src/index.ts') },
    { find: /^@baton\/sqlite$/, replacement: src('sqlite/src/index.ts') },
  ],
};
project.ssr = {};

export default project;
