// Scale-out: one `converge run --role coordinator` process and three `--role worker` processes
// (four agents each) share one workload through a real store (PostgreSQL, then Redis) and real
// NATS. The roles use the store's own task queue (PostgresTaskQueue, RedisTaskQueue). One worker
// process is SIGKILLed midway; its claims expire and are swept back, and every task still
// completes exactly once with the right result — checked from the summaries and by reading
// every task record back from the queue.
import { connect as netConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresTaskQueue } from '@converge/store-postgres/task-queue';
import { RedisTaskQueue } from '@converge/store-redis/task-queue';
import { JetStreamTaskQueue } from '@converge/transport-nats/task-queue';
import type { QueuedTask, TaskQueue } from '@converge/core';
import { dropNamespace } from '../src/distributed/drop-namespace.js';
import { runCli, type CliResult } from './run-cli.js';

const PG_URL = process.env.CONVERGE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CONVERGE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.CONVERGE_NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * 5,000 tasks on PostgreSQL and Redis, 2,000 on JetStream (about 30 s on PostgreSQL, 15 s on Redis on the 2-core CI
 * machine). The PostgreSQL session sets `synchronous_commit=off` (a per-connection setting: no
 * effect on correctness or on the exactly-once checks, only on the durability of the last
 * commits if the server itself crashes); with the default, every NOTIFYing commit waits for its
 * own WAL flush (see the store-postgres README), which roughly halves the rate here.
 */
