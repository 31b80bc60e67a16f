import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, QueueFullError, createMessage, signMessage, type Decision, type Message, type Task } from '@converge/core';
import { DiscoveryService, LocalHub, LocalTransport } from '@converge/network';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MetricsCollector } from '@converge/observability';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime, Inbox, type AgentRuntimeOptions, type DiscoveryPort } from '@converge/runtime';
import { SquareWorker, waitUntil, stoppedAfterEach } from './helpers.js';

// The real DiscoveryService satisfies the port (checked by tsc).
const _discovery: DiscoveryPort = new DiscoveryService();
void _discovery;

// Stopped in reverse order of these lines (vitest runs after-hooks as a stack): runtimes first.
const extraTransports = stoppedAfterEach<LocalTransport>();
const running = stoppedAfterEach<AgentRuntime>();

// Ticks that would never come within a test: anything handled was woken by an event.
const NEVER = 1e9;

async function env() {
  const store = new MemoryStore();
  const hub = new LocalHub();
  const taskManager = new TaskManager({ store, defaults: { retryBaseMs: 30 } });
  const poolManager = new PoolManager({ store });
  await poolManager.createPool({ id: 'pool-1' });
  const discovery = new DiscoveryService();
  const runtime = (agent: Agent, extra: Partial<AgentRuntimeOptions> = {}) => {
    const rt = new AgentRuntime({
      agent,
      transport: new LocalTransport(agent.id, { hub }),
      taskManager,
      poolManager,
      discovery,
      tickIntervalMs: NEVER,
      sweepIntervalMs: 0,
      ...extra,
    });
    running.push(rt);
    return rt;
  };
  const peer = async () => {
    const id = Identity.generate();
    const t = new LocalTransport(id.fingerprint, { hub });
    extraTransports.push(t);
    await t.start();
    return { id, t, send: (to: string, payload: Record<string, number | string>) => t.send(signMessage(createMessage({ recipient: to, payload }), id)) };
  };
  return { store, hub, taskManager, poolManager, discovery, runtime, peer };
}

/** Records what it receives; replies `{ echo }` to senders; optionally blocks in decide until released. */
class EchoAgent extends Agent {
  received: Message[] = [];
  gate: Promise<void> | undefined;
  decide(messages: readonly Message[]): Promise<Decision[]> | Decision[] {
    this.received.push(...messages);
    const out = messages.map((m) => Decisions.sendMessage(m.sender, { echo: (m.payload as { n: number }).n }));
    return this.gate && messages.length > 0 ? this.gate.then(() => out) : out;
  }
}

describe('AgentRuntime wakes on events, not on a poll', () => {
  it('handles a task submitted with no message and no tick', async () => {
    const e = await env();
    const worker = new SquareWorker('pool-1');
    const rt = e.runtime(worker);
    await rt.start();
    await waitUntil(async () => (await e.poolManager.getPool('pool-1')).agents.includes(worker.id));
    await waitUntil(() => rt.turns >= 1);
    await e.taskManager.submit({ id: 'late', objective: 'square', inputs: { n: 7 }, poolId: 'pool-1' });
    await waitUntil(async () => (await e.taskManager.getTask('late')).state === 'completed', 10_000);
    expect((await e.taskManager.getTask('late')).result).toBe(49);
  });

  it('handles a message as soon as it arrives', async () => {
    const e = await env();
    const agent = new EchoAgent();
    await e.runtime(agent).start();
    const p = await e.peer();
    await p.send(agent.id, { n: 3 });
    const reply = await p.t.receive({ timeoutMs: 10_000 });
    expect(reply?.payload).toEqual({ echo: 3 });
    expect(reply?.sender).toBe(agent.id);
  });

  it('wakes when a failed task becomes claimable again at its retry time', async () => {
    const e = await env();
    class FlakyWorker extends SquareWorker {
      attempts = 0;
      override decide(messages: readonly Message[], tasks: readonly Task[]): Decision[] {
        if (this.calls === 0) return (this.calls++, [Decisions.joinPool('pool-1')]);
        return tasks.flatMap((t) => (++this.attempts === 1 ? [Decisions.claimTask(t.id), Decisions.failTask(t.id, 'first try')] : super.decide(messages, [t])));
      }
    }
    const worker = new FlakyWorker('pool-1');
    const rt = e.runtime(worker);
    await rt.start();
    await waitUntil(async () => (await e.poolManager.getPool('pool-1')).agents.includes(worker.id));
    await e.taskManager.submit({ id: 'retry-me', objective: 'square', inputs: { n: 4 }, poolId: 'pool-1' });
    await waitUntil(async () => (await e.taskManager.getTask('retry-me')).state === 'completed', 10_000);
    expect(worker.attempts).toBe(2);
    expect((await e.taskManager.getTask('retry-me')).failures).toBe(1);
  });

  it('keeps going when decide throws: logged, counted, and the next message is handled', async () => {
    const e = await env();
    const metrics = new MetricsCollector();
    const agent = new EchoAgent();
    const decide = agent.decide.bind(agent);
    agent.decide = (messages) => {
      if (messages.some((m) => (m.payload as { n: number }).n === 1)) throw new Error('poison');
      return decide(messages);
    };
    const rt = e.runtime(agent, { metrics });
    await rt.start();
    const p = await e.peer();
    await p.send(agent.id, { n: 1 });
    await waitUntil(() => (rt.errors.get('decide') ?? 0) >= 1);
    await p.send(agent.id, { n: 2 });
    expect((await p.t.receive({ timeoutMs: 10_000 }))?.payload).toEqual({ echo: 2 });
    // The poison message is retried (a failed turn consumes nothing) and, after
    // maxDecideAttempts (3) failures, dropped and counted: never silently, never forever.
    expect(metrics.counter('converge_runtime_errors_total', 'x', ['stage']).get({ stage: 'decide' })).toBe(3);
    expect(metrics.counter('converge_inbox_dropped_total', 'x', ['reason']).get({ reason: 'decide_failed' })).toBe(1);
    expect(rt.isHealthy()).toBe(true);
  });
});

