/** What a holder of a `KeyMutex` learns from the holders before it. */
export interface KeyTurn {
  /**
   * The revision this process last gave the key (0: deleted) if that happened after this
   * caller queued, i.e. during its call; `undefined` if nothing was written meanwhile.
   */
  readonly observed: number | undefined;
  /** Tells the callers still queued that the key now has `revision` (0: deleted). */
  record: (revision: number) => void;
}

interface Slot {
  tail: Promise<void>;
  seq: number;
  revision: number;
  users: number;
}

/**
 * An in-process async mutex per key: callers in this process queue here (FIFO) instead of
 * spinning on the cross-process lock file. A slot lives only while someone holds or waits.
 * Holders pass on the revision they wrote, so that a queued compareAndSet which has already
 * lost can answer `null` without touching the file system (otherwise N racers cost N lock
 * cycles each round).
 */
export class KeyMutex {
  readonly #slots = new Map<string, Slot>();

  /** Runs `fn` once every earlier caller for `key` has finished. */
  async run<T>(key: string, fn: (turn: KeyTurn) => Promise<T>): Promise<T> {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { tail: Promise.resolve(), seq: 0, revision: 0, users: 0 };
      this.#slots.set(key, slot);
    }
    const s = slot;
    s.users++;
    const seq0 = s.seq;
    const prev = s.tail;
    let release!: () => void;
    s.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await prev;
      return await fn({
        observed: s.seq !== seq0 ? s.revision : undefined,
        record: (revision) => {
          s.seq++;
          s.revision = revision;
        },
      });
    } finally {
      release();
      if (--s.users === 0) this.#slots.delete(key);
    }
  }

  /** Number of keys held or waited for. */
  get size(): number {
    return this.#slots.size;
  }
}
