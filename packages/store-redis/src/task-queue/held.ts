// The fields of the tasks this queue instance leased and has not yet seen reported: with them a
// successful `report` needs no read-back of the hash (the script only says "done"), because a
// report that passes the fence changes exactly state, result, updated_at and lease_expires_at of
// the record the claim returned. A cache, not the truth: a miss (evicted, another instance's
// lease, a lease of an older attempt) asks the script for the record instead.
import type { TaskLease } from '@converge/core';
import type { TaskFields } from './records.js';

/** Default most leased records a RedisTaskQueue keeps to answer `report` without a read-back: 10,000. */
export const REDIS_QUEUE_DEFAULT_HELD_RECORDS = 10_000;

/** Claimed task fields by task id, at most `max` (the oldest entry makes room). */
export class HeldRecords {
  readonly #max: number;
  readonly #byId = new Map<string, { attempt: number; agentId: string; fields: TaskFields }>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Entries held. */
  get size(): number {
    return this.#byId.size;
  }

  /** Remembers the fields of a task just leased by `agentId` at `attempt`. */
  put(taskId: string, attempt: number, agentId: string, fields: TaskFields): void {
    this.#byId.delete(taskId);
    if (this.#byId.size >= this.#max) this.#byId.delete(this.#byId.keys().next().value!);
    this.#byId.set(taskId, { attempt, agentId, fields });
  }

  /** The fields leased under exactly this lease (its attempt and agent), or `undefined`. */
  get(lease: TaskLease): TaskFields | undefined {
    const e = this.#byId.get(lease.taskId);
    return e && e.attempt === lease.attempt && e.agentId === lease.agentId ? e.fields : undefined;
  }

  /** Forgets a task (reported, failed, refused). */
  drop(taskId: string): void {
    this.#byId.delete(taskId);
  }

  /** Forgets everything. */
  clear(): void {
    this.#byId.clear();
  }
}
