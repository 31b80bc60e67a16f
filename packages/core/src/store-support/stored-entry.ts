/**
 * Reading one record back from a server-backed store (PostgreSQL row, Redis hash): the same
 * checks for every backend, so a malformed record is `ERR_STORE_CORRUPT` alike everywhere.
 */
import { StoreError } from '../errors.js';
import type { StoreEntry } from '../store.js';
import { decodeStoredValue, storedValueCorrupt } from './store-values.js';

/** A record as the server hands it back. */
export interface RawStoredEntry {
  /** The msgpack bytes of the value (anything else is corrupt). */
  value: unknown;
  /** The revision as decimal text (`''` when missing). */
  revision: string;
  /** The float paths (`null`: none). */
  floats: Uint8Array | null;
}

/** Parses a stored revision (decimal text of a positive safe integer); anything else → `ERR_STORE_CORRUPT`. */
export function parseStoredRevision(key: string, text: string): number {
  // At most 16 digits: the regex keeps Number() from reading '1e3', ' 7' or '0x10'.
  const n = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw storedValueCorrupt(key, `bad revision ${JSON.stringify(text)}`);
  return n;
}

/**
 * The entry a raw record holds, decoded within `maxBytes`. A malformed record (value not bytes,
 * bad revision, bad msgpack or float paths) calls `onCorrupt` (the store's counter) and throws
 * `StoreError` `ERR_STORE_CORRUPT` naming the key.
 */
export function readStoredEntry<V>(key: string, raw: RawStoredEntry, maxBytes: number, onCorrupt: () => void): StoreEntry<V> {
  try {
    if (!(raw.value instanceof Uint8Array)) throw storedValueCorrupt(key, 'value is not bytes');
    const revision = parseStoredRevision(key, raw.revision);
    return { value: decodeStoredValue(key, raw.value, raw.floats, maxBytes) as V, revision };
  } catch (err) {
    if (StoreError.is(err) && err.code === 'ERR_STORE_CORRUPT') onCorrupt();
    throw err;
  }
}
