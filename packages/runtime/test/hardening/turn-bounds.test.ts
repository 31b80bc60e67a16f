// M3 (runtime side) and M4: a turn whose decide threw consumes no message; one message that
// always makes decide throw is isolated, retried, then dropped and counted; decisions beyond
// maxDecisionsPerTurn are refused and counted; executing a large batch yields to the event loop.
import { describe, expect, it } from 'vitest';
import { Agent, Identity, createMessage, signMessage, type Decision, type Message } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { MetricsCollector } from '@converge/observability';
import { AgentRuntime, EXECUTE_YIELD_EVERY, Inbox, StandardExecutor, type AgentRuntimeOptions, type ExecutionContext } from '../../src/index.js';
import { startPeer, waitUntil, stoppedAfterEach } from '../helpers.js';

// Stopped in reverse order of these lines (vitest runs after-hooks as a stack): runtimes first.
const peers = stoppedAfterEach<LocalTransport>();
const running = stoppedAfterEach<AgentRuntime>();

class ScriptedAgent extends Agent {
  seen: number[] = [];
  constructor(readonly script: (messages: readonly Message[]) => Decision[] | Promise<Decision[]>) {
    super({ identity: Identity.generate() });
  }
  decide(messages: readonly Message[]): Decision[] | Promise<Decision[]> {
    return this.script(messages);
  }
}

async function setup(agent: Agent, extra: Partial<AgentRuntimeOptions> = {}) {
  const hub = new LocalHub();
  const metrics = new MetricsCollector();
  const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), metrics, tickIntervalMs: 1e9, sweepIntervalMs: 0, ...extra });
  running.push(rt);
  await rt.start();
  const toAgent = await startPeer(hub, agent.id, peers);
  const send = (n: number) => toAgent({ n });
  const counter = (name: string, labels: Record<string, string>) => metrics.counter(name, 'x', Object.keys(labels)).get(labels);
  return { rt, send, counter };
}

const nOf = (m: Message) => (m.payload as { n: number }).n;

describe('a failed decide loses no message (M3)', () => {
  it('redelivers the batch of a turn whose decide threw once', async () => {
    let calls = 0;
    const decided: number[] = [];
    const agent = new ScriptedAgent((messages) => {
      if (messages.length > 0 && calls++ === 0) throw new RangeError('Maximum call stack size exceeded');
      decided.push(...messages.map(nOf));
      return [];
    });
    const { rt, send, counter } = await setup(agent);
    for (const n of [1, 2, 3]) await send(n);
    await waitUntil(() => decided.length >= 3, 3_000);
    expect(decided).toEqual([1, 2, 3]);
    expect(rt.errors.get('decide')).toBe(1);
    expect(counter('converge_inbox_dropped_total', { reason: 'decide_failed' })).toBe(0);
    expect(rt.inbox.size + rt.inbox.held).toBe(0);
  });

  it('isolates a message decide always throws on: the others are decided, it is dropped and counted after maxDecideAttempts', async () => {
    const decided: number[] = [];
    const agent = new ScriptedAgent((messages) => {
      if (messages.some((m) => nOf(m) === 2)) throw new Error('poison');
      decided.push(...messages.map(nOf));
      return [];
    });
    const { rt, counter } = await setup(agent, { maxDecideAttempts: 2 });
    // Queued synchronously, before the loop's next turn: the three form one batch.
    const from = Identity.generate();
    for (const n of [2, 3, 4]) rt.inbox.offer(signMessage(createMessage({ recipient: agent.id, payload: { n } }), from));
    await waitUntil(() => decided.length >= 2 && rt.inbox.size === 0, 3_000);
    expect(decided.sort()).toEqual([3, 4]);
    expect(counter('converge_inbox_dropped_total', { reason: 'decide_failed' })).toBe(1);
    expect(rt.errors.get('decide')).toBe(2);
  });
});

describe('Inbox.take / commit', () => {
  it('holds a taken batch until committed: taken again after a failure, counted when dropped', () => {
    const drops: string[] = [];
    const inbox = new Inbox({ maxSize: 2, onDrop: (reason) => drops.push(reason) });
    const [a, b, c] = [1, 2, 3].map((n) => createMessage({ payload: { n } }));
    expect(inbox.offer(a!) && inbox.offer(b!)).toBe(true);
    const first = inbox.take(2);
    expect(first).toEqual([a, b]);
    // Held messages free the queue's capacity, as polled ones did.
    expect(inbox.size).toBe(0);
    expect(inbox.held).toBe(2);
    expect(inbox.offer(c!)).toBe(true);
    // Not committed (decide threw): the same batch comes first again.
    expect(inbox.take(1)).toEqual([a]);
    expect(inbox.commit([a!])).toBe(1);
    expect(inbox.take(10)).toEqual([b, c]);
    expect(inbox.commit([b!], 'decide_failed')).toBe(1);
    expect(inbox.discard('stopped')).toBe(1);
    expect(drops).toEqual(['decide_failed', 'stopped']);
    expect(inbox.held + inbox.size).toBe(0);
  });
});

describe('decisions per turn (M4)', () => {
  it('executes at most maxDecisionsPerTurn decisions of one decide; the rest are refused and counted', async () => {
    let executed = 0;
    let first = true;
    const agent = new ScriptedAgent(() => {
      if (!first) return [];
      first = false;
      return Array.from({ length: 2_500 }, (_, i) => ({ type: 'Tick', i }) as Decision);
    });
    const executor = new StandardExecutor().register('Tick', async () => ++executed);
    const { rt, counter } = await setup(agent, { executor, maxDecisionsPerTurn: 1_000 });
    await waitUntil(() => rt.turns >= 2 && executed > 0);
    expect(executed).toBe(1_000);
    expect(counter('converge_runtime_decisions_refused_total', { reason: 'turn_cap' })).toBe(1_500);
  });

  it('StandardExecutor yields to the event loop while executing a large batch', async () => {
    const executor = new StandardExecutor().register('Tick', async () => 1);
    let ranDuring = false;
    let done = false;
    setImmediate(() => (ranDuring = !done));
    const identity = Identity.generate();
    const ctx: ExecutionContext = { agentId: identity.fingerprint, identity, leases: new Map() };
    const results = await executor.execute(
      Array.from({ length: EXECUTE_YIELD_EVERY * 3 }, () => ({ type: 'Tick' }) as Decision),
      ctx,
    );
    done = true;
    expect(results.every((r) => r.ok)).toBe(true);
    expect(ranDuring).toBe(true);
  });
});