describe('AgentRuntime stop and halt', () => {
  async function holding() {
    const e = await env();
    const worker = new SquareWorker('pool-1', { holdClaims: true });
    const rt = e.runtime(worker);
    await rt.start();
    for (const id of ['h1', 'h2', 'h3']) await e.taskManager.submit({ id, objective: 'square', inputs: { n: 1 }, poolId: 'pool-1' });
    await waitUntil(() => rt.leases.size === 3);
    return { e, worker, rt };
  }

  it('stop() hands held claims back (claimable by another), unregisters from discovery and stops the transport', async () => {
    const { e, worker, rt } = await holding();
    expect(await e.discovery.get(worker.id)).toBeDefined();
    expect(e.hub.has(worker.id)).toBe(true);
    await rt.stop();
    for (const id of ['h1', 'h2', 'h3']) {
      const t = await e.taskManager.getTask(id);
      expect([t.state, t.assignedTo, t.failures]).toEqual(['pending', null, 0]);
    }
    expect(rt.leases.size).toBe(0);
    const other = Identity.generate().fingerprint;
    await expect(e.taskManager.claim(other, 'h1')).resolves.toMatchObject({ taskId: 'h1', agentId: other });
    expect(await e.discovery.get(worker.id)).toBeUndefined();
    expect(e.hub.has(worker.id)).toBe(false);
    expect(e.taskManager.stats().returned).toBe(3);
    expect([rt.isHealthy(), rt.isReady()]).toEqual([false, false]);
  });

  it('halt() leaves claims held, the registration and the transport as a crash would', async () => {
    const { e, worker, rt } = await holding();
    rt.halt();
    for (const id of ['h1', 'h2', 'h3']) expect((await e.taskManager.getTask(id)).assignedTo).toBe(worker.id);
    expect(await e.discovery.get(worker.id)).toBeDefined();
    expect(e.hub.has(worker.id)).toBe(true);
    expect(rt.isHealthy()).toBe(false);
    // stop() after halt() releases resources only: the claims stay with the crashed worker.
    await rt.stop();
    expect(e.hub.has(worker.id)).toBe(false);
    expect((await e.taskManager.getTask('h1')).assignedTo).toBe(worker.id);
  });

  it('stop() hands the messages already in the inbox to decide before stopping', async () => {
    const e = await env();
    const agent = new EchoAgent();
    let open!: () => void;
    agent.gate = new Promise((r) => (open = r));
    const rt = e.runtime(agent);
    await rt.start();
    const p = await e.peer();
    for (let n = 1; n <= 4; n++) await p.send(agent.id, { n });
    await waitUntil(() => agent.received.length >= 1 && rt.inbox.size + agent.received.length === 4);
    const stopping = rt.stop();
    open();
    await stopping;
    expect(agent.received.map((m) => (m.payload as { n: number }).n)).toEqual([1, 2, 3, 4]);
  });

  it('restores a checkpoint across a restart', async () => {
    const e = await env();
    const checkpointStore = new MemoryStore();
    class Counter extends EchoAgent {
      count = 0;
      override decide(messages: readonly Message[]): Decision[] {
        this.count += messages.length;
        return [];
      }
      snapshot() {
        return { count: this.count };
      }
      restore(state: unknown) {
        this.count = (state as { count: number }).count;
      }
    }
    const identity = Identity.generate();
    const first = new Counter({ identity });
    const rt1 = e.runtime(first, { checkpointStore });
    await rt1.start();
    const p = await e.peer();
    for (let n = 0; n < 3; n++) await p.send(first.id, { n });
    await waitUntil(() => first.count === 3);
    await rt1.stop();
    const second = new Counter({ identity });
    const rt2 = e.runtime(second, { checkpointStore });
    await rt2.start();
    expect(second.count).toBe(3);
    await p.send(second.id, { n: 9 });
    await waitUntil(() => second.count === 4);
  });
});

