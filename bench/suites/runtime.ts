// runtime.e2e_tasks: tasks/s from the first submit to the last report, with a submitting
//   coordinator AgentRuntime and 4 worker AgentRuntimes sharing one TaskManager on a
//   MemoryStore, over a LocalHub (10,000·scale tasks; the Python reference: 10.4k/s).
// runtime.submit_to_claim_p50_us / _p99_us: latency from `taskManager.submit` of one task,
//   with the 4 workers idle, to the moment a worker's claim succeeds (the TaskManager's
//   'claimed' event); 200 sequential single submissions, each completed before the next.
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, Decisions, Identity, type Decision, type Message, type Task, type TaskInit } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime } from '@converge/runtime';
import { percentile, type BenchContext } from '../harness.js';

const POOL = 'pool-1';

/** Submits `total` tasks, `batch` per turn (joins the pool first). */
class Submitter extends Agent {
  submitted = 0;
  constructor(
    readonly total: number,
    readonly batch: number,
  ) {
    super({ identity: Identity.generate() });
  }
  decide(): Decision[] {
    const out: Decision[] = [];
    if (this.submitted === 0) out.push(Decisions.joinPool(POOL));
    while (this.submitted < this.total && out.length < this.batch) {
      const i = this.submitted++;
      const task: TaskInit = { id: `t-${i}`, objective: 'square', inputs: { n: i }, poolId: POOL, requiredCapabilities: ['square'] };
      out.push(Decisions.submitTask(task));
    }
    return out;
  }
}

/** Claims every task on offer (up to `maxPerTurn`), computes n², reports. */
class Worker extends Agent {
  calls = 0;
  constructor(readonly maxPerTurn: number) {
    super({ identity: Identity.generate(), capabilities: ['square'] });
  }
  decide(_messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    const out: Decision[] = [];
    if (++this.calls === 1) out.push(Decisions.joinPool(POOL));
    const n = Math.min(tasks.length, this.maxPerTurn);
    for (let i = 0; i < n; i++) {
      const t = tasks[i]!;
      const x = (t.inputs as { n: number }).n;
      out.push(Decisions.claimTask(t.id), Decisions.reportTask(t.id, x * x));
    }
    return out;
  }
}

interface Stack {
  taskManager: TaskManager;
  poolManager: PoolManager;
  runtimes: AgentRuntime[];
  run(agent: Agent): AgentRuntime;
  stop(): Promise<void>;
}

async function stack(): Promise<Stack> {
  const store = new MemoryStore();
  const taskManager = new TaskManager({ store });
  const poolManager = new PoolManager({ store });
  await poolManager.createPool({ id: POOL });
  const hub = new LocalHub();
  const runtimes: AgentRuntime[] = [];
  return {
    taskManager,
    poolManager,
    runtimes,
    run(agent) {
      const rt = new AgentRuntime({ agent, transport: new LocalTransport(agent.id, { hub }), taskManager, poolManager });
      runtimes.push(rt);
      return rt;
    },
    async stop() {
      await Promise.all(runtimes.map((r) => r.stop()));
      taskManager.stop();
    },
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(1);
  }
}

/** Starts 4 workers and waits until each has joined the pool (so they are idle and listening). */
async function startWorkers(s: Stack): Promise<Worker[]> {
  const workers = Array.from({ length: 4 }, () => new Worker(64));
  const rts = workers.map((w) => s.run(w));
  await Promise.all(rts.map((r) => r.start()));
  await waitFor(async () => (await s.poolManager.getPool(POOL))!.agents.length >= 4, 10_000);
  // One more idle turn each, so every runtime has refreshed its pool list.
  await delay(20);
  return workers;
}

let lastRun = '';

async function e2e(n: number): Promise<number> {
  const s = await stack();
  try {
    await startWorkers(s);
    let done = 0;
    let finished!: () => void;
    const all = new Promise<void>((r) => (finished = r));
    let t0 = 0n;
    let t1 = 0n;
    s.taskManager.on('submitted', () => {
      if (t0 === 0n) t0 = process.hrtime.bigint();
    });
    s.taskManager.on('completed', () => {
      if (++done === n) {
        t1 = process.hrtime.bigint();
        finished();
      }
    });
    await s.run(new Submitter(n, 500)).start();
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${done}/${n} tasks completed in 120 s`)), 120_000).unref())]);
    const st = s.taskManager.stats();
    if (st.completed !== n || st.claims !== n) throw new Error('not every task was claimed and completed exactly once');
    const turns = s.runtimes.reduce((a, r) => a + r.turns, 0);
    lastRun = `${turns} turns, ${st.conflicts} lost claims, ${st.casRetries} CAS retries`;
    return n / (Number(t1 - t0) / 1e9);
  } finally {
    await s.stop();
  }
}

async function submitToClaim(samples: number): Promise<number[]> {
  const s = await stack();
  try {
    await startWorkers(s);
    const out: number[] = [];
    let claimedAt = 0n;
    let onClaim: (() => void) | undefined;
    let onDone: (() => void) | undefined;
    s.taskManager.on('claimed', () => {
      claimedAt = process.hrtime.bigint();
      onClaim?.();
    });
    s.taskManager.on('completed', () => onDone?.());
    for (let i = 0; i < samples; i++) {
      const claimed = new Promise<void>((r) => (onClaim = r));
      const completed = new Promise<void>((r) => (onDone = r));
      const t0 = process.hrtime.bigint();
      await s.taskManager.submit({ id: `l-${i}`, objective: 'square', inputs: { n: i }, poolId: POOL, requiredCapabilities: ['square'] });
      await claimed;
      out.push(Number(claimedAt - t0) / 1e3);
      await completed;
      // Let every runtime go back to sleep before the next submission.
      await delay(1);
    }
    return out.sort((a, b) => a - b);
  } finally {
    await s.stop();
  }
}

export default async function runtimeBench(ctx: BenchContext): Promise<void> {
  const n = Math.max(1_000, Math.round(10_000 * ctx.scale));
  await e2e(Math.min(n, 2_000)); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    runs.push(await e2e(n));
    ctx.log(`run ${r + 1}: ${Math.round(runs[r]!)} tasks/s (${lastRun})`);
  }
  ctx.log(`e2e, ${n} tasks, 4 workers, 3 runs: ${runs.map((x) => Math.round(x)).join(', ')} tasks/s`);
  ctx.report({ name: 'runtime.e2e_tasks', value: Math.max(...runs), unit: 'tasks/s' });

  const m = Math.max(50, Math.round(200 * ctx.scale));
  await submitToClaim(20); // warm-up
  const lat = await submitToClaim(m);
  ctx.log(`submit→claim, ${m} samples: min ${lat[0]!.toFixed(1)} us, max ${lat[lat.length - 1]!.toFixed(1)} us`);
  ctx.report({ name: 'runtime.submit_to_claim_p50_us', value: percentile(lat, 50), unit: 'us' });
  ctx.report({ name: 'runtime.submit_to_claim_p99_us', value: percentile(lat, 99), unit: 'us' });
}
