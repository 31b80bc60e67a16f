// The pieces `converge run --role coordinator|worker` uses on a task queue: the claim loop
// (claim, execute, report fenced by the lease), the runtime port (submit idempotent by id;
// claim/report decisions refused), the SubmitTasks batch decision, the queue chosen for each
// --store, and the config rules of --store nats://. On the portable StoreTaskQueue over a
// MemoryStore (the native queues run the same code in the scale-out test).
import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, ValidationError, type Decision, type Task } from '@converge/core';
import { StoreTaskQueue } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { MetricsCollector, createLogger } from '@converge/observability';
import { StandardExecutor } from '@converge/runtime';
import { WorkerAgent, openTaskQueue, queuePort, resolveConfig, runClaimLoop } from '../src/index.js';
import { newClaimLoopStats, registerSubmitTasks } from '../src/distributed/queue.js';
import { QueueMetrics } from '../src/distributed/queue-metrics.js';
import { taskBody } from '../src/workload/plan.js';
import { expectedSum, type SumInputs } from '../src/workload/agents.js';

const logger = createLogger({ level: 'silent' });

async function queueWith(n: number): Promise<StoreTaskQueue> {
  const q = new StoreTaskQueue({ store: new MemoryStore(), pollMs: 10 });
  await q.start();
  for (let i = 0; i < n; i++) await q.submit(taskBody('p', i, 5_000));
  return q;
}

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('runClaimLoop', () => {
  it('claims, executes and reports every task once, with the right result', async () => {
    const q = await queueWith(40);
    const stats = newClaimLoopStats();
    const stop = new AbortController();
    const agents = [new WorkerAgent({ identity: Identity.generate() }), new WorkerAgent({ identity: Identity.generate() })];
    const loops = agents.map((a) => runClaimLoop(q, a, { poolId: 'p', maxClaims: 8, waitMs: 50, signal: stop.signal, stats, logger }));
    await until(() => stats.completed === 40);
    stop.abort();
    await Promise.all(loops);
    expect(stats).toMatchObject({ claims: 40, completed: 40, conflicts: 0, failed: 0, claimErrors: 0 });
    const page = await q.list({ poolId: 'p', limit: 1_000 });
    for (const t of page.tasks) {
      expect(t.state).toBe('completed');
      expect(t.result).toBe(expectedSum(t.inputs as unknown as SumInputs));
      expect(agents.map((a) => a.id)).toContain(t.assignedTo);
    }
    await q.stop();
  });

  it('runs an agent without execute() through its decide: its FailTask and the tasks it does not take are failed attempts', async () => {
    class Picky extends Agent {
      decide(_m: unknown, tasks: readonly Task[]): Decision[] {
        const t = tasks[0]!;
        const i = Number(t.id.split(':').pop());
        if (i % 3 === 0) return [Decisions.claimTask(t.id), Decisions.reportTask(t.id, 'ok')];
        if (i % 3 === 1) return [Decisions.failTask(t.id, 'no thanks')];
        return [];
      }
    }
    const q = await queueWith(6);
    const stats = newClaimLoopStats();
    const stop = new AbortController();
    const loop = runClaimLoop(q, new Picky({ identity: Identity.generate(), capabilities: ['sum'] }), {
      poolId: 'p',
      maxClaims: 6,
      waitMs: 0,
      signal: stop.signal,
      stats,
      logger,
      paceMs: 1,
    });
    await until(() => stats.completed === 2 && stats.failed >= 4);
    stop.abort();
    await loop;
    expect((await q.get('p:task:0')).result).toBe('ok');
    const t1 = await q.get('p:task:1');
    expect(t1.failureReason).toBe('no thanks');
    expect(t1.state).not.toBe('completed');
    expect((await q.get('p:task:2')).failureReason).toBe('not taken by the agent');
    await q.stop();
  });

  it('counts a report refused for a stale lease as a conflict, not a completion', async () => {
    const q = await queueWith(1);
    const stats = newClaimLoopStats();
    const stop = new AbortController();
    // An agent whose work outlasts the lease: another claimer takes the task in the meantime.
    class Slow extends Agent {
      async execute(task: Task): Promise<number> {
        await until(async () => (await q.get(task.id)).attempts > 1 || (await q.expire()).length > 0);
        return expectedSum(task.inputs as unknown as SumInputs);
      }
      decide(): Decision[] {
        return [];
      }
    }
    await q.submit({ ...taskBody('p', 1, 100), constraints: { claimTtlMs: 100 } });
    const slow = runClaimLoop(q, new Slow({ identity: Identity.generate(), capabilities: ['sum'] }), {
      poolId: 'p',
      maxClaims: 1,
      waitMs: 0,
      signal: stop.signal,
      stats,
      logger,
      paceMs: 1,
    });
    await until(() => stats.conflicts >= 1 || stats.completed >= 2, 15_000);
    stop.abort();
    await slow;
    expect(stats.conflicts).toBeGreaterThanOrEqual(1);
    await q.stop();
  });
});

