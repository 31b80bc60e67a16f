// Coalescing of concurrent calls into one statement. Calls made while the queue is busy (or in
// the same turn of the event loop) are sent together, as one statement over the whole batch:
// one round trip and one commit for many transitions instead of one each. A lone call still
// goes alone (the single-row statement), so a caller that waits for each call pays nothing.

/** One call waiting in a {@link Batcher}. */
export interface BatchJob<I, O> {
  input: I;
  resolve(output: O): void;
  reject(err: unknown): void;
}

/** Options of a {@link Batcher}. */
export interface BatcherOptions<I, O> {
  /** Most calls in one batch. */
  max: number;
  /** Batches in flight at once; calls made meanwhile wait for the next batch. */
  concurrency: number;
  /** Runs one batch: settles every job (a job it leaves unsettled is rejected). */
  run(jobs: BatchJob<I, O>[]): Promise<void>;
}

/** Groups concurrent calls into batches of at most `max`, `concurrency` batches in flight. */
export class Batcher<I, O> {
  readonly #o: BatcherOptions<I, O>;
  #waiting: BatchJob<I, O>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(options: BatcherOptions<I, O>) {
    this.#o = options;
  }

  /** Queues one call; resolves with its output once its batch ran. */
  push(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  // The first call of a turn flushes after the turn's other calls (setImmediate), not before them.
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#o.concurrency) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#waiting.length > 0 && this.#inFlight < this.#o.concurrency) {
      const jobs = this.#waiting.splice(0, this.#o.max);
      this.#inFlight++;
      void this.#runBatch(jobs).finally(() => {
        this.#inFlight--;
        if (this.#waiting.length > 0) this.#flush();
      });
    }
  }

  async #runBatch(jobs: BatchJob<I, O>[]): Promise<void> {
    let settled = 0;
    const tracked = jobs.map((j) => ({
      input: j.input,
      resolve: (o: O) => (settled++, j.resolve(o)),
      reject: (e: unknown) => (settled++, j.reject(e)),
    }));
    try {
      await this.#o.run(tracked);
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    if (settled < jobs.length) for (const j of jobs) j.reject(new Error('batch left a call unanswered'));
  }
}
