import { baseProject } from '../../vitest.shared.js';

export default baseProject('mcp', {
  include: ['test/**/*.test.ts'],
  // eventsource and eventsource-parser (under the SDK clients' HTTP transports) publish a
  // `source` export condition pointing at TypeScript files, which Node cannot load: vite
  // transforms them, and the SDK that imports them, instead.
  server: { deps: { inline: [/eventsource/, /@modelcontextprotocol\//] } },
});
