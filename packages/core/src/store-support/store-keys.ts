/**
 * The key, prefix and revision checks every Converge store applies, so a key valid in one store
 * is valid in all of them.
 */
import { InvalidKeyError, ValidationError } from '../errors.js';

/** Longest key, in UTF-16 code units, that a Converge store accepts by default. */
export const STORE_DEFAULT_MAX_KEY_LENGTH = 1024;

// With the `u` flag a surrogate pair is one code point, so this only matches a lone half.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks a store key with the rules every Converge store applies (the same as `MemoryStore`):
 * a non-empty, well-formed string without NUL, at most `maxLength` code units. Returns the key;
 * throws `InvalidKeyError` (`ERR_INVALID_KEY`) otherwise. Call it first in every Store method
 * that takes a key, so invalid keys are refused alike everywhere (the store compliance suite
 * checks every call with `invalidKeys()`); any other string is a valid key, stored as is.
 *
 * ```ts
 * async get(key: string) { checkStoreKey(key, STORE_DEFAULT_MAX_KEY_LENGTH); ... }
 * ```
 */
export function checkStoreKey(key: unknown, maxLength: number): string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), `a key is a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'a key is not empty');
  if (key.length > maxLength) throw new InvalidKeyError(`${key.slice(0, 64)}…`, `longer than ${maxLength} code units (${key.length})`);
  if (key.includes('\u0000')) throw new InvalidKeyError(key, 'a key contains no NUL character');
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, 'a key is well-formed UTF-16 (no lone surrogate)');
  return key;
}

/** Checks a list prefix: a string without NUL or lone surrogates (it may be empty); throws `ValidationError` otherwise. */
export function checkStorePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new ValidationError('a list prefix is a string');
  // Neither can be kept by a server store; no stored key can start with such a prefix anyway.
  if (prefix.includes('\u0000') || LONE_SURROGATE.test(prefix)) throw new ValidationError('a list prefix contains no NUL or lone surrogate');
  return prefix;
}

/** Throws `ValidationError` unless `revision` (an `expectedRevision`) is a non-negative safe integer. */
export function checkStoreRevision(revision: unknown): asserts revision is number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new ValidationError(`expectedRevision must be a non-negative integer, got ${String(revision)}`);
  }
}
