import { InvalidKeyError, ValidationError } from '@converge/core';

/** Longest key, in UTF-16 code units, that `PostgresStore` accepts by default (as every Converge store). */
export const DEFAULT_MAX_KEY_LENGTH = 1024;

// With the `u` flag a surrogate pair is one code point, so this only matches a lone half.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks a store key with the rules every Converge store applies (the same as `MemoryStore`):
 * a non-empty, well-formed string without NUL, at most `maxLength` code units.
 */
export function validateKey(key: unknown, maxLength: number): string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), `a key is a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'a key is not empty');
  if (key.length > maxLength) throw new InvalidKeyError(`${key.slice(0, 64)}…`, `longer than ${maxLength} code units (${key.length})`);
  if (key.includes('\u0000')) throw new InvalidKeyError(key, 'a key contains no NUL character');
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, 'a key is well-formed UTF-16 (no lone surrogate)');
  return key;
}

/** Checks a list prefix: a string without NUL or lone surrogates (it may be empty). */
export function validatePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new ValidationError('a list prefix is a string');
  // PostgreSQL text holds neither; no stored key can start with such a prefix anyway.
  if (prefix.includes('\u0000') || LONE_SURROGATE.test(prefix)) throw new ValidationError('a list prefix contains no NUL or lone surrogate');
  return prefix;
}

/** Throws `ValidationError` unless `revision` is a non-negative safe integer. */
export function checkRevision(revision: unknown): asserts revision is number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new ValidationError(`expectedRevision must be a non-negative integer, got ${String(revision)}`);
  }
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code-point
 * order (PostgreSQL's `COLLATE "C"` on UTF-8), or `undefined` when there is none (the prefix is
 * all U+10FFFF). Used as the exclusive upper bound of an index range scan.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (cps.length > 0 && cps[cps.length - 1] === 0x10ffff) cps.pop();
  if (cps.length === 0) return undefined;
  let last = cps[cps.length - 1]! + 1;
  if (last === 0xd800) last = 0xe000; // surrogates are not characters; skip the block
  cps[cps.length - 1] = last;
  return String.fromCodePoint(...cps);
}
