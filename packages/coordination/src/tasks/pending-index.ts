import { positiveIntOption } from '@converge/core';
import type { Store } from '@converge/core';
import type { CallOptions } from '../common.js';
import { TASK_KEYS, deepFreeze, isTerminal, parseIdKey, parsePendingKey, recordKey, type TaskRecord } from './records.js';

/** Default number of task records the listing cache holds: 10,000. */
export const DEFAULT_CACHE_SIZE = 10_000;
/** Number of index prefixes (pools) whose key lists the cache holds: 1,000. */
export const DEFAULT_CACHED_PREFIXES = 1_000;
/** Index keys changed since the last listing that are checked one by one: 10,000 (beyond, the pools are listed again). */
export const DEFAULT_MAX_DIRTY_KEYS = 10_000;
/**
 * Age after which a cached pool list is listed again from the store: 1 s. A store's `watch`
 * may not see other processes' writes (FileStore sees its own only); this bounds how long a
 * task submitted elsewhere can stay unseen.
 */
export const DEFAULT_RESYNC_MS = 1_000;

interface PoolList {
  /** Index key → task id, in the order this process learnt of them (oldest first). */
  keys: Map<string, string>;
  listedAt: number;
  /** Keys deleted from `keys` since it was built (see `#keys`). */
  removed: number;
}

/** Deletions after which a cached key list is rebuilt (see `#keys`). */
const COMPACT_AFTER = 1_024;

/** How long an index entry may wait for the record its submit writes next (ms). */
export const INDEX_GRACE_MS = 60_000;

/**
 * Reads the pending index (`task-pending:<pool>:<task>`) and the records it points at.
 *
 * The task record is the source of truth: a listed task whose record is no longer pending is
 * skipped, and its index entry removed when the record is gone or terminal (a claimed record
 * may come back to pending, so its entry is left for the transition that owns it).
 *
 * When the store has `watch`, each pool's key list is kept in memory and updated
 * incrementally: a changed index key is only marked, and the next listing checks that one key
 * (one store read) instead of listing the pool again. Records are cached too, and dropped when
 * the store reports a change. Lists older than `DEFAULT_RESYNC_MS` are listed afresh.
 */
export class PendingIndex {
  readonly #store: Store;
  readonly #clock: () => number;
  readonly #cacheSize: number;
  readonly #onRepair: () => void;
  readonly #lists = new Map<string, PoolList>();
  readonly #records = new Map<string, TaskRecord>();
  #dirty = new Set<string>();
  #unsubscribe: (() => void)[] | null = null;
  #stopped = false;
  #overflows = 0;
  #recordGen = 0;
  /** Records this manager is writing (see `arm`): task id → the record writes heard since. */
  readonly #priming = new Map<string, number>();

  constructor(store: Store, cacheSize: number | undefined, onRepair: () => void, clock: () => number = Date.now) {
    this.#clock = clock;
    this.#store = store;
    this.#cacheSize = positiveIntOption(cacheSize, DEFAULT_CACHE_SIZE, 'defaults.cacheSize', 'validation');
    this.#onRepair = onRepair;
  }

