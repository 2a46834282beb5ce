/**
 * Node-only parts of Baton core (they use `node:fs`): the {@link KeyDirectory} keyring.
 *
 * @packageDocumentation
 */

// Types
export type { KeyDirectoryOptions } from './keyDirectory.js';
export { KeyDirectory } from './keyDirectory.js';
