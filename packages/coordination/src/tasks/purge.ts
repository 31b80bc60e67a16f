// Retention of the task store: deletes old terminal task records and their index entries, so
// that a long-running system's store does not grow with every task ever submitted.
import { ValidationError, throwIfAborted, positiveIntOption } from '@converge/core';
import type { CallOptions } from '../common.js';
import { DEFAULT_SWEEP_LIMIT } from './options.js';
import { TASK_KEYS, claimedKey, deadKey, isTerminal, pendingKey, type TaskRecord } from './records.js';
import type { TaskCore } from './core.js';
import { COUNTER } from './counters.js';

/** A terminal task state `purge` may delete. */
export type TerminalTaskState = 'completed' | 'cancelled' | 'failed';

/** Records read (concurrently) per page while `purge` scans `task:` records: 64. */
export const PURGE_PAGE_SIZE = 64;

/** Options of `TaskManager.purge`. */
export interface PurgeOptions extends CallOptions {
  /** Unix ms: only tasks whose latest transition (`updatedAt`) is strictly before this are deleted. */
  olderThan: number;
  /** Terminal states to delete (default all three: `completed`, `cancelled`, `failed`). */
  states?: readonly TerminalTaskState[];
  /** Most records deleted by one call (default `DEFAULT_SWEEP_LIMIT`, 10,000); call again for more. */
  limit?: number;
}

const TERMINAL: readonly TerminalTaskState[] = ['completed', 'cancelled', 'failed'];

/**
 * `TaskManager.purge`: see there. Scans the `task:` record keys in pages of
 * `PURGE_PAGE_SIZE`, deletes each matching terminal record after its index entries (pending,
 * claim of the last attempt, dead letter): if a delete fails half-way the record is still
 * there, still terminal, and the next purge finishes the job. A terminal record never changes
 * again, so nothing can race with its deletion.
 */
export async function purgeTasks(core: TaskCore, options: PurgeOptions): Promise<number> {
  const { olderThan } = options ?? ({} as PurgeOptions);
  if (typeof olderThan !== 'number' || !Number.isFinite(olderThan)) throw new ValidationError('purge: olderThan must be a finite Unix ms');
  const states = new Set<string>(options.states ?? TERMINAL);
  for (const s of states) if (!TERMINAL.includes(s as TerminalTaskState)) throw new ValidationError(`purge: ${s} is not a terminal state`);
  const limit = positiveIntOption(options.limit, DEFAULT_SWEEP_LIMIT, 'limit', 'validation');
  const sig: CallOptions = { signal: options.signal };
  const keys = await core.store.list(TASK_KEYS.record, sig);
  let removed = 0;
  for (let i = 0; i < keys.length && removed < limit; i += PURGE_PAGE_SIZE) {
    throwIfAborted(options.signal);
    const page = keys.slice(i, i + PURGE_PAGE_SIZE);
    const recs = await Promise.all(page.map((k) => core.store.get<TaskRecord>(k, sig)));
    for (let j = 0; j < page.length && removed < limit; j++) {
      const rec = recs[j];
      if (!rec || !isTerminal(rec) || !states.has(rec.state) || !(rec.updatedAt < olderThan)) continue;
      await core.store.delete(pendingKey(rec.poolId ?? null, rec.id), sig);
      if (rec.attempts > 0) await core.store.delete(claimedKey(rec.id, rec.attempts), sig);
      if (rec.deadLettered) await core.store.delete(deadKey(rec.id), sig);
      await core.poolIndex.remove(rec, sig);
      if (await core.store.delete(page[j]!, sig)) {
        removed++;
        core.count(COUNTER.purged);
      }
      core.own.delete(rec.id);
    }
  }
  return removed;
}
