// Every task of a pool, page by page (`TaskManager.listTasks`), without listing all task keys:
// each task has an entry `task-pool:<pool>:<bucket>:<task>` (bucket: its submit second), and
// `task-pool-dir:<pool>:<bucket>` names the buckets that hold any. A page lists the pool's
// bucket directory, then only the buckets from the cursor on, and reads at most
// `DEFAULT_PAGE_SCAN` records. The record stays the source of truth: an entry without one is
// skipped (and removed once older than `INDEX_GRACE_MS`).
import { ValidationError, throwIfAborted, type Store, type StoreCallOptions } from '@converge/core';
import { keySegment, parseKeySegment, type Clock } from '../common.js';
import { INDEX_GRACE_MS } from './pending-index.js';
import { TASK_KEYS, poolSegment, recordKey, type TaskRecord } from './records.js';
import type { TaskPageOptions, TaskRecordPage } from './options.js';

/** Width of a pool-index bucket: tasks submitted in the same second share one (ms). */
export const POOL_BUCKET_MS = 1_000;
/** Records one `listTasks` page reads at most (a filtered page can come back short, with a cursor): 1,024. */
export const DEFAULT_PAGE_SCAN = 1_024;
/** Default page size of `listTasks`: 100. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Largest page size of `listTasks`: 1,000. */
export const MAX_PAGE_LIMIT = 1_000;
/** Pools whose latest directory bucket one TaskManager remembers (so a submit rewrites it once per second): 1,024. */
const MAX_REMEMBERED_POOLS = 1_024;
/** Records read at once within a page. */
const READ_BATCH = 64;

/** The bucket of a submit time: fixed-width base 36, so that key order is time order. */
function bucketOf(submittedAt: number): string {
  return Math.floor(submittedAt / POOL_BUCKET_MS)
    .toString(36)
    .padStart(9, '0');
}

/** Key of a task's pool-index entry. */
function poolEntryKey(rec: Pick<TaskRecord, 'id' | 'poolId' | 'submittedAt'>): string {
  return `${TASK_KEYS.pool}${poolSegment(rec.poolId)}:${bucketOf(rec.submittedAt)}:${keySegment(rec.id)}`;
}

/** The pool index of one TaskManager: written on submit, read by `listTasks`, cleared by `purge`. */
export class PoolIndex {
  readonly #store: Store;
  readonly #clock: Clock;
  /** Pool segment → the directory bucket this manager wrote last (oldest pool first). */
  readonly #written = new Map<string, string>();

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Writes a new task's entry and, once per bucket, its bucket's directory entry, both at once
   * (one store round trip, not two in a row; the submit waits for both). Value: the write time.
   */
  add(rec: TaskRecord, now: number, options: StoreCallOptions): Promise<unknown> {
    const pool = poolSegment(rec.poolId);
    const bucket = bucketOf(rec.submittedAt);
    const entry = this.#store.put(poolEntryKey(rec), now, options);
    if (this.#written.get(pool) === bucket) return entry;
    // Remembered only once written: a failed directory write is tried again by the next submit.
    const dir = this.#store.put(`${TASK_KEYS.poolBuckets}${pool}:${bucket}`, now, options).then(() => this.#remember(pool, bucket));
    return Promise.all([dir, entry]);
  }

  #remember(pool: string, bucket: string): void {
    this.#written.delete(pool);
    if (this.#written.size >= MAX_REMEMBERED_POOLS) this.#written.delete(this.#written.keys().next().value!);
    this.#written.set(pool, bucket);
  }

  /** Deletes a task's entry (its bucket's directory entry goes when a listing finds the bucket empty). */
  async remove(rec: TaskRecord, options: StoreCallOptions): Promise<void> {
    await this.#store.delete(poolEntryKey(rec), options);
  }

  /** `TaskManager.listTasks`: see there. */
  async page(options: TaskPageOptions): Promise<TaskRecordPage> {
    const { pool, limit, after } = resolvePage(options);
    const sig: StoreCallOptions = { signal: options.signal };
    const dirPrefix = `${TASK_KEYS.poolBuckets}${pool}:`;
    const buckets = (await this.#store.list(dirPrefix, sig)).map((k) => k.slice(dirPrefix.length));
    const tasks: TaskRecord[] = [];
    let budget = DEFAULT_PAGE_SCAN;
    for (const bucket of buckets) {
      if (after !== null && bucket < after.bucket) continue;
      throwIfAborted(options.signal);
      const prefix = `${TASK_KEYS.pool}${pool}:${bucket}:`;
      let keys = await this.#store.list(prefix, sig);
      if (keys.length === 0) {
        await this.#dropEmptyBucket(dirPrefix + bucket, bucket, sig);
        continue;
      }
      if (after !== null && bucket === after.bucket) keys = keys.filter((k) => k.slice(prefix.length) > after.task);
      for (let i = 0; i < keys.length;) {
        const batch = keys.slice(i, i + Math.min(READ_BATCH, budget, limit - tasks.length));
        i += batch.length;
        const recs = await Promise.all(batch.map((k) => this.#record(k, prefix, sig)));
        budget -= batch.length;
        for (const rec of recs) if (rec !== undefined && (options.state === undefined || rec.state === options.state)) tasks.push(rec);
        if (tasks.length >= limit || budget <= 0) {
          const last = batch[batch.length - 1]!;
          const more = i < keys.length || bucket !== buckets[buckets.length - 1];
          return { tasks, cursor: more ? `${bucket}:${last.slice(prefix.length)}` : null };
        }
      }
    }
    return { tasks, cursor: null };
  }

  /** The record an entry points at; a dangling entry older than the grace time is removed. */
  async #record(entryKey: string, prefix: string, sig: StoreCallOptions): Promise<TaskRecord | undefined> {
    const rec = await this.#store.get<TaskRecord>(recordKey(parseKeySegment(entryKey.slice(prefix.length))), sig);
    if (rec !== undefined) return rec;
    const written = await this.#store.get<number>(entryKey, sig);
    if (typeof written === 'number' && this.#clock() - written >= INDEX_GRACE_MS) await this.#store.delete(entryKey, sig);
    return undefined;
  }

  // Only a bucket past the grace time: a submit of this very second may be writing into it.
  async #dropEmptyBucket(dirKey: string, bucket: string, sig: StoreCallOptions): Promise<void> {
    if (bucketOf(this.#clock() - INDEX_GRACE_MS) > bucket) await this.#store.delete(dirKey, sig);
  }
}

/** Validates `listTasks` options (`ValidationError`) and decodes the cursor. */
function resolvePage(options: TaskPageOptions): { pool: string; limit: number; after: { bucket: string; task: string } | null } {
  if (options === null || typeof options !== 'object') throw new ValidationError('listTasks needs options { poolId }');
  const { poolId, cursor } = options;
  if (poolId !== null && (typeof poolId !== 'string' || poolId.length === 0)) throw new ValidationError('listTasks poolId must be a non-empty string or null');
  const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw new ValidationError(`listTasks limit must be an integer in 1..${MAX_PAGE_LIMIT}`);
  if (cursor === undefined || cursor === null) return { pool: poolSegment(poolId), limit, after: null };
  const i = typeof cursor === 'string' ? cursor.indexOf(':') : -1;
  if (i <= 0) throw new ValidationError('listTasks cursor is not one this listing returned');
  return { pool: poolSegment(poolId), limit, after: { bucket: cursor.slice(0, i), task: cursor.slice(i + 1) } };
}