describe('queue metrics of the split roles', () => {
  it('count submits, claims and each way an attempt ended, observe the task latency and set the depth gauge', async () => {
    const q = new StoreTaskQueue({ store: new MemoryStore(), pollMs: 10, defaults: { maxRetries: 0 } });
    await q.start();
    const metrics = new MetricsCollector();
    const meters = new QueueMetrics(metrics, 'p');
    const port = queuePort(q, undefined, { meters });
    for (let i = 0; i < 5; i++) await port.submit(taskBody('p', i, 5_000));
    meters.depth(5);
    // A second process's meters on the same registry: the same metrics, another pool label.
    const others = new QueueMetrics(metrics, 'other');
    await queuePort(q, undefined, { meters: others }).submit({ ...taskBody('p', 5, 5_000), poolId: 'other' });
    const stats = newClaimLoopStats();
    const stop = new AbortController();
    const loop = runClaimLoop(q, new WorkerAgent({ identity: Identity.generate() }), {
      poolId: 'p',
      maxClaims: 8,
      waitMs: 20,
      signal: stop.signal,
      stats,
      logger,
      meters,
    });
    // An agent that takes nothing: its attempt at the other pool's task is a failed one.
    class Idle extends Agent {
      decide(): Decision[] {
        return [];
      }
    }
    const idle = runClaimLoop(q, new Idle({ identity: Identity.generate(), capabilities: ['sum'] }), {
      poolId: 'other',
      maxClaims: 1,
      waitMs: 20,
      signal: stop.signal,
      stats,
      logger,
      meters: others,
    });
    await until(() => stats.completed === 5 && stats.failed === 1);
    stop.abort();
    await Promise.all([loop, idle]);
    const text = await metrics.metrics();
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('converge_queue_submits_total{pool="p"}')).toBe(5);
    expect(value('converge_queue_submits_total{pool="other"}')).toBe(1);
    expect(value('converge_queue_claims_total{pool="p"}')).toBe(5);
    expect(value('converge_queue_claims_total{pool="other"}')).toBe(1);
    expect(value('converge_queue_reports_total{pool="p",outcome="completed"}')).toBe(5);
    expect(value('converge_queue_reports_total{pool="other",outcome="failed"}')).toBe(1);
    expect(value('converge_queue_task_latency_seconds_count{pool="p"}')).toBe(5);
    expect(value('converge_queue_depth{pool="p"}')).toBe(5);
    await q.stop();
  });
});

