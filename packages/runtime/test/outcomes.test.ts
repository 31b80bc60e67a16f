import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, ToolRegistry, type DecideContext, type Decision, type DecisionPolicy, type Message, type Task } from '@converge/core';
import { TaskManager } from '@converge/coordination';
import { MetricsCollector, ReplayLog, createTracing, replay } from '@converge/observability';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime, OutcomeBuffer, type AgentRuntimeOptions, type Executor } from '@converge/runtime';
import { inMemoryTracing } from '../../observability/test/support/in-memory-tracing.js';
import { waitUntil, stoppedAfterEach } from './helpers.js';

// Ticks that never come within a test: every turn seen here was woken by an event.
const NEVER = 1e9;

const running = stoppedAfterEach<AgentRuntime>();

interface Call {
  messages: readonly Message[];
  tasks: readonly Task[];
  context: DecideContext;
}

/** Decides what `script` says for the n-th call and records every call's arguments. */
class ScriptedAgent extends Agent {
  readonly calls: Call[] = [];
  constructor(readonly script: (call: Call, n: number) => Decision[]) {
    super({ identity: Identity.generate() });
  }
  decide(messages: readonly Message[], tasks: readonly Task[], context: DecideContext): Decision[] {
    const call = { messages, tasks, context };
    this.calls.push(call);
    return this.script(call, this.calls.length - 1);
  }
}

function start(agent: Agent, extra: Partial<AgentRuntimeOptions> = {}): Promise<AgentRuntime> {
  const rt = new AgentRuntime({ agent, tickIntervalMs: NEVER, sweepIntervalMs: 0, ...extra });
  running.push(rt);
  return rt.start().then(() => rt);
}

let hangAborts = 0;
const tools = new ToolRegistry([
  { name: 'add', run: (p) => ({ sum: (p.a as number) + (p.b as number) }) },
  {
    name: 'hang',
    run: (_p, { signal }) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          hangAborts++;
          resolve('too late');
        }),
      ),
  },
]);

/** The first call whose context holds outcomes. */
function firstWithOutcomes(agent: ScriptedAgent): Call | undefined {
  return agent.calls.find((c) => c.context.outcomes.length > 0);
}

describe('decision outcomes reach the next decide', () => {
  it("a tool's return value is the `ok` outcome's result in the next turn", async () => {
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.invokeTool('add', { a: 2, b: 3 })] : []));
    await start(agent, { executorOptions: { tools, toolAllowlist: ['add'] } });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    const call = firstWithOutcomes(agent)!;
    expect(call.context.outcomes).toEqual([{ decision: Decisions.invokeTool('add', { a: 2, b: 3 }), status: 'ok', result: { sum: 5 } }]);
    expect(call.context.droppedOutcomes).toBe(0);
    // Handed over once: the turn after has none left.
    expect(agent.calls.indexOf(call)).toBe(1);
  });

  it('a lost claim arrives as `conflict` with the ConflictError, serialised', async () => {
    const taskManager = new TaskManager({ store: new MemoryStore() });
    const task = await taskManager.submit({ objective: 'contested' });
    await taskManager.claim('someone-else', task.id);
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.claimTask(task.id)] : []));
    await start(agent, { taskManager });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    const [outcome] = firstWithOutcomes(agent)!.context.outcomes;
    expect(outcome!.status).toBe('conflict');
    expect(outcome!.decision).toEqual(Decisions.claimTask(task.id));
    expect(outcome!.error).toMatchObject({ name: 'ConflictError', code: 'ERR_CONFLICT' });
    // Plain data: it survives JSON (a replay log, a store, the wire).
    expect(JSON.parse(JSON.stringify(outcome))).toEqual(outcome);
  });

  it('a policy refusal arrives as `refused`, and wakes the agent with no message, task or tick', async () => {
    const policy: DecisionPolicy = { check: (d) => (d.type === 'InvokeTool' ? { allowed: false, reason: 'tools are off today' } : { allowed: true }) };
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.invokeTool('add', { a: 1, b: 1 })] : []));
    await start(agent, { policy, executorOptions: { tools, toolAllowlist: ['add'] } });
    // A refused decision used to leave the loop asleep until a message, task or tick (NEVER
    // here): only the waiting outcome can wake it for a second turn.
    await waitUntil(() => agent.calls.length >= 2, 10_000);
    const second = agent.calls[1]!;
    expect(second.messages).toHaveLength(0);
    expect(second.tasks).toHaveLength(0);
    expect(second.context.outcomes).toHaveLength(1);
    expect(second.context.outcomes[0]!.status).toBe('refused');
    expect(second.context.outcomes[0]!.error).toMatchObject({ name: 'PolicyError', code: 'ERR_POLICY' });
    expect(second.context.outcomes[0]!.error!.message).toContain('tools are off today');
  });

  it('a tool outside the allowlist is `refused` too', async () => {
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.invokeTool('add', { a: 1, b: 1 })] : []));
    await start(agent, { executorOptions: { tools, toolAllowlist: [] } });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    expect(firstWithOutcomes(agent)!.context.outcomes[0]!.status).toBe('refused');
  });

  it('a hanging tool arrives as `timeout` (TimeoutError), and the tool saw its signal abort', async () => {
    const abortsBefore = hangAborts;
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.invokeTool('hang', {}, 50)] : []));
    await start(agent, { executorOptions: { tools, toolAllowlist: ['hang'] } });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    const [outcome] = firstWithOutcomes(agent)!.context.outcomes;
    expect(outcome!.status).toBe('timeout');
    expect(outcome!.error).toMatchObject({ name: 'TimeoutError', code: 'ERR_TIMEOUT' });
    expect(outcome!.result).toBeUndefined();
    expect(hangAborts).toBe(abortsBefore + 1);
  });

  it('a whole batch: one outcome per decision, in order', async () => {
    const agent = new ScriptedAgent((_c, n) =>
      n === 0 ? [Decisions.invokeTool('add', { a: 1, b: 2 }), Decisions.invokeTool('nope', {}), { type: 'NoSuchDecision' }] : [],
    );
    await start(agent, { executorOptions: { tools, toolAllowlist: ['add'] } });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    expect(firstWithOutcomes(agent)!.context.outcomes.map((o) => o.status)).toEqual(['ok', 'refused', 'failed']);
  });

  it('an executor that throws still yields a `failed` outcome for each decision', async () => {
    const executor: Executor = {
      execute: async () => {
        throw new Error('executor exploded');
      },
    };
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.leavePool('a'), Decisions.leavePool('b')] : []));
    await start(agent, { executor });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    const outcomes = firstWithOutcomes(agent)!.context.outcomes;
    expect(outcomes.map((o) => [o.status, o.error?.message])).toEqual([
      ['failed', 'executor exploded'],
      ['failed', 'executor exploded'],
    ]);
  });

  it('an agent that repeats a refused decision is not woken back to back (the wake-up backs off)', async () => {
    const policy: DecisionPolicy = { check: () => ({ allowed: false, reason: 'never' }) };
    const agent = new ScriptedAgent(() => [Decisions.leavePool('p')]);
    const rt = await start(agent, { policy });
    await waitUntil(() => agent.calls.length >= 3, 10_000);
    await new Promise((r) => setTimeout(r, 400));
    // Without the back-off this loop spins (tens of thousands of turns in 400 ms); with it, a
    // handful (delays of 0, 10, 20, 40, 80, 160 ms ...). The bound is generous on purpose.
    expect(rt.turns).toBeLessThan(200);
    expect(rt.errors.size).toBe(0);
  });
});

