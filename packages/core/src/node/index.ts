/**
 * Node-only parts of Baton core (they use `node:fs`): the {@link KeyDirectory} keyring.
 *
 * @packageDocumentation
 * @module @baton/core/node
 */

// Types
export type { KeyDirectoryOptions } from './keyDirectory.js';
export { KeyDirectory } from './keyDirectory.js';
