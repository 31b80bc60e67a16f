/**
 * The storage of the bounded FIFO queues between a transport and an agent (`AsyncQueue` of
 * `@converge/network`, the runtime's `Inbox`): a ring buffer that grows by doubling
 * (power-of-two capacity, so indexes wrap with a mask) and, when weighted, keeps each item's
 * weight and their sum (`bytes`). Once grown, storing and taking allocate nothing. A subclass
 * owns the bounds, the overflow policy (core's `OverflowPolicy`) and how consumers wait.
 */
export abstract class RingQueue<T> {
  #buf: (T | undefined)[];
  // Weight of each stored item, parallel to #buf (only when weighted).
  #weights: number[] | undefined;
  #head = 0;
  #size = 0;
  #bytes = 0;

  /**
   * @param weighted - whether each item carries a weight (summed in `bytes`).
   * @param capacity - the initial capacity (rounded up to a power of two, at least 16).
   */
  protected constructor(weighted: boolean, capacity = 16) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.#buf = new Array<T | undefined>(cap);
    if (weighted) this.#weights = new Array<number>(cap).fill(0);
  }

  /** Number of items queued. */
  get size(): number {
    return this.#size;
  }

  /** Total weight of the items queued (0 when the queue is not weighted). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether each item carries a weight. */
  protected get weighted(): boolean {
    return this.#weights !== undefined;
  }

  /** The weight of the oldest item (0 when empty or not weighted). */
  protected get headWeight(): number {
    return this.#size > 0 && this.#weights !== undefined ? this.#weights[this.#head]! : 0;
  }

  /** Stores `item` after the others, weighing `weight` (ignored when not weighted). */
  protected enqueue(item: T, weight: number): void {
    if (this.#size === this.#buf.length) this.#grow();
    const at = (this.#head + this.#size) & (this.#buf.length - 1);
    this.#buf[at] = item;
    // Read the weights after `#grow`, which replaced the array (a weight written to the old one
    // would be lost and `bytes` would become NaN).
    const weights = this.#weights;
    if (weights !== undefined) {
      weights[at] = weight;
      this.#bytes += weight;
    }
    this.#size++;
  }

  /** Removes and returns the oldest item; the caller has checked that `size > 0`. */
  protected dequeue(): T {
    const item = this.#buf[this.#head] as T;
    this.#buf[this.#head] = undefined;
    if (this.#weights !== undefined) this.#bytes -= this.#weights[this.#head]!;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.#size--;
    return item;
  }

  #grow(): void {
    const next = new Array<T | undefined>(this.#buf.length * 2);
    const w = this.#weights;
    const nextW = w !== undefined ? new Array<number>(next.length).fill(0) : undefined;
    for (let i = 0; i < this.#size; i++) {
      const j = (this.#head + i) & (this.#buf.length - 1);
      next[i] = this.#buf[j];
      if (nextW !== undefined) nextW[i] = w![j]!;
    }
    this.#buf = next;
    this.#weights = nextW;
    this.#head = 0;
  }
}
