// Deadline hints of the JetStream queue (bucket keys `l.<id>`: the Unix ms a live task's
// deadline passes), so the sweep finds pending tasks past their deadline without reading every
// record. Written without waiting for the server: sent at once, confirmed in the background.
import { StoreError, type QueuedTask } from '@converge/core';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { KV_OPERATION, token, type Bucket } from './bucket.js';
import { hintDue } from './records.js';

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** Most hint writes one client has sent and not yet seen confirmed: 1,024 (one more waits for the oldest). */
export const HINT_BACKGROUND_WRITES = 1_024;
/** How long a hint write waits for the server's confirmation: 10 s (then counted as failed). */
export const HINT_WRITE_TIMEOUT_MS = 10_000;
/** Removal markers of finished tasks' hints one sweep deletes: 1,000. */
export const HINT_MARKERS_PER_SWEEP = 1_000;

/** The headers of a hint removal (a KV purge marker). */
function purgeMarker(): MsgHdrs {
  const h = natsHeaders();
  h.set(KV_OPERATION, 'PURGE');
  return h;
}

/** The hint writer of one client. */
export class Hints {
  readonly #pending = new Set<Promise<void>>();

  /** @param onFailure - called for each write the server refused or did not confirm in time (counted by the queue). */
  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: Bucket,
    private readonly onFailure: () => void,
  ) {}

  /**
   * Sets or removes the hint of `t`: the write is sent now and confirmed in the background. Writes
   * from one connection to one stream are stored in the order sent, so a record write sent after
   * this one and confirmed means this one is stored too. A removal is a marker (`KV-Operation:
   * PURGE`, one message replacing the hint; the sweep deletes markers). `before`: the task as it
   * was, to skip a removal where there was no hint.
   */
  write(t: QueuedTask, before?: QueuedTask): void {
    const due = hintDue(t);
    if (due === null && before && hintDue(before) === null) return;
    const opts = { timeout: HINT_WRITE_TIMEOUT_MS, ...(due === null ? { headers: purgeMarker() } : {}) };
    const p = this.nc
      .request(this.bucket.subject(`l.${token(t.id)}`), due === null ? EMPTY : enc.encode(String(due)), opts)
      .then((m) => {
        const r = m.json<{ error?: { description?: string } }>();
        if (r.error) throw new StoreError(`hint write refused: ${r.error.description}`);
      })
      .catch(() => this.onFailure())
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Waits until fewer than `HINT_BACKGROUND_WRITES` writes are unconfirmed. */
  async room(): Promise<void> {
    while (this.#pending.size >= HINT_BACKGROUND_WRITES) await Promise.race(this.#pending);
  }

  /** Waits for every write sent so far. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** Deletes removal markers by stream sequence (O(1) each), at most `HINT_MARKERS_PER_SWEEP`. */
  async dropMarkers(seqs: readonly number[]): Promise<void> {
    const drop = seqs.slice(0, HINT_MARKERS_PER_SWEEP);
    for (let i = 0; i < drop.length; i += 64) await Promise.all(drop.slice(i, i + 64).map((seq) => this.bucket.deleteSeq(seq).catch(() => undefined)));
  }
}
