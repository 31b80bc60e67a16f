/** Key-range helpers for PostgreSQL; the key checks every store applies are in `@converge/core`. */

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
