import type { Store, WireRecord } from '@converge/core';
import { DiscoveryService, type AgentDescriptor } from '@converge/network';
import { PoolManager } from '@converge/coordination';
import type { Logger, MetricsCollector } from '@converge/observability';
import { openTelemetry, type RunTelemetry } from '../telemetry/telemetry.js';
import type { RunConfig } from '../config.js';
import { openStore, storeNamespace, transportFactory, type OpenedStore, type TransportFactory } from '../stack.js';
import { openTaskQueue, type OpenedQueue } from './queue.js';

/**
 * How long a discovery registration lives without a refresh in the split roles (15 s; each
 * runtime refreshes every {@link DISCOVERY_REFRESH_MS}). Shorter than the library default so
 * that a dead worker process stops being called for bids soon.
 */
export const DISCOVERY_TTL_MS = 15_000;
/** How often each runtime refreshes its discovery registration in the split roles (5 s). */
export const DISCOVERY_REFRESH_MS = 5_000;
/** How often a split-role process re-reads discovery from the shared store while it waits for its peers (500 ms). */
export const DISCOVERY_POLL_MS = 500;
/**
 * How often it re-reads discovery once the work runs (2,500 ms). Each re-read lists the
 * discovery records and reads two keys per agent; a dead worker is noticed at its
 * registration's {@link DISCOVERY_TTL_MS} anyway. (A Redis listing reads the store's key index,
 * so its cost follows the store's keys, not the database's; see `RedisStore.list`.)
 */
export const DISCOVERY_RUNNING_POLL_MS = 2_500;

/** Store key the coordinator writes when every task of the pool is terminal. */
export function doneKey(poolId: string): string {
  return `workload:${poolId}:done`;
}

/** The value under {@link doneKey}. */
export interface DoneRecord {
  /** Fingerprint of the coordinator that finished. */
  coordinatorId: string;
  completed: number;
  tasks: number;
  /** Unix ms. */
  at: number;
}

/** Discovery metadata of the workload's agents in the split roles. */
export function roleMetadata(role: 'coordinator' | 'worker', poolId: string): WireRecord {
  return { role, poolId };
}

/** What a split-role process opens: stores, coordination services, transports, telemetry. */
export interface SharedStack {
  logger: Logger;
  metrics: MetricsCollector;
  /** Metrics, logger and span export (`--otlp`) of this process. */
  telemetry: RunTelemetry;
  store: Store;
  storeLabel: string;
  discoveryStore: Store;
  /** The task queue: the store's engine's own, or the portable one (see `openTaskQueue`). */
  queue: OpenedQueue;
  poolManager: PoolManager;
  transports: TransportFactory;
  close(): Promise<void>;
}

/** Opens the shared store(s), the task queue, the pool manager and the transport factory. */
export async function openSharedStack(config: RunConfig): Promise<SharedStack> {
  const telemetry = openTelemetry(config, `converge-${config.role}`, process.stderr.isTTY === true);
  const { logger, metrics } = telemetry;
  const opened: OpenedStore[] = [];
  const closeAll = async () => {
    for (const s of opened.reverse()) await s.close().catch(() => {});
    await telemetry.close();
  };
  try {
    const namespace = storeNamespace(config);
    // `--store nats://` holds the tasks only (a JetStream queue): the rest lives in --discovery-store.
    const natsTasks = /^nats:\/\//.test(config.store);
    const main = await openStore(natsTasks ? config.discoveryStore! : config.store, natsTasks ? 'discoveryStore' : 'store', namespace);
    opened.push(main);
    const disc = config.discoveryStore && !natsTasks ? await openStore(config.discoveryStore, 'discoveryStore', namespace) : main;
    if (disc !== main) opened.push(disc);
    const transports = await transportFactory(config, { metrics });
    const queue = await openTaskQueue(config.store, namespace, main.store, config.claimTtlMs);
    opened.push({ store: main.store, label: queue.label, close: () => queue.close() });
    return {
      logger,
      metrics,
      telemetry,
      store: main.store,
      storeLabel: natsTasks ? queue.label : main.label,
      discoveryStore: disc.store,
      queue,
      poolManager: new PoolManager({ store: main.store }),
      transports,
      close: async () => {
        await transports.close();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * The live agents of `poolId` with `role` in the shared discovery store. Reads the store afresh
 * (a `DiscoveryService` holds what it loaded at start), so agents of other processes appear.
 */
export async function discoverRole(store: Store, poolId: string, role: 'coordinator' | 'worker'): Promise<AgentDescriptor[]> {
  const discovery = new DiscoveryService({ store, ttlMs: DISCOVERY_TTL_MS });
  await discovery.start();
  const all = await discovery.query({});
  return all.filter((d) => d.metadata?.role === role && d.metadata?.poolId === poolId);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
