import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { ConfigError, type Agent, type TaskInit } from '@converge/core';

/** Numbers summed by each workload task. */
const NUMBERS_PER_TASK = 8;

/** Id of workload task `i` of a pool. */
export function taskId(poolId: string, i: number): string {
  return `${poolId}:task:${i}`;
}

/** The deterministic body of workload task `i` (so a restart resubmits exactly what is missing). */
export function taskBody(poolId: string, i: number, claimTtlMs: number, now: number = Date.now()): TaskInit & { id: string } {
  // A plain loop: Array.from with a map function costs more than the rest of the body (profiled).
  const numbers: number[] = [];
  for (let k = 0; k < NUMBERS_PER_TASK; k++) numbers.push(((i * 7919 + k * 104729) % 1000) - 500);
  return {
    id: taskId(poolId, i),
    objective: 'sum',
    inputs: { numbers, submittedAt: now },
    poolId,
    requiredCapabilities: ['sum'],
    constraints: { claimTtlMs },
  };
}

/**
 * The coordinator's plan: workload tasks 0, 1, 2, … up to `total` (unbounded without), skipping
 * the ids in `existing`, until `stopped()`; each body stamped with `now()` as its submit time.
 * A function, as `CoordinatorOptions.plan` wants (called once, then iterated across turns).
 */
export function planTasks(o: {
  poolId: string;
  claimTtlMs: number;
  total: number | undefined;
  existing: ReadonlySet<string>;
  now: () => number;
  stopped: () => boolean;
}): () => Iterable<TaskInit & { id: string }> {
  let index = 0;
  return function* () {
    for (;;) {
      if (o.stopped() || (o.total !== undefined && index >= o.total)) return;
      const body = taskBody(o.poolId, index++, o.claimTtlMs, o.now());
      if (!o.existing.has(body.id)) yield body;
    }
  };
}

/** Loads the worker class of `--agent MODULE` (default export or export `Agent`); `ConfigError` otherwise. */
export async function loadWorkerClass(module: string): Promise<new (options: Record<string, unknown>) => Agent> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(module)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot load agent module ${module}: ${(err as Error).message}`, { key: 'agent', cause: err });
  }
  const cls = (mod.default ?? mod.Agent) as unknown;
  if (typeof cls !== 'function' || typeof (cls as { prototype?: { decide?: unknown } }).prototype?.decide !== 'function') {
    throw new ConfigError(`agent module ${module} must export (default or as 'Agent') an Agent subclass with a decide() method`, { key: 'agent' });
  }
  return cls as new (options: Record<string, unknown>) => Agent;
}
