import type { TaskRecord } from './records.js';

/** A record as this TaskManager last wrote it (a private copy, never handed out) and the revision the store gave it. */
export interface OwnWrite {
  /** The record's store key. */
  readonly key: string;
  readonly rec: Readonly<TaskRecord>;
  readonly revision: number;
}

/**
 * The task records this TaskManager wrote last, so that its next transition of the same task
 * (claim after submit, report after claim) need not read the record back.
 *
 * Never trusted on its own: a transition from here is a compare-and-set against the cached
 * revision, so it only succeeds if nobody (in any process) wrote the record since; otherwise
 * the caller drops the entry and reads the store. Refusals are never decided from here either
 * (the caller re-reads before it refuses). Bounded: the oldest entry goes first.
 */
export class OwnWrites {
  readonly #max: number;
  readonly #entries = new Map<string, OwnWrite>();

  constructor(max: number) {
    this.#max = max;
  }

  get(taskId: string): OwnWrite | undefined {
    return this.#entries.get(taskId);
  }

  /** Remembers `rec` (owned by the cache from now on) at `revision`. */
  set(taskId: string, key: string, rec: Readonly<TaskRecord>, revision: number): void {
    const m = this.#entries;
    if (!m.delete(taskId) && m.size >= this.#max) m.delete(m.keys().next().value!);
    m.set(taskId, { key, rec, revision });
  }

  delete(taskId: string): void {
    this.#entries.delete(taskId);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
