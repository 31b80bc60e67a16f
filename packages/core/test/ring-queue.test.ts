import { describe, expect, it } from 'vitest';
import { RingQueue } from '@converge/core';

// The protected storage methods, opened for the test.
class Ring<T> extends RingQueue<T> {
  constructor(weighted: boolean, capacity?: number) {
    super(weighted, capacity);
  }
  put(item: T, weight = 0): void {
    this.enqueue(item, weight);
  }
  take(): T {
    return this.dequeue();
  }
  get head(): number {
    return this.headWeight;
  }
  get isWeighted(): boolean {
    return this.weighted;
  }
}

describe('RingQueue', () => {
  it.each([
    { weighted: true, capacity: undefined },
    { weighted: false, capacity: 100 },
  ])('keeps FIFO order across wrap-around and growth (weighted: $weighted)', ({ weighted, capacity }) => {
    const r = new Ring<number>(weighted, capacity);
    const out: number[] = [];
    let next = 0;
    // Interleave stores and takes so that the head wraps before the buffer grows (several times).
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 20 * (round + 1); i++) r.put(next++, 3);
      for (let i = 0; i < 10; i++) out.push(r.take());
    }
    while (r.size > 0) out.push(r.take());
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(r.size).toBe(0);
    expect(r.bytes).toBe(0);
    expect(r.isWeighted).toBe(weighted);
  });

  it('sums the weights of the items held, through growth, and reports the oldest one', () => {
    const r = new Ring<string>(true);
    expect(r.head).toBe(0);
    let total = 0;
    for (let i = 1; i <= 40; i++) {
      r.put(`m${i}`, i);
      total += i;
    }
    expect(r.size).toBe(40);
    expect(r.bytes).toBe(total);
    expect(r.head).toBe(1);
    expect(r.take()).toBe('m1');
    expect(r.bytes).toBe(total - 1);
    expect(r.head).toBe(2);
  });

  it('ignores weights when not weighted', () => {
    const r = new Ring<string>(false);
    r.put('a', 10);
    expect(r.bytes).toBe(0);
    expect(r.head).toBe(0);
    expect(r.take()).toBe('a');
  });
});
