import { readFileSync } from 'node:fs';

/**
 * The version of `@baton/cli`, read from its package.json — one directory up from both
 * `src/` (run from sources) and `dist/` (the built package).
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
