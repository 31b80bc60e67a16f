import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, ConfigError, Float64, LimitExceededError, NotStartedError, ValidationError } from '@converge/core';
import {
  ResourceLimits,
  TaskResourcesError,
  DEFAULT_MAX_CONCURRENT_TOOL_CALLS,
  DEFAULT_MAX_MESSAGES_PER_SECOND,
  DEFAULT_MAX_QUEUE_BYTES,
} from '@converge/policy';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});
const clock = () => Date.now();

describe('ResourceLimits defaults', () => {
  it('are 4 tool calls, 1000 messages/s and 64 MiB', () => {
    const r = new ResourceLimits();
    expect(r.maxConcurrentToolCalls).toBe(4);
    expect(DEFAULT_MAX_CONCURRENT_TOOL_CALLS).toBe(4);
    expect(r.maxMessagesPerSecond).toBe(1000);
    expect(DEFAULT_MAX_MESSAGES_PER_SECOND).toBe(1000);
    expect(r.maxQueueBytes).toBe(64 * 1024 * 1024);
    expect(DEFAULT_MAX_QUEUE_BYTES).toBe(67_108_864);
  });
});

describe('tool slots', () => {
  it('enforces the concurrency limit; wait: false throws LimitExceededError and counts it', async () => {
    const r = new ResourceLimits({ maxConcurrentToolCalls: 2 });
    const a = await r.acquireToolSlot();
    const b = await r.acquireToolSlot();
    expect(r.stats().activeToolCalls).toBe(2);
    await expect(r.acquireToolSlot({ wait: false })).rejects.toBeInstanceOf(LimitExceededError);
    expect(r.stats().toolCallRefusals).toBe(1);
    a();
    a(); // idempotent: must not free a second slot
    expect(r.stats().activeToolCalls).toBe(1);
    const c = await r.acquireToolSlot({ wait: false });
    await expect(r.acquireToolSlot({ wait: false })).rejects.toBeInstanceOf(LimitExceededError);
    b();
    c();
    expect(r.stats().activeToolCalls).toBe(0);
  });

  it('waiters get slots in order as they are released', async () => {
    const r = new ResourceLimits({ maxConcurrentToolCalls: 1 });
    const first = await r.acquireToolSlot();
    const got: string[] = [];
    const p1 = r.acquireToolSlot().then((rel) => {
      got.push('x');
      return rel;
    });
    const p2 = r.acquireToolSlot().then((rel) => {
      got.push('y');
      return rel;
    });
    await Promise.resolve();
    expect(got).toEqual([]);
    expect(r.stats().waitingToolCalls).toBe(2);
    first();
    const relX = await p1;
    expect(got).toEqual(['x']);
    expect(r.stats().activeToolCalls).toBe(1);
    relX();
    (await p2)();
    expect(got).toEqual(['x', 'y']);
    expect(r.stats()).toMatchObject({ activeToolCalls: 0, waitingToolCalls: 0 });
  });

  it('a new caller does not jump ahead of waiters', async () => {
    const r = new ResourceLimits({ maxConcurrentToolCalls: 1 });
    const first = await r.acquireToolSlot();
    const waiting = r.acquireToolSlot();
    first();
    await expect(r.acquireToolSlot({ wait: false })).rejects.toBeInstanceOf(LimitExceededError);
    (await waiting)();
  });

  it('abort removes a waiter; too many waiters are refused', async () => {
    const r = new ResourceLimits({ maxConcurrentToolCalls: 1, maxToolWaiters: 1 });
    const held = await r.acquireToolSlot();
    const ac = new AbortController();
    const w = r.acquireToolSlot({ signal: ac.signal });
    await expect(r.acquireToolSlot()).rejects.toBeInstanceOf(LimitExceededError);
    ac.abort();
    await expect(w).rejects.toBeInstanceOf(AbortError);
    expect(r.stats().waitingToolCalls).toBe(0);
    held();
    expect(r.stats().activeToolCalls).toBe(0);
  });

  it('stop rejects waiters with NotStartedError', async () => {
    const r = new ResourceLimits({ maxConcurrentToolCalls: 1 });
    const held = await r.acquireToolSlot();
    const w = r.acquireToolSlot();
    r.stop();
    await expect(w).rejects.toBeInstanceOf(NotStartedError);
    await expect(r.acquireToolSlot()).rejects.toBeInstanceOf(NotStartedError);
    held();
    r.start();
    (await r.acquireToolSlot())();
  });
});

