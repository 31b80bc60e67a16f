import type { TaskLease } from '@converge/core';
import type { TaskManagerPort } from './ports.js';

/** Options of `LeaseKeeper`. */
export interface LeaseKeeperOptions {
  taskManager: TaskManagerPort;
  /** The leases to keep alive (shared with the executor's context). */
  leases: Map<string, TaskLease>;
  /** Renew when this fraction of a lease's lifetime is left (default 1/3). */
  renewAtFraction?: number;
  clock?: () => number;
  /** Called when a lease is about to expire (the runtime wakes its loop) or was lost. */
  onEvent?: (event: 'renewed' | 'lost', lease: TaskLease, error?: unknown) => void;
}

/**
 * Keeps an agent's task leases alive with heartbeats (`extendClaim`), on a timer set for the
 * next lease due for renewal — independent of the agent loop, so a long `decide` does not
 * lose the agent its claims. A lease that cannot be renewed (expired and re-claimed by
 * someone else) is dropped and reported as lost.
 */
export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  readonly #lifetimes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #renewing = false;

  constructor(options: LeaseKeeperOptions) {
    this.#o = options;
  }

  /** Starts scheduling renewals. */
  start(): void {
    this.#running = true;
    this.reschedule();
  }

  /** Stops every timer. */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Re-plans the next renewal; call after leases were added or removed. */
  reschedule(): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#now();
    let next = Number.POSITIVE_INFINITY;
    for (const lease of this.#o.leases.values()) next = Math.min(next, this.#dueAt(lease, now));
    for (const id of this.#lifetimes.keys()) if (!this.#o.leases.has(id)) this.#lifetimes.delete(id);
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timer = setTimeout(() => void this.#renewDue(), Math.max(0, next - now));
    this.#timer.unref?.();
  }

  #now(): number {
    return (this.#o.clock ?? Date.now)();
  }

  #dueAt(lease: TaskLease, now: number): number {
    let lifetime = this.#lifetimes.get(lease.taskId);
    if (lifetime === undefined) {
      lifetime = Math.max(1, lease.expiresAt - now);
      this.#lifetimes.set(lease.taskId, lifetime);
    }
    return lease.expiresAt - lifetime * (this.#o.renewAtFraction ?? 1 / 3);
  }

  async #renewDue(): Promise<void> {
    if (this.#renewing || !this.#running) return;
    this.#renewing = true;
    try {
      const now = this.#now();
      for (const lease of [...this.#o.leases.values()]) {
        if (this.#dueAt(lease, now) > now) continue;
        try {
          const renewed = await this.#o.taskManager.extendClaim(lease);
          // The lease may have been reported meanwhile; only keep renewing what is still held.
          if (this.#o.leases.get(lease.taskId) === lease) this.#o.leases.set(lease.taskId, renewed);
          this.#o.onEvent?.('renewed', renewed);
        } catch (err) {
          if (this.#o.leases.get(lease.taskId) === lease) this.#o.leases.delete(lease.taskId);
          this.#o.onEvent?.('lost', lease, err);
        }
      }
    } finally {
      this.#renewing = false;
      this.reschedule();
    }
  }
}
