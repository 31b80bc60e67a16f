import { describe, expect, it } from 'vitest';
import { AbortError } from '@converge/core';
import { Scheduler } from '@converge/runtime';

describe('Scheduler wakes', () => {
  it('a notify before the wait is remembered: the wait resolves true at once, once', async () => {
    const s = new Scheduler();
    s.notify();
    s.notify(); // coalesced
    expect(s.pending).toBe(true);
    await expect(s.waitForWork({ timeoutMs: 60_000 })).resolves.toBe(true);
    expect(s.pending).toBe(false);
    await expect(s.waitForWork({ timeoutMs: 0 })).resolves.toBe(false);
  });

  it('a notify during the wait resolves it true', async () => {
    const s = new Scheduler();
    const waiting = s.waitForWork({ timeoutMs: 60_000 });
    setImmediate(() => s.notify());
    await expect(waiting).resolves.toBe(true);
    expect(s.pending).toBe(false);
  });

  it('with nothing signalled, the wait resolves false after its timeout', async () => {
    const s = new Scheduler();
    await expect(s.waitForWork({ timeoutMs: 5 })).resolves.toBe(false);
  });

  it('an abort rejects the wait with AbortError, and an aborted signal rejects at once', async () => {
    const s = new Scheduler();
    const ac = new AbortController();
    const waiting = s.waitForWork({ timeoutMs: 60_000, signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    await expect(s.waitForWork({ signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    // The aborted wait left no waiter behind: a later notify is kept for the next wait.
    s.notify();
    await expect(s.waitForWork({ timeoutMs: 0 })).resolves.toBe(true);
  });

  it('notifyAt wakes the wait at the given time; a past time notifies at once; cancelTimer cancels', async () => {
    const s = new Scheduler();
    s.notifyAt(Date.now() - 1);
    expect(s.pending).toBe(true);
    await s.waitForWork();
    s.notifyAt(Date.now() + 10);
    await expect(s.waitForWork({ timeoutMs: 60_000 })).resolves.toBe(true);
    s.notifyAt(Date.now() + 10);
    s.cancelTimer();
    await expect(s.waitForWork({ timeoutMs: 40 })).resolves.toBe(false);
  });

  it('a timeout beyond the 32-bit timer range waits instead of firing at once', async () => {
    const s = new Scheduler();
    const ac = new AbortController();
    let settled = false;
    const waiting = s.waitForWork({ timeoutMs: 1e12, signal: ac.signal }).then(
      () => (settled = true),
      () => 'aborted',
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    ac.abort();
    await expect(waiting).resolves.toBe('aborted');
  });
});
