import { describe, expect, it } from 'vitest';
import { AbortError, abortableSleep, exponentialBackoff, retryDelayMs, resolveQueueDefaults, storeRetryDelay } from '@converge/core';

describe('exponentialBackoff (the one backoff of every package)', () => {
  it('without jitter: base × 2^step, capped; a negative step counts as 0', () => {
    expect([0, 1, 2, 3, 4].map((s) => exponentialBackoff(s, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
    expect(exponentialBackoff(-3, 100, 1000)).toBe(100);
  });

  it('never NaN or beyond the cap, whatever the step (a base of 0 stays 0)', () => {
    expect(exponentialBackoff(5000, 0, 1000)).toBe(0);
    expect(exponentialBackoff(5000, 1, 1000)).toBe(1000);
    expect(exponentialBackoff(Number.MAX_SAFE_INTEGER, 10, 60_000, true)).toBeLessThanOrEqual(60_000);
  });

  it('with jitter: doubles, stays within 50–100 % of the step, and is capped', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const step = Math.min(1000, 100 * 2 ** attempt);
      const seen = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const d = exponentialBackoff(attempt, 100, 1000, true);
        seen.add(d);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
      expect(seen.size).toBeGreaterThan(1);
    }
  });

  it("the task queue's retry delay and the store retry delay are this backoff", () => {
    const d = resolveQueueDefaults({ retryBaseMs: 10, retryMaxMs: 35 });
    expect([1, 2, 3, 4].map((f) => retryDelayMs(f, d))).toEqual([10, 20, 35, 35]);
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2000 };
    for (let n = 0; n < 8; n++) {
      const ceiling = Math.min(2000, 100 * 2 ** n);
      const v = storeRetryDelay(policy, n);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(ceiling / 2);
      expect(v).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe("abortableSleep (core's browser-safe sleep)", () => {
  it('a wait of 0 resolves without a timer; an aborted signal rejects with AbortError before or during the wait', async () => {
    await expect(abortableSleep(0)).resolves.toBeUndefined();
    const gone = new AbortController();
    gone.abort(new Error('why'));
    await expect(abortableSleep(0, gone.signal)).rejects.toBeInstanceOf(AbortError);
    const c = new AbortController();
    const p = abortableSleep(60_000, c.signal);
    c.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});
