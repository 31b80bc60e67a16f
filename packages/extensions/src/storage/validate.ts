import { InvalidKeyError, ValidationError } from '@converge/core';

/** Longest key, in UTF-16 code units, that `MemoryStore` accepts by default. */
export const DEFAULT_MAX_KEY_LENGTH = 1024;

// With the `u` flag a surrogate pair is one code point, so this only matches a lone half.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks a store key: a non-empty, well-formed (no lone surrogate) string without NUL, at most
 * `maxLength` UTF-16 code units. Returns the key; throws `InvalidKeyError` otherwise.
 * These are the rules every Converge store applies, so a key valid in one is valid in all
 * (FileStore adds a limit on the encoded file name).
 */
export function validateStoreKey(key: unknown, maxLength = DEFAULT_MAX_KEY_LENGTH): string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), `a key is a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'a key is not empty');
  if (key.length > maxLength) throw new InvalidKeyError(shorten(key), `longer than ${maxLength} code units (${key.length})`);
  if (key.includes('\u0000')) throw new InvalidKeyError(key, 'a key contains no NUL character');
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, 'a key is well-formed UTF-16 (no lone surrogate)');
  return key;
}

/** The first 64 code units of a long key, for error messages that stay readable. */
export function shorten(key: string): string {
  return key.length <= 64 ? key : `${key.slice(0, 64)}…`;
}

/** Throws `ValidationError` unless `revision` is a non-negative safe integer. */
export function checkRevision(revision: unknown): void {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new ValidationError(`expectedRevision must be a non-negative integer, got ${String(revision)}`);
  }
}
