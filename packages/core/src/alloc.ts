/**
 * Allocation of small output arrays (encoded messages, payload bytes, signatures).
 */

// Small outputs are carved out of a shared slab, as Node's Buffer pool does: allocating an
// ArrayBuffer costs ~0.3-0.4 us in V8 past the 64-byte on-heap limit, more than encoding a
// small message envelope. A slab is retained while any view of it lives (at most 16 KiB).
const POOL_BYTES = 16 * 1024;
const POOLED_MAX = 2 * 1024;
let pool = new ArrayBuffer(POOL_BYTES);
let poolOffset = 0;

/**
 * A new `Uint8Array` of `n` zero bytes. Up to 2 KiB it is a view into a shared 16 KiB slab
 * (never handed out twice; as `Buffer.allocUnsafe` does): use its `byteOffset`/`byteLength`,
 * never transfer or detach its `.buffer`.
 */
export function allocBytes(n: number): Uint8Array {
  if (n > POOLED_MAX) return new Uint8Array(n);
  // A slab whose buffer was transferred away (detached) has byteLength 0: start a new one.
  if (poolOffset + n > POOL_BYTES || pool.byteLength === 0) {
    pool = new ArrayBuffer(POOL_BYTES);
    poolOffset = 0;
  }
  const out = new Uint8Array(pool, poolOffset, n);
  poolOffset = (poolOffset + n + 7) & ~7; // keep views 8-byte aligned
  return out;
}

/** A copy of `src` (see `allocBytes` for where small copies live). */
export function copyBytes(src: Uint8Array): Uint8Array {
  const out = allocBytes(src.byteLength);
  out.set(src);
  return out;
}

/**
 * A plain `Uint8Array` view of bytes `[start, end)` of `src`: cheaper than `subarray` on a
 * `Buffer`, which builds a `Buffer` (a subclass) for every view.
 */
export function viewOf(src: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(src.buffer, src.byteOffset + start, end - start);
}

/** A copy of bytes `[start, end)` of `src` (see `allocBytes` for where small copies live). */
export function copyRange(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  const out = allocBytes(n);
  if (n <= 64) for (let i = 0; i < n; i++) out[i] = src[start + i]!;
  else out.set(viewOf(src, start, end));
  return out;
}