describe('message rate', () => {
  it('tryConsumeMessage refuses beyond the rate and counts refusals', async () => {
    const r = new ResourceLimits({ maxMessagesPerSecond: 5, clock });
    for (let i = 0; i < 5; i++) expect(r.tryConsumeMessage()).toBe(true);
    expect(r.tryConsumeMessage()).toBe(false);
    expect(r.stats().messageRefusals).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(r.tryConsumeMessage()).toBe(true);
  });

  it('consumeMessage waits for the next token; abort is counted as a refusal', async () => {
    const r = new ResourceLimits({ maxMessagesPerSecond: 2, messageBurst: 1, clock });
    await r.consumeMessage();
    let done = false;
    const p = r.consumeMessage().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
    const ac = new AbortController();
    const q = r.consumeMessage({ signal: ac.signal });
    ac.abort();
    await expect(q).rejects.toBeInstanceOf(AbortError);
    expect(r.stats().messageRefusals).toBe(1);
  });
});

describe('queue bytes', () => {
  it('reserves up to the limit and refuses beyond it', () => {
    const r = new ResourceLimits({ maxQueueBytes: 100 });
    expect(r.reserveQueueBytes(60)).toBe(true);
    expect(r.reserveQueueBytes(41)).toBe(false);
    expect(r.stats()).toMatchObject({ queuedBytes: 60, queueByteRefusals: 1 });
    expect(r.reserveQueueBytes(40)).toBe(true);
    r.releaseQueueBytes(50);
    expect(r.stats().queuedBytes).toBe(50);
    expect(r.reserveQueueBytes(50)).toBe(true);
  });

  it('refuses bad counts and releasing more than reserved', () => {
    const r = new ResourceLimits({ maxQueueBytes: 100 });
    r.reserveQueueBytes(10);
    expect(() => r.releaseQueueBytes(11)).toThrow(ValidationError);
    expect(() => r.reserveQueueBytes(-1)).toThrow(ValidationError);
    expect(() => r.reserveQueueBytes(1.5)).toThrow(ValidationError);
    expect(r.stats().queuedBytes).toBe(10);
  });
});

it('validates its settings', () => {
  expect(() => new ResourceLimits({ maxConcurrentToolCalls: 0 })).toThrow(ConfigError);
  expect(() => new ResourceLimits({ maxMessagesPerSecond: 0 })).toThrow(ConfigError);
  expect(() => new ResourceLimits({ maxQueueBytes: -1 })).toThrow(ConfigError);
});

describe('task resource constraints (cpu, memory_mb)', () => {
  it('default to the host: its CPUs and its total memory', async () => {
    const os = await import('node:os');
    const r = new ResourceLimits();
    expect(r.maxTaskCpu).toBe(os.availableParallelism());
    expect(r.maxTaskMemoryMb).toBe(Math.floor(os.totalmem() / 1048576));
  });

  it('admits what fits, refuses what is over with TaskResourcesError (a LimitExceededError), counted', () => {
    const r = new ResourceLimits({ maxTaskCpu: 2, maxTaskMemoryMb: 512 });
    r.checkTaskResources(undefined);
    r.checkTaskResources({});
    r.checkTaskResources({ cpu: 2, memory_mb: 512, claimTtlMs: 1000 });
    r.checkTaskResources({ cpu: new Float64(1) });
    let err: unknown;
    try {
      r.checkTaskResources({ cpu: 2.5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TaskResourcesError);
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err).toMatchObject({ constraint: 'cpu', requested: 2.5, limit: 2, code: 'ERR_LIMIT_EXCEEDED' });
    expect(() => r.checkTaskResources({ memory_mb: 513 })).toThrow(TaskResourcesError);
    expect(r.stats().taskRefusals).toBe(2);
  });

  it('refuses a malformed constraint with ValidationError, counted', () => {
    const r = new ResourceLimits({ maxTaskCpu: 2, maxTaskMemoryMb: 512 });
    for (const bad of ['lots', -1, Number.NaN, Number.POSITIVE_INFINITY, { n: 1 }]) {
      expect(() => r.checkTaskResources({ cpu: bad })).toThrow(ValidationError);
    }
    expect(() => r.checkTaskResources('cpu=1' as never)).toThrow(ValidationError);
    expect(r.stats().taskRefusals).toBe(6);
  });

  it('validates the limits', () => {
    expect(() => new ResourceLimits({ maxTaskCpu: -1 })).toThrow(ConfigError);
    expect(() => new ResourceLimits({ maxTaskMemoryMb: Number.NaN })).toThrow(ConfigError);
  });
});