describe('queuePort and SubmitTasks', () => {
  it('submits idempotently by task id and refuses claim, report, fail and extend decisions', async () => {
    const q = await queueWith(0);
    const seen: string[] = [];
    const port = queuePort(q, (t) => seen.push(t.id));
    const a = await port.submit(taskBody('p', 7, 5_000));
    const b = await port.submit({ ...taskBody('p', 7, 5_000), objective: 'something else' });
    expect(b.objective).toBe(a.objective);
    expect(seen).toEqual(['p:task:7', 'p:task:7']);
    await expect(port.claim('w', 'p:task:7')).rejects.toBeInstanceOf(ValidationError);
    await expect(port.report('w', 'p:task:7', 1, { taskId: 'p:task:7', agentId: 'w', attempt: 1, expiresAt: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(await port.listPendingTasksForAgent('w', ['p'], ['sum'])).toEqual([]);
    await q.stop();
  });

  it('a port shared by several runtimes runs one sweep at a time, and none within sweepGapMs of the last', async () => {
    const q = new StoreTaskQueue({ store: new MemoryStore() });
    await q.start();
    let sweeps = 0;
    const expire = q.expire.bind(q);
    q.expire = async (o) => {
      sweeps++;
      await new Promise((r) => setTimeout(r, 20));
      return expire(o);
    };
    const port = queuePort(q, undefined, { sweepGapMs: 200 });
    await Promise.all([1, 2, 3, 4].map(() => port.releaseExpiredClaims()));
    expect(sweeps).toBe(1);
    await port.releaseExpiredClaims();
    expect(sweeps).toBe(1);
    await new Promise((r) => setTimeout(r, 220));
    await port.releaseExpiredClaims();
    expect(sweeps).toBe(2);
    // Without a gap every call after the last one's end sweeps again.
    const eager = queuePort(q);
    await eager.releaseExpiredClaims();
    await eager.releaseExpiredClaims();
    expect(sweeps).toBe(4);
    await q.stop();
  });

  it('SubmitTasks submits every task of the decision; a failing one fails the decision, the others still go in', async () => {
    const q = await queueWith(0);
    const executor = new StandardExecutor({});
    registerSubmitTasks(executor, queuePort(q), logger);
    const tasks = Array.from({ length: 100 }, (_, i) => taskBody('p', i, 5_000));
    const ctx = { agentId: 'c', identity: Identity.generate(), capabilities: [], leases: new Map(), signal: new AbortController().signal };
    const [ok] = await executor.execute([{ type: 'SubmitTasks', tasks: tasks as never }], ctx as never);
    expect(ok!.ok).toBe(true);
    expect((await q.list({ poolId: 'p', limit: 1_000 })).tasks).toHaveLength(100);
    const bad = [taskBody('p', 100, 5_000), { id: 'no-pool', objective: 'x' }];
    const [failed] = await executor.execute([{ type: 'SubmitTasks', tasks: bad as never }], ctx as never);
    expect(failed!.ok).toBe(false);
    expect((await q.get('p:task:100')).state).toBe('pending');
    await q.stop();
  });
});

describe('the queue of each --store', () => {
  it('is the portable StoreTaskQueue for memory and file stores', async () => {
    const opened = await openTaskQueue('memory', 'ns', new MemoryStore(), 5_000);
    expect(opened.native).toBe(false);
    expect(opened.queue).toBeInstanceOf(StoreTaskQueue);
    await opened.close();
  });

  it("is the engine's own queue for redis:// (a real server)", async () => {
    const opened = await openTaskQueue(process.env.CONVERGE_REDIS_URL ?? 'redis://127.0.0.1:6379', `tqr_${Date.now().toString(36)}`, new MemoryStore(), 5_000);
    try {
      expect(opened.native).toBe(true);
      expect(opened.label).toMatch(/^redis-queue:converge:tqr_\w+:tq:$/);
      expect(opened.queue.constructor.name).toBe('RedisTaskQueue');
    } finally {
      await (opened.queue as unknown as { drop(): Promise<void> }).drop();
      await opened.close();
    }
  });

  it("is the JetStream queue for nats:// with the library's lease-derived ack wait, updating a pool consumer made with 120 s", async () => {
    const servers = process.env.CONVERGE_NATS_URL ?? 'nats://127.0.0.1:4222';
    const name = `tqn_${Date.now().toString(36)}`;
    const { JetStreamTaskQueue } = await import('@converge/transport-nats/task-queue');
    const old = new JetStreamTaskQueue({ servers, name, ackWaitMs: 120_000 });
    await old.start();
    try {
      expect(await old.claim({ agentId: 'o', poolId: 'p' })).toEqual([]); // the pool consumer, made with 120 s
      const opened = await openTaskQueue(servers, name, new MemoryStore(), 3_000);
      try {
        expect(opened.label).toBe(`jetstream-queue:${name}`);
        expect(await opened.queue.claim({ agentId: 'w', poolId: 'p' })).toEqual([]);
      } finally {
        await opened.close();
      }
      // The consumer no longer has 120 s: a client that insists on it is refused.
      const strict = new JetStreamTaskQueue({ servers, name, ackWaitMs: 120_000 });
      await strict.start();
      try {
        await expect(strict.claim({ agentId: 's', poolId: 'p' })).rejects.toThrow(/ack_wait 6000 ms \(this client: 120000 ms\)/);
      } finally {
        await strict.stop();
      }
    } finally {
      await old.drop();
      await old.stop();
    }
  });

  it('--store nats:// needs --discovery-store and a split role', async () => {
    await expect(resolveConfig(['--store', 'nats://127.0.0.1:4222', '--role', 'worker', '--transport', 'nats://127.0.0.1:4222'], {})).rejects.toThrow(
      /--discovery-store/,
    );
    await expect(resolveConfig(['--store', 'nats://127.0.0.1:4222', '--discovery-store', 'redis://127.0.0.1:6379'], {})).rejects.toThrow(
      /--role coordinator\|worker/,
    );
    const ok = await resolveConfig(
      ['--store', 'nats://127.0.0.1:4222', '--discovery-store', 'redis://127.0.0.1:6379', '--role', 'worker', '--transport', 'nats://127.0.0.1:4222'],
      {},
    );
    expect(ok.config.store).toBe('nats://127.0.0.1:4222');
  });
});
