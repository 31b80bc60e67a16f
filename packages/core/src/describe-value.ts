/**
 * `v` for an error or status message, never `[object Object]`: a string quoted, a number,
 * boolean, bigint, `null` or `undefined` as written, an error as `name: message`, anything
 * else by its kind (`an object`, `an array`, `a function`, `a symbol`).
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
