import { fileURLToPath } from 'node:url';
import { baseProject } from '../../vitest.shared.js';

const src = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

const project = baseProject('mcp', { include: ['test/**/*.test.ts'] });
// The MCP client's own dependencies (`eventsource`, `eventsource-parser`) export a `source`
// condition that points at TypeScript Node cannot load, so this project does not hand Node
// the `source` condition; the workspace packages are pointed at their sources by alias instead.
project.ssr = { resolve: { conditions: [], externalConditions: [] } };
project.resolve = {
  alias: [
    { find: /^@baton\/core$/, replacement: src('core/src/index.ts') },
    { find: /^@baton\/core\/node$/, replacement: src('core/src/node/index.ts') },
    { find: /^@baton\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
    { find: /^@baton\/core\/store$/, replacement: src('core/src/store/index.ts') },
    { find: /^@baton\/sqlite$/, replacement: src('sqlite/src/index.ts') },
  ],
};

export default project;
