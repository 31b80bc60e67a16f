import type { Store } from '@converge/core';
import { positiveInt, type CallOptions } from './common.js';
import { TASK_KEYS, deepFreeze, isTerminal, parseIdKey, parsePendingKey, recordKey, type TaskRecord } from './task-record.js';

/** Default number of task records the listing cache holds: 10,000. */
export const DEFAULT_CACHE_SIZE = 10_000;
/** Number of index prefixes (pools) whose key lists the cache holds: 1,000. */
export const DEFAULT_CACHED_PREFIXES = 1_000;

/**
 * Reads the pending index (`task-pending:<pool>:<task>`) and the records it points at.
 *
 * The task record is the source of truth: a listed task whose record is no longer pending is
 * skipped, and its index entry removed when the record is gone or terminal (a claimed record
 * may come back to pending, so its entry is left for the transition that owns it).
 *
 * When the store has `watch`, key lists and records are cached and a store change drops the
 * affected cache entries, so repeated listings cost no store reads. A generation counter
 * keeps a read that raced with a change from being cached.
 */
export class PendingIndex {
  readonly #store: Store;
  readonly #cacheSize: number;
  readonly #onRepair: () => void;
  readonly #lists = new Map<string, string[]>();
  readonly #records = new Map<string, TaskRecord>();
  #unsubscribe: (() => void)[] | null = null;
  #stopped = false;
  #listGen = 0;
  #recordGen = 0;

  constructor(store: Store, cacheSize: number | undefined, onRepair: () => void) {
    this.#store = store;
    this.#cacheSize = positiveInt(cacheSize, DEFAULT_CACHE_SIZE, 'defaults.cacheSize');
    this.#onRepair = onRepair;
  }

  /** Stops watching the store and drops the cache. */
  stop(): void {
    this.#stopped = true;
    for (const u of this.#unsubscribe ?? []) u();
    this.#unsubscribe = null;
    this.#lists.clear();
    this.#records.clear();
  }

  /** Pending records under `prefixes` that pass `filter`, at most `limit`, frozen. */
  async list(prefixes: readonly string[], limit: number, options: CallOptions, filter: (r: TaskRecord) => boolean): Promise<TaskRecord[]> {
    const caching = this.#watch();
    const out: TaskRecord[] = [];
    for (const prefix of new Set(prefixes)) {
      const keys = await this.#keys(prefix, caching, options);
      for (const ik of keys) {
        if (out.length >= limit) return out;
        const parsed = parsePendingKey(ik);
        if (!parsed) continue;
        const rec = await this.#record(parsed.taskId, caching, options);
        if (rec === undefined || isTerminal(rec)) {
          if (await this.#store.delete(ik, { signal: options.signal })) this.#onRepair();
          continue;
        }
        if (rec.state === 'pending' && filter(rec)) out.push(rec);
      }
    }
    return out;
  }

  /** Starts watching on first use when the store can; returns whether caching is on. */
  #watch(): boolean {
    if (this.#unsubscribe) return true;
    if (this.#stopped || typeof this.#store.watch !== 'function') return false;
    this.#unsubscribe = [
      this.#store.watch(TASK_KEYS.pending, (key) => {
        this.#listGen++;
        for (const p of this.#lists.keys()) if (key.startsWith(p)) this.#lists.delete(p);
      }),
      this.#store.watch(TASK_KEYS.record, (key) => {
        this.#recordGen++;
        const id = parseIdKey(TASK_KEYS.record, key);
        if (id !== null) this.#records.delete(id);
      }),
    ];
    return true;
  }

  async #keys(prefix: string, caching: boolean, options: CallOptions): Promise<string[]> {
    if (caching) {
      const hit = this.#lists.get(prefix);
      if (hit) return hit;
    }
    const gen = this.#listGen;
    const keys = await this.#store.list(prefix, { signal: options.signal });
    if (caching && gen === this.#listGen) {
      if (this.#lists.size >= DEFAULT_CACHED_PREFIXES) this.#lists.delete(this.#lists.keys().next().value!);
      this.#lists.set(prefix, keys);
    }
    return keys;
  }

  async #record(taskId: string, caching: boolean, options: CallOptions): Promise<TaskRecord | undefined> {
    if (caching) {
      const hit = this.#records.get(taskId);
      if (hit) return hit;
    }
    const gen = this.#recordGen;
    const rec = await this.#store.get<TaskRecord>(recordKey(taskId), { signal: options.signal });
    if (rec === undefined) return undefined;
    deepFreeze(rec);
    if (caching && gen === this.#recordGen) {
      if (this.#records.size >= this.#cacheSize) this.#records.delete(this.#records.keys().next().value!);
      this.#records.set(taskId, rec);
    }
    return rec;
  }
}