const ENGINES: readonly { name: string; tasks: number; store: string; discoveryStore?: string }[] = [
  { name: 'postgres', tasks: 5_000, store: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=-c%20synchronous_commit%3Doff` },
  { name: 'redis', tasks: 5_000, store: REDIS_URL },
  // The tasks in a JetStream queue; pools, discovery and the done record in Redis.
  { name: 'nats', tasks: 2_000, store: NATS_URL, discoveryStore: REDIS_URL },
];

function reachable(url: string, fallbackPort: number): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: u.hostname, port: Number(u.port || fallbackPort) });
    s.setTimeout(2_000);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    const fail = (err?: Error) => {
      s.destroy();
      reject(new Error(`${url} is not reachable (${err?.message ?? 'timeout'}): the scale-out tests need PostgreSQL, Redis and NATS running`));
    };
    s.once('error', fail);
    s.once('timeout', () => fail());
  });
}

beforeAll(async () => {
  await Promise.all([reachable(PG_URL, 5432), reachable(REDIS_URL, 6379), reachable(NATS_URL, 4222)]);
});

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
});

function jsonOf(r: CliResult) {
  const line = r.stdout.trim().split('\n').pop();
  if (!line) throw new Error(`no summary on stdout; stderr:\n${r.stderr.slice(-3000)}`);
  return JSON.parse(line);
}

/** The workload's numbers for task `i`, recomputed here independently of the CLI. */
function expectedSumOf(i: number): number {
  let s = 0;
  for (let k = 0; k < 8; k++) s += ((i * 7919 + k * 104729) % 1000) - 500;
  return s;
}

/** The queue the CLI uses for `namespace` (see `queueNames` in the CLI), opened to read records back. */
async function openReader(engine: string, namespace: string): Promise<TaskQueue> {
  const queue =
    engine === 'postgres'
      ? new PostgresTaskQueue({ connectionString: PG_URL, table: `cq_${namespace.toLowerCase()}`, listen: false })
      : engine === 'nats'
        ? new JetStreamTaskQueue({ servers: NATS_URL, name: namespace.slice(0, 32) })
        : new RedisTaskQueue({ url: REDIS_URL, prefix: `converge:${namespace}:tq:`, listen: false });
  await queue.start();
  return queue;
}

describe.each(ENGINES)('converge run across processes on NATS and $name', (engine) => {
  const { name, tasks, store } = engine;
  const discovery = engine.discoveryStore ? ['--discovery-store', engine.discoveryStore] : [];
  it(`one coordinator and three worker processes complete ${tasks} tasks exactly once, one worker SIGKILLed midway`, async () => {
    const namespace = `so_${name}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const poolId = `scale-${namespace}`;
    cleanups.push(async () => {
      await dropNamespace(store, namespace);
      if (engine.discoveryStore) await dropNamespace(engine.discoveryStore, namespace);
    });
    const common = [
      '--store',
      store,
      ...discovery,
      '--store-namespace',
      namespace,
      '--pool-id',
      poolId,
      '--transport',
      NATS_URL,
      '--claim-ttl-ms',
      '1500',
      '--json',
      '--log-level',
      'error',
      '--timeout-ms',
      '150000',
    ];
    const t0 = Date.now();

    const workers: Promise<CliResult>[] = [];
    let killedAt = -1;
    let victim: { kill(sig: NodeJS.Signals): boolean } | undefined;
    const victimStarted = new Promise<void>((resolve) => {
      workers.push(
        runCli(['run', '--role', 'worker', '--agents', '4', ...common], {
          timeoutMs: 170_000,
          onStderr: (_text, child) => {
            victim = child;
            resolve();
          },
        }),
      );
    });
    for (let i = 0; i < 2; i++) workers.push(runCli(['run', '--role', 'worker', '--agents', '4', ...common], { timeoutMs: 170_000 }));
    await victimStarted;

    const coordinator = await runCli(['run', '--role', 'coordinator', '--tasks', String(tasks), '--min-workers', '12', ...common], {
      timeoutMs: 170_000,
      onStderr: (text) => {
        if (killedAt >= 0) return;
        const m = [...text.matchAll(/progress: (\d+)\//g)].pop();
        // The first progress line with work done (they come once a second): a run that is
        // fast enough finishes 30 % of the tasks before the second line, so no share is waited for.
        if (m && Number(m[1]) > 0 && Number(m[1]) < tasks) {
          killedAt = Number(m[1]);
          victim!.kill('SIGKILL'); // a crash: claims stay held until their leases expire
        }
      },
    });
    const [killed, ...survivors] = await Promise.all(workers);
    const seconds = (Date.now() - t0) / 1000;

    expect(killedAt, 'the worker was killed midway').toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(tasks);
    expect(killed!.signal).toBe('SIGKILL');
    expect(coordinator.code, coordinator.stderr.slice(-3000)).toBe(0);
    const summary = jsonOf(coordinator);
    expect(summary).toMatchObject({
      role: 'coordinator',
      tasks,
      completed: tasks,
      failed: 0,
      lost: 0,
      wrong_results: 0,
      rejected_messages: 0,
      transport: 'nats',
    });
    expect(summary.agents).toBeGreaterThanOrEqual(8);
    expect(summary.auctioned).toBe(tasks / 10);
    const survivorSummaries = survivors.map((r) => {
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const s = jsonOf(r);
      expect(s).toMatchObject({ role: 'worker', agents: 4, stopped_by: 'coordinator', coordinator: expect.any(String), rejected_messages: 0 });
      return s as { agent_ids: string[]; completed: number };
    });

    // Read every record back: completed once, with the right result; the completions each
    // surviving process reported are exactly the records its agents hold.
    const reader = await openReader(name, namespace);
    const byAgent = new Map<string, number>();
    let retried = 0;
    try {
      for (let i = 0; i < tasks; i += 100) {
        const ids = Array.from({ length: Math.min(100, tasks - i) }, (_, k) => `${poolId}:task:${i + k}`);
        const recs: (QueuedTask | undefined)[] = await Promise.all(ids.map((id) => reader.get(id)));
        recs.forEach((t, k) => {
          expect(t, ids[k]).toBeDefined();
          expect(t!.state, t!.id).toBe('completed');
          expect(t!.result, t!.id).toBe(expectedSumOf(i + k));
          expect(t!.attempts).toBeGreaterThanOrEqual(1);
          if (t!.attempts > 1) retried++;
          byAgent.set(t!.assignedTo!, (byAgent.get(t!.assignedTo!) ?? 0) + 1);
        });
      }
      expect((await reader.list({ poolId, state: 'pending' })).tasks).toEqual([]);
      expect((await reader.list({ poolId, state: 'assigned' })).tasks).toEqual([]);
    } finally {
      await reader.stop();
    }
    let bySurvivors = 0;
    for (const s of survivorSummaries) {
      const held = s.agent_ids.reduce((n, id) => n + (byAgent.get(id) ?? 0), 0);
      expect(held, 'a worker process reported exactly the completions the store holds for its agents').toBe(s.completed);
      bySurvivors += held;
    }
    // The rest was completed by the killed process's agents before it died.
    const byVictim = tasks - bySurvivors;
    expect(byVictim).toBeGreaterThanOrEqual(0);
    console.log(
      `[scale-out ${name}] ${tasks} tasks in ${summary.duration_ms} ms: ${summary.tasks_per_s} tasks/s (coordinator), ` +
        `wall ${seconds.toFixed(1)} s; killed at ${killedAt}; completed by survivors ${survivorSummaries.map((s) => s.completed).join('+')}, ` +
        `by the killed worker ${byVictim}; re-attempted ${retried}`,
    );
  }, 180_000);
});
