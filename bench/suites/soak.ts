// soak: 16 agents in AgentRuntimes on a LocalHub (one submitter, fifteen workers) under steady
// mixed traffic — tasks submitted, claimed and reported through a TaskManager on a MemoryStore,
// and a message from every worker to another worker per task — sampling RSS and heapUsed every
// second. After the warm-up (first 30% of the run), growth must stay under 10%.
// Duration: SOAK_SECONDS (default 60). Figures: soak.rss_growth_pct, soak.heap_growth_pct,
// soak.tasks_per_s, soak.msgs_per_s. Heap samples follow a full GC (global.gc with
// --expose-gc, else one exposed through V8 flags), so they measure what is retained.
// Completed task records are removed once a second with `TaskManager.purge` (a retention
// policy, as an operator would run it): TaskManager keeps them forever otherwise, which is
// retention, not a leak. The purge runs before each sample, so samples see the store trimmed.
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, Decisions, Identity, type Decision, type Message, type Task } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime } from '@converge/runtime';
import type { BenchContext } from '../harness.js';
import { fullGc } from '../../test/support/gc.js';

/** Options of `runSoak`. */
export interface SoakOptions {
  seconds: number;
  /** Agents in all (one submitter, the rest workers); default 16. */
  agents?: number;
  /** Most tasks outstanding at once (default 256). */
  inFlight?: number;
  log?: (m: string) => void;
}

/** What a soak run measured. */
export interface SoakResult {
  rssGrowthPct: number;
  heapGrowthPct: number;
  tasksPerS: number;
  msgsPerS: number;
  tasks: number;
  messages: number;
  samples: { t: number; rss: number; heap: number }[];
}

class Submitter extends Agent {
  submitted = 0;
  completed = 0;
  stopped = false;
  constructor(
    readonly poolId: string,
    readonly inFlight: number,
  ) {
    super({ identity: Identity.generate() });
  }
  decide(messages: readonly Message[]): Decision[] {
    this.completed += messages.length;
    const out: Decision[] = [];
    if (this.submitted === 0) out.push(Decisions.joinPool(this.poolId));
    while (!this.stopped && this.submitted - this.completed < this.inFlight && out.length < 64) {
      const i = this.submitted++;
      out.push(Decisions.submitTask({ id: `soak-${i}`, objective: 'square', inputs: { n: i }, poolId: this.poolId, constraints: { claimTtlMs: 5_000 } }));
    }
    return out;
  }
}

class Worker extends Agent {
  peers: string[] = [];
  calls = 0;
  received = 0;
  constructor(
    readonly poolId: string,
    readonly submitter: string,
  ) {
    super({ identity: Identity.generate(), capabilities: ['square'] });
  }
  decide(messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    this.received += messages.length;
    const out: Decision[] = [];
    if (this.calls++ === 0) out.push(Decisions.joinPool(this.poolId));
    for (const t of tasks.slice(0, 8)) {
      const n = (t.inputs as { n: number }).n;
      out.push(Decisions.claimTask(t.id), Decisions.reportTask(t.id, n * n));
      out.push(Decisions.sendMessage(this.submitter, { done: t.id }, { taskId: t.id }));
      const peer = this.peers[n % this.peers.length];
      if (peer) out.push(Decisions.sendMessage(peer, { hello: n, note: 'soak traffic between workers' }));
    }
    return out;
  }
}

/** The running scenario: the shared task manager, the agents in their runtimes, and the counts so far. */
interface SoakWorld {
  taskManager: TaskManager;
  submitter: Submitter;
  runtimes: AgentRuntime[];
  /** Tasks completed so far. */
  tasks(): number;
  /** Messages received so far, by every agent. */
  messages(): number;
}

/** One store, one pool, the submitter and the workers, each in a started runtime on one hub. */
async function startSoak(o: SoakOptions): Promise<SoakWorld> {
  const store = new MemoryStore();
  const taskManager = new TaskManager({ store });
  const poolManager = new PoolManager({ store });
  await poolManager.createPool({ id: 'soak' });
  let tasks = 0;
  taskManager.on('completed', () => {
    tasks++;
  });
  const hub = new LocalHub();
  const submitter = new Submitter('soak', o.inFlight ?? 256);
  const workers = Array.from({ length: (o.agents ?? 16) - 1 }, () => new Worker('soak', submitter.id));
  for (const w of workers) w.peers = workers.filter((x) => x !== w).map((x) => x.id);
  const runtimes = [submitter, ...workers].map(
    (agent) =>
      new AgentRuntime({
        agent,
        transport: new LocalTransport(agent.id, { hub }),
        taskManager,
        poolManager,
        sweepIntervalMs: 200,
        tickIntervalMs: 100,
      }),
  );
  for (const r of runtimes) await r.start();
  const messages = (): number => submitter.completed + workers.reduce((s, w) => s + w.received, 0);
  return { taskManager, submitter, runtimes, tasks: () => tasks, messages };
}

