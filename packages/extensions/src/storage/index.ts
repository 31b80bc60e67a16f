/**
 * `@converge/extensions/storage`: Store implementations.
 * @packageDocumentation
 */
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export {
  FileStore,
  type FileStoreOptions,
  FILE_STORE_MAX_NAME_BYTES,
  FILE_STORE_DEFAULT_LOCK_STALE_MS,
  FILE_STORE_DEFAULT_LOCK_TIMEOUT_MS,
  FILE_STORE_DEFAULT_MAX_RECORD_BYTES,
  FILE_STORE_DEFAULT_MAX_PENDING_WRITES,
  FILE_STORE_DEFAULT_TEMP_STALE_MS,
} from './file-store.js';
export { clonePlain, MAX_CLONE_DEPTH } from './clone.js';
export { validateStoreKey, checkRevision, DEFAULT_MAX_KEY_LENGTH } from './validate.js';
export { encodeKeyName, decodeKeyName } from './file-names.js';
export { KeyWatchers } from '@converge/core';
