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
export function taskBody(poolId: string, i: number, claimTtlMs: number): TaskInit & { id: string } {
  const numbers = Array.from({ length: NUMBERS_PER_TASK }, (_, k) => ((i * 7919 + k * 104729) % 1000) - 500);
  return {
    id: taskId(poolId, i),
    objective: 'sum',
    inputs: { numbers, submittedAt: Date.now() },
    poolId,
    requiredCapabilities: ['sum'],
    constraints: { claimTtlMs },
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

