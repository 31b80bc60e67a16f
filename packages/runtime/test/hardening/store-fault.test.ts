// A store that fails a write: a test double wrapping a real MemoryStore throws StoreError on
// the Nth write (put / putIfAbsent / compareAndSet / delete). For every N along the path
// submit → claim → report, the TaskManager transition must not be half-applied: the record is
// whole and its indexes agree with it (or are repairable stale entries), and retrying the
// operation (as a caller would) brings the task to completion exactly once.
import { describe, expect, it } from 'vitest';
import { ConflictError, StoreError, type Store, type StoreCallOptions } from '@converge/core';
import { PoolManager, TaskManager, claimedKey, pendingKey, recordKey, type TaskRecord } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';

class FailingStore implements Store {
  writes = 0;
  constructor(
    readonly inner: MemoryStore,
    readonly failAt: number,
  ) {}
  #write<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    if (++this.writes === this.failAt)
      return Promise.reject(new StoreError(`injected failure of write #${this.writes} (${op} ${key})`, { key, code: 'ERR_STORE_IO' }));
    return fn();
  }
  get<V>(key: string, o?: StoreCallOptions) {
    return this.inner.get<V>(key, o);
  }
  getEntry<V>(key: string, o?: StoreCallOptions) {
    return this.inner.getEntry<V>(key, o);
  }
  list(prefix?: string, o?: StoreCallOptions) {
    return this.inner.list(prefix, o);
  }
  put(key: string, value: unknown, o?: StoreCallOptions) {
    return this.#write('put', key, () => this.inner.put(key, value, o));
  }
  putIfAbsent(key: string, value: unknown, o?: StoreCallOptions) {
    return this.#write('putIfAbsent', key, () => this.inner.putIfAbsent(key, value, o));
  }
  compareAndSet(key: string, value: unknown, rev: number, o?: StoreCallOptions) {
    return this.#write('compareAndSet', key, () => this.inner.compareAndSet(key, value, rev, o));
  }
  delete(key: string, o?: StoreCallOptions) {
    return this.#write('delete', key, () => this.inner.delete(key, o));
  }
}

/** The invariants linking a task record to its index entries. */
async function checkConsistent(store: MemoryStore, id: string): Promise<TaskRecord | undefined> {
  const rec = await store.get<TaskRecord>(recordKey(id));
  if (!rec) return undefined;
  expect(['pending', 'assigned', 'running', 'completed']).toContain(rec.state);
  const pending = (await store.get(pendingKey(rec.poolId, id))) !== undefined;
  if (rec.state === 'pending') {
    expect(rec.assignedTo).toBeNull();
    expect(rec.leaseExpiresAt).toBeNull();
  } else {
    expect(rec.assignedTo).toBe('w1');
    expect(rec.attempts).toBeGreaterThanOrEqual(1);
  }
  if (rec.state === 'assigned') {
    expect(rec.leaseExpiresAt).not.toBeNull();
    // An assigned task's claim index entry exists (so the sweep can always release it).
    expect(await store.get(claimedKey(id, rec.attempts))).toBe('w1');
  }
  if (rec.state === 'completed') expect(rec.result).toBe(49);
  return { ...rec, pendingIndexed: pending } as TaskRecord & { pendingIndexed: boolean };
}

async function retry<T>(fn: () => Promise<T>): Promise<T | 'conflict'> {
  for (let i = 0; i < 3; i++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConflictError) return 'conflict';
      expect(err).toBeInstanceOf(StoreError);
    }
  }
  throw new Error('retries exhausted');
}

describe('TaskManager on a store that fails a write', () => {
  // Writes on the happy path: submit 2, claim 3, report 2.
  const HAPPY_WRITES = 7;
  // Known bugs of TaskManager (packages/coordination/src/task-manager.ts, reported, not fixed
  // here): each is a write after the decisive one whose failure makes the call throw although
  // the transition happened, and the retry then sees ConflictError.
  //  #2 submit: record written, pending index `put` fails -> the task is never indexed, never offered.
  //  #5 claim: CAS won, pending index `delete` fails -> the claimer never learns it holds the lease.
  //  #7 report: CAS to completed won, claim index `delete` fails -> 'completed' never emitted, stats not counted.
  // `it.fails` keeps CI green while they stand and turns red once they are fixed (then drop it).
  const KNOWN_BUGS = new Set<number>();
  for (let n = 1; n <= HAPPY_WRITES; n++) {
    (KNOWN_BUGS.has(n) ? it.fails : it)(`write #${n} fails: no half-applied transition, the retried operation completes the task once`, async () => {
      const inner = new MemoryStore();
      const store = new FailingStore(inner, n);
      const tm = new TaskManager({ store });
      // The task's pool must exist (created on the inner store: its writes are not the ones counted).
      await new PoolManager({ store: inner }).createPool({ id: 'p' });
      let completed = 0;
      tm.on('completed', () => completed++);
      const id = 't-1';

      const submitted = await retry(() => tm.submit({ id, objective: 'square', inputs: { n: 7 }, poolId: 'p' }));
      let rec = await checkConsistent(inner, id);
      expect(rec).toBeDefined();
      // A submitted task is offered to workers: pending and indexed (else it is never claimed).
      expect(rec!.state).toBe('pending');
      expect(
        (rec as unknown as { pendingIndexed: boolean }).pendingIndexed,
        `submit (${String(submitted === 'conflict' ? 'retry saw a conflict' : 'ok')})`,
      ).toBe(true);
      expect((await tm.listPendingTasksForAgent('w1', ['p'], [])).map((t) => t.id)).toEqual([id]);

      const lease = await retry(() => tm.claim('w1', id));
      rec = await checkConsistent(inner, id);
      expect(rec!.state).toBe('assigned');
      expect(lease, 'claim: the worker must learn that it holds the task').not.toBe('conflict');

      await retry(() => tm.report('w1', id, 49, lease === 'conflict' ? (undefined as never) : lease));
      rec = await checkConsistent(inner, id);
      expect(rec!.state).toBe('completed');
      expect(completed).toBe(1);
      // No index entry is left pointing at the completed task (a stale one would be repaired on read).
      expect(await tm.listPendingTasksForAgent('w1', ['p'], [])).toEqual([]);
    });
  }
});
