import { describe, expect, it } from 'vitest';
import { AbortError, ConfigError, QueueFullError } from '@converge/core';
import { AsyncQueue } from '../src/internal.js';

describe('AsyncQueue', () => {
  it('is FIFO across ring-buffer growth and wrap-around', () => {
    const q = new AsyncQueue<number>({ maxSize: 100 });
    const out: number[] = [];
    for (let i = 0; i < 70; i++) q.push(i);
    for (let i = 0; i < 50; i++) out.push(q.tryShift()!);
    for (let i = 70; i < 120; i++) q.push(i);
    while (q.size) out.push(q.tryShift()!);
    expect(out).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it('applies its overflow policy when full: throw, reject, drop-oldest', () => {
    const t = new AsyncQueue<number>({ maxSize: 2 });
    t.push(1);
    t.push(2);
    expect(() => t.push(3)).toThrow(QueueFullError);
    const r = new AsyncQueue<number>({ maxSize: 2, overflow: 'reject' });
    expect([r.push(1), r.push(2), r.push(3)]).toEqual([true, true, false]);
    expect(r.drain()).toEqual([1, 2]);
    const d = new AsyncQueue<number>({ maxSize: 2, overflow: 'drop-oldest' });
    for (let i = 1; i <= 5; i++) d.push(i);
    expect(d.dropped).toBe(3);
    expect(d.drain()).toEqual([4, 5]);
    const n = new AsyncQueue<number>({ maxSize: 2, overflow: 'drop-newest' });
    expect([1, 2, 3, 4].map((i) => n.push(i))).toEqual([true, true, false, false]);
    expect(n.dropped).toBe(2);
    expect(n.drain()).toEqual([1, 2]);
  });

  it("refuses an overflow policy outside core's vocabulary", () => {
    expect(() => new AsyncQueue<number>({ overflow: 'block' as never })).toThrow(ConfigError);
  });

  it('hands a pushed item straight to a waiting shift', async () => {
    const q = new AsyncQueue<string>({ maxSize: 1 });
    const p1 = q.shift();
    const p2 = q.shift();
    expect(q.waiting).toBe(2);
    q.push('a');
    q.push('b');
    expect(await p1).toBe('a');
    expect(await p2).toBe('b');
    expect(q.size).toBe(0);
  });

  it('resolves null on timeout (and at once for timeoutMs 0) and removes the waiter', async () => {
    const q = new AsyncQueue<number>();
    expect(await q.shift({ timeoutMs: 0 })).toBeNull();
    expect(await q.shift({ timeoutMs: 5 })).toBeNull();
    expect(q.waiting).toBe(0);
    q.push(1);
    expect(q.size).toBe(1);
  });

  it('rejects with AbortError on abort, without losing the next item', async () => {
    const q = new AsyncQueue<number>();
    const ac = new AbortController();
    const p = q.shift({ signal: ac.signal, timeoutMs: 60_000 });
    ac.abort('why');
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(err.cause).toBe('why');
    await expect(q.shift({ signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    q.push(7);
    expect(q.waiting).toBe(0);
    expect(await q.shift()).toBe(7);
  });

  it('close() resolves waiters with null, refuses pushes, and leaves queued items to drain', async () => {
    const q = new AsyncQueue<number>({ overflow: 'reject' });
    const w = q.shift();
    q.close();
    expect(await w).toBeNull();
    expect(q.push(1)).toBe(false);
    const q2 = new AsyncQueue<number>();
    q2.push(1);
    q2.close();
    expect(() => q2.push(2)).toThrow(QueueFullError);
    expect(await q2.shift()).toBe(1);
    expect(await q2.shift()).toBeNull();
  });

  it('rejects a non-positive capacity', () => {
    expect(() => new AsyncQueue({ maxSize: 0 })).toThrow(/maxSize/);
  });

  it('maxBytes: bounds the stored weight under every policy; a handed-over item is not weighed; growth keeps weights', async () => {
    const r = new AsyncQueue<string>({ maxBytes: 100, overflow: 'reject' });
    expect(r.push('a', 60)).toBe(true);
    expect(r.hasRoomBytes(50)).toBe(false);
    expect(r.push('b', 50)).toBe(false);
    expect(r.push('c', 40)).toBe(true);
    expect(r.bytes).toBe(100);
    expect(r.tryShift()).toBe('a');
    expect(r.bytes).toBe(40);
    expect(await r.shift()).toBe('c');
    expect(r.bytes).toBe(0);
    // One item heavier than the bound still fits an empty queue; a waiter takes items unweighed.
    expect(r.push('huge', 500)).toBe(true);
    expect(r.tryShift()).toBe('huge');
    const w = r.shift();
    expect(r.push('direct', 1_000)).toBe(true);
    expect(await w).toBe('direct');
    expect(r.bytes).toBe(0);
    const t = new AsyncQueue<number>({ maxBytes: 10 });
    t.push(1, 6);
    expect(() => t.push(2, 6)).toThrow(/10 bytes/);
    const d = new AsyncQueue<number>({ maxBytes: 10, overflow: 'drop-oldest' });
    d.push(1, 4);
    d.push(2, 4);
    d.push(3, 4);
    expect(d.dropped).toBe(1);
    expect(d.bytes).toBe(8);
    const g = new AsyncQueue<number>({ maxBytes: 1_000 });
    for (let i = 0; i < 40; i++) g.push(i, i); // grows the ring past 16 twice
    for (let i = 0; i < 10; i++) g.tryShift();
    expect(g.bytes).toBe(Array.from({ length: 30 }, (_, i) => i + 10).reduce((a, b) => a + b, 0));
    expect(() => new AsyncQueue({ maxBytes: 0 })).toThrow(/maxBytes/);
  });

  it('keeps bytes exact through every item, including the ones whose push grew the ring (drains to 0, bound still enforced)', () => {
    const q = new AsyncQueue<number>({ maxBytes: 10_000, overflow: 'reject' });
    // Pushes 17 and 33 grow the ring (16 -> 32 -> 64): their weights must land in the new array.
    for (let i = 0; i < 40; i++) q.push(i, i + 1);
    let expected = Array.from({ length: 40 }, (_, i) => i + 1).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 40; i++) {
      q.tryShift();
      expected -= i + 1;
      expect(q.bytes, `after taking item ${i}`).toBe(expected);
    }
    expect(q.bytes).toBe(0);
    // The byte bound still holds after growth (a NaN total would let everything in).
    for (let i = 0; i < 40; i++) q.push(i, 100);
    expect(q.push(99, 6_001)).toBe(false);
  });
});
