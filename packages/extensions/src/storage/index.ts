/**
 * `@converge/extensions/storage`: Store implementations.
 * @packageDocumentation
 */
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { clonePlain } from './clone.js';