/** The counts when the warm-up ended, and when. */
interface Warm {
  at: number;
  tasks: number;
  messages: number;
}

/** Samples memory once a second (after the purge and a full GC) until `seconds` have passed; returns the samples and the warm mark. */
async function sample(world: SoakWorld, o: SoakOptions, warmupMs: number): Promise<{ samples: SoakResult['samples']; warm: Warm }> {
  const log = o.log ?? (() => undefined);
  const samples: SoakResult['samples'] = [];
  const t0 = Date.now();
  const end = t0 + o.seconds * 1000;
  const warm: Warm = { at: 0, tasks: 0, messages: 0 };
  while (Date.now() < end) {
    await delay(1000);
    await world.taskManager.purge({ olderThan: Date.now() + 1, states: ['completed'], limit: 1_000_000 });
    fullGc();
    const m = process.memoryUsage();
    const t = Date.now() - t0;
    samples.push({ t, rss: m.rss, heap: m.heapUsed });
    if (warm.at === 0 && t >= warmupMs) Object.assign(warm, { at: Date.now(), tasks: world.tasks(), messages: world.messages() });
    log(
      `t=${(t / 1000).toFixed(0)}s tasks=${world.tasks()} msgs=${world.messages()} rss=${(m.rss / 2 ** 20).toFixed(1)}MiB heap=${(m.heapUsed / 2 ** 20).toFixed(1)}MiB`,
    );
  }
  return { samples, warm };
}

/**
 * Growth in %: the median of the last third of the samples after the warm-up against the median
 * of the first third. A leak shows as a trend between the two; one GC or allocator spike on a
 * busy machine moves neither median (a max-against-start measure failed on such spikes).
 */
function growthPct(samples: SoakResult['samples'], warmupMs: number, k: 'rss' | 'heap'): number {
  const after = samples.filter((s) => s.t >= warmupMs);
  if (after.length < 2) return 0;
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const third = Math.max(1, Math.floor(after.length / 3));
  const first = median(after.slice(0, third).map((s) => s[k]));
  const last = median(after.slice(-third).map((s) => s[k]));
  return (100 * (last - first)) / first;
}

/** Runs the soak scenario for `seconds` and returns its figures (growth measured after the warm-up). */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const world = await startSoak(o);
  const warmupMs = o.seconds * 300;
  const { samples, warm } = await sample(world, o, warmupMs);
  const measured = (Date.now() - warm.at) / 1000;
  const tasksDone = world.tasks() - warm.tasks;
  const msgsDone = world.messages() - warm.messages;
  world.submitter.stopped = true;
  for (const r of world.runtimes) await r.stop();
  world.taskManager.stop?.();
  o.log?.(`purged ${world.taskManager.stats().purged} completed task records`);
  return {
    rssGrowthPct: growthPct(samples, warmupMs, 'rss'),
    heapGrowthPct: growthPct(samples, warmupMs, 'heap'),
    tasksPerS: tasksDone / measured,
    msgsPerS: msgsDone / measured,
    tasks: world.tasks(),
    messages: world.messages(),
    samples,
  };
}

export default async function soakBench(ctx: BenchContext): Promise<void> {
  const seconds = Number(process.env.SOAK_SECONDS ?? 60);
  const r = await runSoak({ seconds, log: (m) => ctx.log(m) });
  ctx.report({ name: 'soak.rss_growth_pct', value: r.rssGrowthPct, unit: '%' });
  ctx.report({ name: 'soak.heap_growth_pct', value: r.heapGrowthPct, unit: '%' });
  ctx.report({ name: 'soak.tasks_per_s', value: r.tasksPerS, unit: 'tasks/s' });
  ctx.report({ name: 'soak.msgs_per_s', value: r.msgsPerS, unit: 'msgs/s' });
  if (r.rssGrowthPct >= 10 || r.heapGrowthPct >= 10)
    throw new Error(`soak: growth after warm-up over 10% (rss ${r.rssGrowthPct.toFixed(1)}%, heap ${r.heapGrowthPct.toFixed(1)}%)`);
}
