import { StoreError, type Store } from '@converge/core';
import type { ReplayCache } from './replay.js';

/** Store key prefix of the persisted replay state: `replay:high:<sender>` → Unix ms. */
export const REPLAY_STORE_PREFIX = 'replay:high:';

/**
 * The part of a `ReplayCache` that must survive a restart, in any core `Store`: for each
 * sender, the highest timestamp accepted from it. On load, each sender's floor is raised to
 * that mark, so every message it sent before the restart (all timestamped at or below it) is
 * refused as a replay; the cost is that a genuine message of that sender older than its mark,
 * still in flight across the restart, is refused too.
 *
 * Writes are coalesced: `note` marks a sender dirty (sync), `flush` writes every dirty
 * sender's mark, one flush at a time, so a burst of messages costs one write per sender.
 */
export class ReplayStateStore {
  readonly #store: Store;
  readonly #dirty = new Map<string, number>();
  #flushing: Promise<void> | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Restores the persisted marks into `cache` (each sender's floor). Marks older than
   * `staleBefore` can no longer matter (such messages are stale) and are deleted.
   * Returns how many senders were restored.
   */
  async load(cache: ReplayCache, staleBefore: number): Promise<number> {
    let restored = 0;
    for (const key of await this.#store.list(REPLAY_STORE_PREFIX)) {
      const sender = key.slice(REPLAY_STORE_PREFIX.length);
      const high = await this.#store.get<unknown>(key);
      if (typeof high !== 'number' || !Number.isFinite(high)) {
        throw new StoreError(`replay state at ${key} is not a timestamp`, { key, code: 'ERR_STORE_CORRUPT' });
      }
      if (high < staleBefore) {
        await this.#store.delete(key);
        continue;
      }
      cache.raiseFloor(sender, high);
      restored++;
    }
    return restored;
  }

  /** Marks `sender`'s highest accepted timestamp to be written by the next `flush`. */
  note(sender: string, high: number): void {
    this.#dirty.set(sender, high);
  }

  /** Whether some mark is waiting to be written or being written. */
  get busy(): boolean {
    return this.#dirty.size > 0 || this.#flushing !== undefined;
  }

  /**
   * Writes every mark noted so far; resolves once they (and any flush before) are stored.
   * A failed write keeps its marks dirty for the next flush and rejects with the store's error.
   */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#dirty.size === 0) return;
    const batch = [...this.#dirty];
    this.#dirty.clear();
    const run = (async () => {
      for (let i = 0; i < batch.length; i++) {
        const [sender, high] = batch[i]!;
        try {
          await this.#store.put(REPLAY_STORE_PREFIX + sender, high);
        } catch (err) {
          // Whatever was not written goes back (unless a newer mark was noted meanwhile).
          for (const [s, h] of batch.slice(i)) if (!this.#dirty.has(s)) this.#dirty.set(s, h);
          throw err;
        }
      }
    })();
    this.#flushing = run
      .finally(() => {
        this.#flushing = undefined;
      })
      .catch(() => {});
    await run;
  }
}
