/**
 * Helpers shared by the `Store` implementations (in-process and server-backed): value encoding
 * with float paths, key checks, prefix watchers and retries.
 */
export * from './store-values.js';
export * from './store-keys.js';
export * from './key-watchers.js';
export * from './retry.js';
export * from './stored-entry.js';
export * from './store-telemetry.js';
export * from './server-store-core.js';
