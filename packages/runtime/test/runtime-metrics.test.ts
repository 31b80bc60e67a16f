import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, createMessage, signMessage, type Decision, type Message } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MetricsCollector } from '@converge/observability';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime } from '@converge/runtime';
import { SquareWorker, SubmitterAgent, waitUntil, stoppedAfterEach } from './helpers.js';

const running = stoppedAfterEach<AgentRuntime>();

/** Sends one message to itself per turn, `count` times, then a claim of a task that does not exist. */
class SelfPinger extends Agent {
  sent = 0;
  received = 0;
  constructor(readonly count: number) {
    super({ identity: Identity.generate() });
  }
  decide(messages: readonly Message[]): Decision[] {
    this.received += messages.length;
    if (this.sent >= this.count) return [];
    this.sent++;
    const out: Decision[] = [Decisions.sendMessage(this.id, { n: this.sent })];
    if (this.sent === this.count) out.push(Decisions.claimTask('no-such-task'));
    return out;
  }
}

describe('AgentRuntime metrics (RuntimeMeters)', () => {
  it('times turns, counts outcomes by status and keeps the inbox depth gauge', async () => {
    const metrics = new MetricsCollector();
    const hub = new LocalHub();
    const agent = new SelfPinger(5);
    const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), metrics, sweepIntervalMs: 0 });
    running.push(rt);
    await rt.start();
    rt.scheduler.notify();
    await waitUntil(() => agent.received >= 5);
    await waitUntil(() => rt.inbox.size === 0 && rt.turns > 6);
    const turns = metrics
      .histogram(
        'converge_runtime_turn_duration_seconds',
        'Duration of one agent turn (onTick, decide, execute), seconds',
        [],
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      )
      .get();
    expect(turns.count).toBeGreaterThanOrEqual(6);
    const outcomes = metrics.counter('converge_runtime_outcomes_total', 'Decision outcomes handed to agents, by status', ['status']);
    await waitUntil(() => outcomes.get({ status: 'ok' }) >= 5);
    expect(outcomes.get({ status: 'ok' })).toBe(5);
    // The claim of a task without a task manager: failed.
    expect(outcomes.get({ status: 'failed' })).toBe(1);
    // Everything delivered was consumed: the depth is back to 0.
    expect(metrics.gauge('converge_inbox_depth', 'Messages queued in agent inboxes (sum over the runtimes of this process)').get()).toBe(0);
  });

  it('the inbox depth gauge shows messages queued while the agent is busy', async () => {
    const metrics = new MetricsCollector();
    const hub = new LocalHub();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class Slow extends Agent {
      calls = 0;
      async decide(): Promise<Decision[]> {
        this.calls++;
        if (this.calls === 1) await gate;
        return [];
      }
    }
    const agent = new Slow({ identity: Identity.generate() });
    const sender = new LocalTransport('sender', { hub });
    await sender.start();
    const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), metrics, sweepIntervalMs: 0 });
    running.push(rt);
    await rt.start();
    rt.scheduler.notify();
    await waitUntil(() => agent.calls === 1);
    const other = Identity.generate();
    for (let i = 0; i < 3; i++) await sender.send(signMessage(createMessage({ sender: other.fingerprint, recipient: agent.id, payload: { i } }), other));
    const depth = metrics.gauge('converge_inbox_depth', 'Messages queued in agent inboxes (sum over the runtimes of this process)');
    await waitUntil(() => depth.get() === 3);
    release();
    await waitUntil(() => depth.get() === 0);
    await sender.stop();
  });

  it('a worker run with a TaskManager given the same metrics fills the task gauges and histograms', async () => {
    const metrics = new MetricsCollector();
    const store = new MemoryStore();
    const taskManager = new TaskManager({ store, metrics });
    const poolManager = new PoolManager({ store });
    await poolManager.createPool({ id: 'p' });
    const hub = new LocalHub();
    const submitter = new SubmitterAgent('p', 10);
    const worker = new SquareWorker('p');
    for (const agent of [submitter, worker]) {
      const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), taskManager, poolManager, metrics, sweepIntervalMs: 0 });
      running.push(rt);
      await rt.start();
      rt.scheduler.notify();
    }
    await waitUntil(() => taskManager.stats().completed === 10);
    const text = await metrics.metrics();
    expect(text).toContain('converge_tasks{state="completed"} 10');
    expect(text).toContain('converge_task_claim_latency_seconds_count 10');
    expect(text).toContain('converge_task_run_latency_seconds_count 10');
  });
});