describe('AgentRuntime health and backpressure', () => {
  it('isHealthy/isReady follow start, a full inbox, a transport stopped under it, and stop', async () => {
    const e = await env();
    const agent = new EchoAgent();
    let open!: () => void;
    agent.gate = new Promise((r) => (open = r));
    const transport = new LocalTransport(agent.id, { hub: e.hub });
    const rt = e.runtime(agent, { transport, inbox: new Inbox({ maxSize: 1 }) });
    expect([rt.isHealthy(), rt.isReady()]).toEqual([false, false]);
    await rt.start();
    expect([rt.isHealthy(), rt.isReady()]).toEqual([true, true]);
    const p = await e.peer();
    await p.send(agent.id, { n: 1 }); // decide blocks on it
    await waitUntil(() => agent.received.length === 1);
    await p.send(agent.id, { n: 2 }); // fills the inbox
    await waitUntil(() => rt.inbox.full);
    expect([rt.isHealthy(), rt.isReady()]).toEqual([true, false]);
    open();
    await waitUntil(() => rt.isReady());
    await transport.stop(); // pulled out from under the runtime: it can no longer hear anything
    await waitUntil(() => !rt.isHealthy());
    expect(rt.errors.get('receive')).toBe(1);
    await rt.stop();
    expect([rt.isHealthy(), rt.isReady()]).toEqual([false, false]);
  });

  it("inbox 'reject' pushes back: a sender gets QueueFullError once the transport queue is full, and nothing is dropped", async () => {
    const e = await env();
    const metrics = new MetricsCollector();
    const agent = new EchoAgent();
    agent.decide = function (messages) {
      this.received.push(...messages);
      return this.gate && messages.length > 0 ? this.gate.then(() => []) : [];
    };
    let open!: () => void;
    agent.gate = new Promise((r) => (open = r));
    const transport = new LocalTransport(agent.id, { hub: e.hub, maxQueue: 3 });
    const rt = e.runtime(agent, { transport, inbox: new Inbox({ maxSize: 2, overflow: 'reject' }), metrics });
    await rt.start();
    const p = await e.peer();
    let sent = 0;
    let refusal: unknown;
    for (let n = 0; n < 100 && refusal === undefined; n++) {
      try {
        await p.send(agent.id, { n });
        sent++;
      } catch (err) {
        refusal = err;
      }
      await new Promise((r) => setImmediate(r)); // let the intake move what it can
    }
    open(); // before any assertion: a failing one must not leave decide blocked
    expect(refusal).toBeInstanceOf(QueueFullError);
    // Every accepted message is somewhere: in the blocked decide, the full inbox (2) or the
    // full transport queue (3).
    expect(rt.inbox.size).toBe(2);
    expect(transport.queued).toBe(3);
    expect(sent).toBe(agent.received.length + 2 + 3);
    await waitUntil(() => agent.received.length === sent);
    expect(agent.received.map((m) => (m.payload as { n: number }).n)).toEqual([...Array(sent).keys()]);
    expect(rt.inbox.dropped).toBe(0);
    expect(e.hub.stats.droppedOverflow).toBe(0);
    expect(metrics.counter('converge_inbox_dropped_total', 'x', ['reason']).get({ reason: 'stopped' })).toBe(0);
  });
});
