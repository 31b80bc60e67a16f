// Coalescing of concurrent calls into one statement. Calls made while the queue's statements of
// that kind are all busy are sent together when one returns, as one statement over the whole
// batch: one round trip and one commit for many transitions instead of one each. A call made
// while a connection is free goes at once, alone (the single-row statement), so a caller that
// waits for each call pays nothing.

/** One call waiting in a {@link Batcher}. */
export interface BatchJob<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
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

  // Below `concurrency` batches in flight a call goes at once (alone, as it would without a
  // batcher); the calls made while the statements are busy go together when one returns.
  #schedule(): void {
    if (this.#inFlight < this.#o.concurrency) this.#flush();
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
