// L3: a tool that outlives its deadline is aborted (its signal) and keeps its concurrency slot
// until its promise settles, so `maxConcurrentToolCalls` bounds the tools alive at once, not
// just the calls the executor is still waiting for.
import { describe, expect, it } from 'vitest';
import { Decisions, Identity, TimeoutError, ToolRegistry } from '@converge/core';
import { ResourceLimits } from '@converge/policy';
import { StandardExecutor, type ExecutionContext } from '../../src/index.js';

const identity = Identity.generate();
const ctx = (): ExecutionContext => ({ agentId: identity.fingerprint, identity, leases: new Map() });

describe('tool slots under hanging tools (L3)', () => {
  it('keeps at most maxConcurrentToolCalls=2 hanging tools alive, and aborts each timed-out one', async () => {
    const limits = new ResourceLimits({ maxConcurrentToolCalls: 2 });
    let alive = 0;
    let most = 0;
    const signals: AbortSignal[] = [];
    const settle: (() => void)[] = [];
    // Ignores its signal and never settles on its own: the worst a tool can do.
    const tools = new ToolRegistry([
      {
        name: 'hang',
        run: (_p, { signal }) => {
          signals.push(signal);
          most = Math.max(most, ++alive);
          return new Promise((resolve) => settle.push(() => (alive--, resolve('late'))));
        },
      },
    ]);
    const executor = new StandardExecutor({ tools, toolAllowlist: ['hang'], limits, toolTimeoutMs: 20 });
    const results = await executor.execute(
      Array.from({ length: 8 }, () => Decisions.invokeTool('hang')),
      ctx(),
    );
    expect(results.every((r) => !r.ok && r.error instanceof TimeoutError)).toBe(true);
    // Two started and hang; the six others timed out waiting for a slot, never ran.
    expect(signals.length).toBe(2);
    expect(most).toBe(2);
    expect(signals.every((s) => s.aborted && s.reason instanceof TimeoutError)).toBe(true);
    expect(limits.stats().activeToolCalls).toBe(2);
    // Once a hung tool settles, its slot is free again and the next call runs.
    settle.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(limits.stats().activeToolCalls).toBe(1);
    const [next] = await executor.execute([Decisions.invokeTool('hang')], ctx());
    expect(next).toMatchObject({ ok: false });
    expect(signals.length).toBe(3);
    expect(most).toBe(2);
    for (const f of settle.splice(0)) f();
  });

  it('a tool that honours its signal frees its slot when it stops', async () => {
    const limits = new ResourceLimits({ maxConcurrentToolCalls: 1 });
    let runs = 0;
    const tools = new ToolRegistry([
      {
        name: 'polite',
        run: (_p, { signal }) => (runs++, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))),
      },
    ]);
    const executor = new StandardExecutor({ tools, toolAllowlist: ['polite'], limits, toolTimeoutMs: 10 });
    const results = await executor.execute([Decisions.invokeTool('polite'), Decisions.invokeTool('polite'), Decisions.invokeTool('polite')], ctx());
    expect(results.every((r) => !r.ok && r.error instanceof TimeoutError)).toBe(true);
    expect(runs).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(limits.stats().activeToolCalls).toBe(0);
  });
});