describe('outcomes are bounded, recorded and traced', () => {
  it('past maxOutcomes the oldest are dropped, counted and reported as droppedOutcomes', async () => {
    const metrics = new MetricsCollector();
    const policy: DecisionPolicy = { check: () => ({ allowed: false }) };
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? ['a', 'b', 'c', 'd', 'e'].map((p) => Decisions.leavePool(p)) : []));
    const rt = await start(agent, { policy, maxOutcomes: 3, metrics });
    await waitUntil(() => firstWithOutcomes(agent) !== undefined, 10_000);
    const ctx = firstWithOutcomes(agent)!.context;
    expect(ctx.outcomes.map((o) => (o.decision as { poolId: string }).poolId)).toEqual(['c', 'd', 'e']);
    expect(ctx.droppedOutcomes).toBe(2);
    expect(rt.droppedOutcomes).toBe(2);
    expect(await metrics.metrics()).toContain('converge_runtime_outcomes_dropped_total 2');
  });

  it('OutcomeBuffer refuses a bad bound', () => {
    expect(() => new OutcomeBuffer(0)).toThrow(/maxOutcomes/);
    expect(() => new OutcomeBuffer(1.5)).toThrow(/maxOutcomes/);
  });

  it('the replay log records the outcomes each decide got, so a replay reproduces an outcome-driven agent', async () => {
    const replayLog = new ReplayLog();
    // Adds 1 until the tool's sum reaches 4: every decision after the first depends on an outcome.
    const script = (call: Call, n: number): Decision[] => {
      if (n === 0) return [Decisions.invokeTool('add', { a: 0, b: 1 })];
      const last = call.context.outcomes[0];
      if (!last) return [];
      const sum = (last.result as { sum: number }).sum;
      return sum < 4 ? [Decisions.invokeTool('add', { a: sum, b: 1 })] : [];
    };
    const agent = new ScriptedAgent(script);
    await start(agent, { replayLog, executorOptions: { tools, toolAllowlist: ['add'] } });
    await waitUntil(() => agent.calls.some((c) => (c.context.outcomes[0]?.result as { sum?: number } | undefined)?.sum === 4), 10_000);
    const withOutcomes = replayLog.entries().filter((e) => e.kind === 'decision' && e.outcomes !== undefined);
    expect(withOutcomes.length).toBeGreaterThanOrEqual(4);
    const report = await replay(replayLog, new ScriptedAgent(script), { agentId: agent.id });
    expect(report.steps).toBeGreaterThanOrEqual(5);
    expect(report.mismatches).toEqual([]);
  });
});

describe('outcome spans', () => {
  const { exporter, provider } = inMemoryTracing();

  it('each outcome is a child span of the agent.execute span that carried the decision out', async () => {
    const tracing = createTracing({ tracer: provider.getTracer('outcomes-test') });
    const agent = new ScriptedAgent((_c, n) => (n === 0 ? [Decisions.invokeTool('add', { a: 1, b: 1 }), Decisions.invokeTool('hang', {}, 20)] : []));
    await start(agent, { tracer: tracing.withSpan.bind(tracing), executorOptions: { tools, toolAllowlist: ['add', 'hang'] } });
    await waitUntil(() => exporter.getFinishedSpans().filter((s) => s.name === 'agent.outcome').length >= 2, 10_000);
    const spans = exporter.getFinishedSpans();
    const exec = spans.find((s) => s.name === 'agent.execute')!;
    const outcomes = spans.filter((s) => s.name === 'agent.outcome');
    expect(outcomes.map((s) => s.attributes['converge.outcome'])).toEqual(['ok', 'timeout']);
    for (const s of outcomes) {
      expect(s.parentSpanContext?.spanId).toBe(exec.spanContext().spanId);
      expect(s.spanContext().traceId).toBe(exec.spanContext().traceId);
    }
    expect(outcomes[1]!.events.some((e) => e.name === 'exception')).toBe(true);
  });
});
