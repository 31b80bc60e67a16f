import { describe, expect, it } from 'vitest';
import { AbortError } from '@converge/core';
import { Coalescer, type CoalescedCall } from '../src/task-queue/coalesce.js';

/** A coalescer of numbers whose batches are recorded; each call answers twice its input unless `answer` says otherwise. */
function recording(max: number, maxBytes: number, answer = (c: CoalescedCall<number, number>) => c.resolve(c.input * 2)) {
  const batches: number[][] = [];
  const c = new Coalescer<number, number>({
    max,
    maxBytes,
    bytes: (n) => n,
    send: async (calls) => {
      batches.push(calls.map((x) => x.input));
      for (const x of calls) answer(x);
    },
  });
  return { c, batches };
}

describe('Coalescer', () => {
  it('sends the calls of one turn together, at most max calls and maxBytes a batch (a larger call alone)', async () => {
    const { c, batches } = recording(3, 10);
    const out = await Promise.all([1, 1, 1, 1, 5, 5, 20, 1].map((n) => c.push(n)));
    expect(out).toEqual([2, 2, 2, 2, 10, 10, 40, 2]);
    expect(batches).toEqual([[1, 1, 1], [1, 5], [5], [20], [1]]);
    await c.push(7);
    expect(batches.at(-1)).toEqual([7]); // a later turn: a batch of its own
  });

  it('a call aborted before its batch went is never sent; one left unanswered, or a failed batch, rejects', async () => {
    const { c, batches } = recording(10, 100, (x) => (x.input === 3 ? undefined : x.resolve(x.input)));
    const ac = new AbortController();
    const aborted = c.push(1, ac.signal);
    ac.abort();
    const unanswered = c.push(3);
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    await expect(unanswered).rejects.toThrow(/unanswered/);
    expect(batches).toEqual([[3]]);
    const failing = new Coalescer<number, number>({ max: 10, maxBytes: 100, bytes: () => 1, send: () => Promise.reject(new Error('down')) });
    await expect(Promise.all([failing.push(1), failing.push(2)])).rejects.toThrow('down');
  });
});
