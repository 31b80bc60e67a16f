// The calls of one kind (submit, report) that a busy process makes in one turn of the event loop,
// sent as one script run: one round trip, one script start and one reply for many transitions
// instead of one each (a coordinator's batch of submits, a worker's batch of reports). The
// script applies each call as if alone, with the call's own clock reading, so a batch decides
// exactly what the calls one by one would have. A lone call waits one turn (`setImmediate`).
import { AbortError } from '@converge/core';

/** Default most calls of one kind sent in one script run: 128 (a script holds the server while it runs). */
export const REDIS_QUEUE_DEFAULT_BATCH_MAX = 128;
/** Default most payload bytes (bodies, results) sent in one script run: 1 MiB (a larger lone call goes alone). */
export const REDIS_QUEUE_DEFAULT_BATCH_BYTES = 1_048_576;

/** One call waiting in a {@link Coalescer}. */
export interface CoalescedCall<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
}

/** Options of a {@link Coalescer}. */
export interface CoalescerOptions<I, O> {
  /** Most calls in one batch. */
  max: number;
  /** Most payload bytes in one batch (a call larger than this goes alone). */
  maxBytes: number;
  /** A call's payload bytes. */
  bytes(input: I): number;
  /** Sends one batch and settles each of its calls (one left unsettled is rejected; a throw rejects them all). */
  send(calls: CoalescedCall<I, O>[]): Promise<void>;
}

/**
 * Groups the calls pushed in one turn of the event loop into batches of at most `max` calls
 * and `maxBytes` payload bytes, each sent at once (batches pipeline on the connection). A call
 * whose signal aborted before its batch went is rejected with `AbortError` and never sent.
 */
export class Coalescer<I, O> {
  readonly #o: CoalescerOptions<I, O>;
  #waiting: CoalescedCall<I, O>[] = [];
  #scheduled = false;

  constructor(options: CoalescerOptions<I, O>) {
    this.#o = options;
  }

  /** Queues one call for the next batch; resolves with its output once the batch ran. */
  push(input: I, signal?: AbortSignal): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject, signal });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const calls = this.#waiting;
    this.#waiting = [];
    let batch: CoalescedCall<I, O>[] = [];
    let bytes = 0;
    for (const c of calls) {
      if (c.signal?.aborted) {
        c.reject(new AbortError('the operation was aborted', { cause: c.signal.reason }));
        continue;
      }
      const n = this.#o.bytes(c.input);
      if (batch.length > 0 && (batch.length >= this.#o.max || bytes + n > this.#o.maxBytes)) {
        this.#send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(c);
      bytes += n;
    }
    if (batch.length > 0) this.#send(batch);
  }

  #send(batch: CoalescedCall<I, O>[]): void {
    void this.#o.send(batch).then(
      // Rejecting a settled promise does nothing: only a call the batch left unanswered fails.
      () => {
        for (const c of batch) c.reject(new Error('the batch left this call unanswered'));
      },
      (err: unknown) => {
        for (const c of batch) c.reject(err);
      },
    );
  }
}