  /** Stops watching the store and drops the cache. */
  stop(): void {
    this.#stopped = true;
    for (const u of this.#unsubscribe ?? []) u();
    this.#unsubscribe = null;
    this.#lists.clear();
    this.#records.clear();
    this.#dirty.clear();
    this.#priming.clear();
  }

  /** Pending records under `prefixes` that pass `filter`, at most `limit`, frozen. */
  async list(prefixes: readonly string[], limit: number, options: CallOptions, filter: (r: TaskRecord) => boolean): Promise<TaskRecord[]> {
    const caching = this.#watch();
    if (caching && this.#dirty.size > 0) await this.#applyDirty(options);
    const out: TaskRecord[] = [];
    const seen = prefixes.length > 1 ? new Set<string>() : undefined;
    for (const prefix of prefixes) {
      if (seen) {
        if (seen.has(prefix)) continue;
        seen.add(prefix);
      }
      const keys = await this.#keys(prefix, caching, options);
      const records = this.#records;
      for (const [ik, taskId] of keys) {
        if (out.length >= limit) return out;
        // A cached record is taken synchronously: one await per listed key would cost a
        // microtask turn for every task a listing walks past.
        const rec = (caching ? records.get(taskId) : undefined) ?? (await this.#record(taskId, caching, options));
        if (rec === undefined && (await this.#inFlight(ik, options))) continue;
        if (rec === undefined || isTerminal(rec)) {
          if (caching) {
            const list = this.#lists.get(prefix);
            if (list?.keys.delete(ik)) list.removed++;
          }
          if (await this.#store.delete(ik, { signal: options.signal })) this.#onRepair();
          continue;
        }
        if (rec.state === 'pending' && filter(rec)) out.push(rec);
      }
    }
    return out;
  }

  /**
   * Before this manager writes a new record of `taskId`: counts the record writes the store's
   * watch reports from now on, so that `prime` can tell whether the write was the only one.
   */
  arm(taskId: string): void {
    if (this.#unsubscribe !== null) this.#priming.set(taskId, 0);
  }

  /**
   * After the write `arm` announced: caches `rec` (frozen, exactly as written) for the next
   * listings, instead of reading it back, if the watch reported that write and no other one
   * (with a watch that reports later, or another writer in between, the record is read as
   * before). `rec` = `undefined`: the write failed.
   */
  prime(taskId: string, rec: TaskRecord | undefined): void {
    const heard = this.#priming.get(taskId);
    if (heard === undefined) return;
    this.#priming.delete(taskId);
    if (rec === undefined || heard !== 1) return;
    if (this.#records.size >= this.#cacheSize) this.#records.delete(this.#records.keys().next().value!);
    this.#records.set(taskId, rec);
  }

  /**
   * Whether an index entry without a record may belong to a submit in flight: `submit` writes
   * the entry (holding its write time) just before the record, so only entries older than
   * `INDEX_GRACE_MS` are dangling and may be removed.
   */
  async #inFlight(ik: string, options: CallOptions): Promise<boolean> {
    const written = await this.#store.get<number>(ik, { signal: options.signal });
    return typeof written === 'number' && written > 1 && this.#clock() - written < INDEX_GRACE_MS;
  }

  /** Starts watching on first use when the store can; returns whether caching is on. */
  #watch(): boolean {
    if (this.#unsubscribe) return true;
    if (this.#stopped || typeof this.#store.watch !== 'function') return false;
    this.#unsubscribe = [
      this.#store.watch(TASK_KEYS.pending, (key) => {
        if (this.#dirty.size < DEFAULT_MAX_DIRTY_KEYS) this.#dirty.add(key);
        else {
          // Too many to check one by one: list every pool again.
          this.#overflows++;
          this.#lists.clear();
          this.#dirty.clear();
        }
      }),
      this.#store.watch(TASK_KEYS.record, (key) => {
        this.#recordGen++;
        const id = parseIdKey(TASK_KEYS.record, key);
        if (id === null) return;
        this.#records.delete(id);
        const heard = this.#priming.get(id);
        if (heard !== undefined) this.#priming.set(id, heard + 1);
      }),
    ];
    return true;
  }

  /** Checks each index key changed since the last listing, and updates the cached pool lists. */
  async #applyDirty(options: CallOptions): Promise<void> {
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const ik of dirty) {
      const parsed = parsePendingKey(ik);
      if (!parsed) continue;
      // The two lists a key can be in: its pool's, and the one of every pool.
      const pool = this.#lists.get(`${TASK_KEYS.pending}${parsed.poolSegment}:`);
      const all = this.#lists.get(TASK_KEYS.pending);
      if (!pool && !all) continue; // not cached: listed in full when asked for
      // A change while this read is in flight marks the key again, for the next listing.
      const present = (await this.#store.get(ik, { signal: options.signal })) !== undefined;
      if (pool) update(pool, ik, parsed.taskId, present);
      if (all) update(all, ik, parsed.taskId, present);
    }
  }

  async #keys(prefix: string, caching: boolean, options: CallOptions): Promise<Map<string, string>> {
    const now = performance.now();
    if (caching) {
      const hit = this.#lists.get(prefix);
      if (hit && now - hit.listedAt < DEFAULT_RESYNC_MS) {
        // A Map keeps a deleted entry's slot until it is rehashed, and iteration walks past
        // every such slot: tasks are claimed from the head of the list, so without this each
        // listing would step over all the keys claimed since the list was built.
        if (hit.removed > COMPACT_AFTER && hit.removed > hit.keys.size) {
          hit.keys = new Map(hit.keys);
          hit.removed = 0;
        }
        return hit.keys;
      }
    }
    const overflows = this.#overflows;
    const listed = await this.#store.list(prefix, { signal: options.signal });
    const keys = new Map<string, string>();
    for (const ik of listed) {
      const parsed = parsePendingKey(ik);
      if (!parsed) continue;
      keys.set(ik, parsed.taskId);
      // Another process may have changed the record without this store's watch hearing of it.
      if (caching) this.#records.delete(parsed.taskId);
    }
    // A change during the listing may or may not be in it: its key is marked dirty and checked
    // next time (unless the dirty set overflowed meanwhile; then this list is not kept).
    if (caching && overflows === this.#overflows) {
      if (!this.#lists.has(prefix) && this.#lists.size >= DEFAULT_CACHED_PREFIXES) this.#lists.delete(this.#lists.keys().next().value!);
      this.#lists.set(prefix, { keys, listedAt: now, removed: 0 });
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

/** Applies one checked index key to a cached pool list. */
function update(list: PoolList, ik: string, taskId: string, present: boolean): void {
  if (!present) {
    if (list.keys.delete(ik)) list.removed++;
  } else if (!list.keys.has(ik)) list.keys.set(ik, taskId);
}
