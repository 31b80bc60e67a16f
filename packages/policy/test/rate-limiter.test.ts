import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, ConfigError, LimitExceededError, NotStartedError, ValidationError } from '@converge/core';
import { KeyedRateLimiter, RateLimiter } from '@converge/policy';

// Fake timers also fake Date, so `clock: Date.now` moves with `advanceTimersByTimeAsync`.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0); // no leaked timers
  vi.useRealTimers();
});
const clock = () => Date.now();

describe('RateLimiter', () => {
  it('starts full, allows a burst, then refuses until tokens refill', async () => {
    const rl = new RateLimiter({ ratePerSecond: 10, burst: 3, clock });
    expect(rl.tryRemove()).toBe(true);
    expect(rl.tryRemove(2)).toBe(true);
    expect(rl.tryRemove()).toBe(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(rl.tryRemove()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(rl.tryRemove()).toBe(true);
    expect(rl.stats()).toMatchObject({ granted: 4, refused: 2 });
  });

  it('never holds more than the burst', async () => {
    const rl = new RateLimiter({ ratePerSecond: 1000, burst: 5, clock });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rl.available).toBe(5);
    expect(rl.tryRemove(5)).toBe(true);
    expect(rl.tryRemove(1)).toBe(false);
  });

  it('remove waits with one timer set to the next token, and serves waiters in order', async () => {
    const rl = new RateLimiter({ ratePerSecond: 10, burst: 1, clock });
    await rl.remove(); // immediate
    const order: number[] = [];
    const a = rl.remove(1).then(() => order.push(1));
    const b = rl.remove(1).then(() => order.push(2));
    expect(vi.getTimerCount()).toBe(1);
    // tryRemove does not jump the queue.
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual([1]);
    expect(rl.tryRemove()).toBe(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(order).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([a, b]);
    expect(order).toEqual([1, 2]);
    expect(rl.stats()).toMatchObject({ waited: 2, waiting: 0 });
  });

  it('abort removes a waiter and rejects with AbortError', async () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, clock });
    rl.tryRemove();
    const ac = new AbortController();
    const p = rl.remove(1, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(rl.stats().waiting).toBe(0);
    const pre = new AbortController();
    pre.abort();
    await expect(rl.remove(1, { signal: pre.signal })).rejects.toBeInstanceOf(AbortError);
  });

  it('an aborted head lets a smaller waiter behind it be served', async () => {
    const rl = new RateLimiter({ ratePerSecond: 10, burst: 5, clock });
    rl.tryRemove(5);
    await vi.advanceTimersByTimeAsync(100); // 1 token
    const ac = new AbortController();
    const big = rl.remove(5, { signal: ac.signal });
    let smallDone = false;
    const small = rl.remove(1).then(() => {
      smallDone = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(smallDone).toBe(false);
    ac.abort();
    await expect(big).rejects.toBeInstanceOf(AbortError);
    await small;
    expect(smallDone).toBe(true);
  });

  it('bounds the number of waiters', async () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, clock, maxWaiters: 1 });
    rl.tryRemove();
    const first = rl.remove();
    await expect(rl.remove()).rejects.toBeInstanceOf(LimitExceededError);
    expect(rl.stats().waitersOverflow).toBe(1);
    rl.stop();
    await expect(first).rejects.toBeInstanceOf(NotStartedError);
  });

  it('stop rejects waiters, clears the timer and refuses new waits until start', async () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, clock });
    rl.tryRemove();
    const p = rl.remove();
    rl.stop();
    await expect(p).rejects.toBeInstanceOf(NotStartedError);
    await expect(rl.remove()).rejects.toBeInstanceOf(NotStartedError);
    rl.start();
    const q = rl.remove();
    await vi.advanceTimersByTimeAsync(1000);
    await expect(q).resolves.toBeUndefined();
  });

  it('validates its settings and arguments', async () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(ConfigError);
    expect(() => new RateLimiter({ ratePerSecond: Number.NaN, burst: 1 })).toThrow(ConfigError);
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0.5 })).toThrow(ConfigError);
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 2, clock });
    expect(() => rl.tryRemove(0)).toThrow(ValidationError);
    expect(() => rl.tryRemove(-1)).toThrow(ValidationError);
    expect(() => rl.tryRemove(3)).toThrow(ValidationError); // can never be satisfied
    await expect(rl.remove(3)).rejects.toBeInstanceOf(ValidationError);
  });

  it('ignores a clock that goes backwards', () => {
    let now = 1000;
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, clock: () => now });
    rl.tryRemove();
    now = 0;
    expect(rl.tryRemove()).toBe(false);
    now = 1000; // back to where it was: no time has passed since the last refill
    expect(rl.tryRemove()).toBe(false);
    now = 2000;
    expect(rl.tryRemove()).toBe(true);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const k = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, clock });
    // a, a again (spent), then b: granted, refused, granted.
    expect(['a', 'a', 'b'].map((key) => k.tryRemove(key))).toEqual([true, false, true]);
    expect(k.stats()).toMatchObject({ keys: 2, refused: 1 });
  });

  it('evicts the least recently used idle key beyond maxKeys', async () => {
    const k = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, clock, maxKeys: 2 });
    k.tryRemove('a');
    k.tryRemove('b');
    k.tryRemove('a'); // a is now most recent (refused: spent)
    await vi.advanceTimersByTimeAsync(1000); // both refilled: idle
    k.tryRemove('c'); // evicts b, the least recently used idle bucket
    expect(['a', 'b', 'c'].map((key) => k.has(key))).toEqual([true, false, true]);
    expect(k.stats()).toMatchObject({ keys: 2, evictions: 1 });
  });

  it('does not evict a key with waiters, and refuses when every key has waiters', async () => {
    const k = new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, clock, maxKeys: 1 });
    k.tryRemove('a');
    const waiting = k.remove('a');
    expect(k.tryRemove('b')).toBe(false);
    await expect(k.remove('b')).rejects.toBeInstanceOf(LimitExceededError);
    expect(k.has('a')).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    await waiting;
    expect(k.tryRemove('b')).toBe(false); // the waiter spent a's token: a is not idle yet
    await vi.advanceTimersByTimeAsync(1000);
    expect(k.tryRemove('b')).toBe(true); // a is full and idle now and can go
    expect(k.has('a')).toBe(false);
    k.stop();
  });

  // Issue 21 L2: evicting a spent bucket gave its key a fresh burst, so touching maxKeys
  // throwaway keys reset any key's limit.
  it('never evicts a spent bucket: throwaway keys do not restore a burst (L2)', async () => {
    const k = new KeyedRateLimiter({ ratePerSecond: 1, burst: 5, clock, maxKeys: 3 });
    for (let i = 0; i < 5; i++) expect(k.tryRemove('attacker')).toBe(true);
    expect(k.tryRemove('attacker')).toBe(false);
    // 100 throwaway keys: the first two fit, spent at once; the rest find no idle bucket.
    let fresh = 0;
    for (let i = 0; i < 100; i++) if (k.tryRemove(`junk-${i}`, 5)) fresh++;
    expect(fresh).toBe(2);
    expect(k.has('attacker')).toBe(true);
    expect(k.tryRemove('attacker')).toBe(false); // still spent: no fresh burst
    expect(k.stats()).toMatchObject({ keys: 3, evictions: 0, keysFull: 98 });
    // Memory stays bounded, and once buckets refill (idle again) new keys get in.
    await vi.advanceTimersByTimeAsync(5000);
    expect(k.tryRemove('newcomer')).toBe(true);
    expect(k.stats()).toMatchObject({ keys: 3, evictions: 1 });
  });

  it('does not evict a partly refilled bucket either', async () => {
    const k = new KeyedRateLimiter({ ratePerSecond: 1, burst: 4, clock, maxKeys: 1 });
    expect(k.tryRemove('a', 4)).toBe(true);
    await vi.advanceTimersByTimeAsync(3000); // 3 of 4 tokens back
    expect(k.tryRemove('b')).toBe(false);
    await expect(k.remove('b')).rejects.toBeInstanceOf(LimitExceededError);
    expect(k.tryRemove('a', 4)).toBe(false); // a kept its state
    await vi.advanceTimersByTimeAsync(1000);
    expect(k.tryRemove('b')).toBe(true); // a was full, hence idle, and could go
    expect(k.has('a')).toBe(false);
  });

  it('validates its settings', () => {
    expect(() => new KeyedRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 0 })).toThrow(ConfigError);
    expect(() => new KeyedRateLimiter({ ratePerSecond: -1, burst: 1 })).toThrow(ConfigError);
  });
});
