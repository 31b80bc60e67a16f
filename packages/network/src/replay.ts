import { ValidationError, nowOf, requireInt, type ClockLike } from '@converge/core';

/** Default most message ids remembered per sender. */
export const DEFAULT_REPLAY_IDS_PER_SENDER = 100_000;
/** Default byte budget (estimated, see `replayEntryBytes`) of a whole `ReplayCache`: 64 MiB. */
export const DEFAULT_REPLAY_CACHE_BYTES = 64 * 1024 * 1024;
/** Estimated cost of one remembered id beyond its characters (map slot, number, string header). */
export const REPLAY_ENTRY_OVERHEAD_BYTES = 64;
/** Estimated cost of one sender's partition beyond its ids. */
export const REPLAY_PARTITION_OVERHEAD_BYTES = 256;

/** Options of `ReplayCache`. */
export interface ReplayCacheOptions {
  /** Accepted clock skew in ms: an id is kept while its timestamp is within it (the verifier's `skewMs`). */
  skewMs: number;
  /** Most ids remembered per sender (default 100,000). */
  maxIdsPerSender?: number;
  /** Byte budget of the whole cache, estimated (default 64 MiB). */
  maxBytes?: number;
  /** Clock: a `Clock` or a function returning Unix ms (default `Date.now`). */
  clock?: ClockLike;
}

/** Estimated bytes one remembered id costs (UTF-16 characters plus `REPLAY_ENTRY_OVERHEAD_BYTES`). */
export function replayEntryBytes(id: string): number {
  return REPLAY_ENTRY_OVERHEAD_BYTES + 2 * id.length;
}

/** One sender's replay state: its recent ids (insertion order) and its floor. */
interface Partition {
  readonly sender: string;
  /** id → message timestamp, in insertion order. */
  readonly ids: Map<string, number>;
  /** Messages timestamped at or below this are refused: their ids may have been forgotten. */
  floor: number;
  /** Highest timestamp accepted from this sender. */
  high: number;
  bytes: number;
}

/**
 * Replay state, partitioned by sender, so that one agent's traffic never evicts another
 * agent's ids. Each sender's partition holds its recent message ids (at most
 * `maxIdsPerSender`) and a **floor**, a per-sender high-water mark: when an id has to be
 * forgotten early (its partition is full, or the whole cache is over `maxBytes`), the floor
 * rises to that id's timestamp, and from then on any message of that sender timestamped at or
 * below the floor is refused. Forgetting therefore never lets a replay through; its only cost
 * is that a genuine message of that same sender arriving later than newer ones it sent (out of
 * order by more than its partition holds) is refused too.
 *
 * When the whole cache is over budget, the sender whose message is being added pays: its own
 * oldest ids go first; a sender with none falls back to a strict high-water mark (each message
 * must be timestamped after the previous one). Ids (and whole partitions) are dropped once
 * their timestamp is more than `skewMs` in the past, since the staleness check refuses such a
 * message anyway. Cost: O(1) amortised per message.
 */
export class ReplayCache {
  /** Accepted clock skew in ms. */
  readonly skewMs: number;
  /** Most ids remembered per sender. */
  readonly maxIdsPerSender: number;
  /** Byte budget of the whole cache (estimated). */
  readonly maxBytes: number;
  readonly #clock: () => number;
  // Partitions in the order they last accepted an id, so that idle ones are found first.
  readonly #partitions = new Map<string, Partition>();
  #bytes = 0;
  #evictions = 0;

  constructor(options: ReplayCacheOptions) {
    this.skewMs = options.skewMs;
    this.maxIdsPerSender = options.maxIdsPerSender ?? DEFAULT_REPLAY_IDS_PER_SENDER;
    this.maxBytes = options.maxBytes ?? DEFAULT_REPLAY_CACHE_BYTES;
    if (!(this.skewMs >= 0)) throw new ValidationError('replay cache skewMs must be >= 0');
    if (!Number.isSafeInteger(this.maxIdsPerSender) || this.maxIdsPerSender < 1) {
      throw new ValidationError('replay cache maxIdsPerSender must be a positive integer');
    }
    requireInt(this.maxBytes, 'replay cache maxBytes', { error: 'validation' });
    this.#clock = nowOf(options.clock);
  }

  /** Ids remembered right now, over all senders (expired ones may linger until the next write). */
  get size(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.ids.size;
    return n;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Senders with replay state. */
  get senders(): number {
    return this.#partitions.size;
  }

  /** Unexpired ids forgotten early (each raised its sender's floor). */
  get evictions(): number {
    return this.#evictions;
  }

  /** Whether a message of `sender` with `id` and `timestamp` would be refused as a replay. */
  has(sender: string, id: string, timestamp: number): boolean {
    const p = this.#partitions.get(sender);
    return p !== undefined && (timestamp <= p.floor || p.ids.has(id));
  }

  /** The sender's floor (messages at or below it are refused), or `-Infinity`. */
  floorOf(sender: string): number {
    return this.#partitions.get(sender)?.floor ?? -Infinity;
  }

  /** The highest timestamp accepted from `sender`, or `-Infinity`. */
  highOf(sender: string): number {
    return this.#partitions.get(sender)?.high ?? -Infinity;
  }

  /**
   * Raises `sender`'s floor to at least `floor` (used to restore persisted state after a
   * restart: every message at or below it is then refused).
   */
  raiseFloor(sender: string, floor: number): void {
    const p = this.#partition(sender);
    if (floor > p.floor) p.floor = floor;
    if (floor > p.high) p.high = floor;
  }

  /**
   * Records `sender`'s message `id` stamped `timestamp`; returns `false` if it is (or may be)
   * a replay — the id was seen, or the timestamp is at or below the sender's floor — and
   * `true` if it is new.
   */
  add(sender: string, id: string, timestamp: number): boolean {
    const now = this.#clock();
    this.#sweepIdle(now);
    const p = this.#partition(sender);
    if (timestamp <= p.floor || p.ids.has(id)) return false;
    this.#expire(p, now);
    const cost = replayEntryBytes(id);
    while (p.ids.size > 0 && (p.ids.size >= this.maxIdsPerSender || this.#bytes + cost > this.maxBytes)) this.#evictOldest(p);
    if (timestamp > p.high) p.high = timestamp;
    // Over budget with nothing of its own left to give: a strict high-water mark for this sender.
    if (this.#bytes + cost > this.maxBytes) {
      if (timestamp > p.floor) p.floor = timestamp;
      this.#evictions++;
    } else {
      p.ids.set(id, timestamp);
      p.bytes += cost;
      this.#bytes += cost;
    }
    // Most recently active last, so `#sweepIdle` meets the idle partitions first.
    this.#partitions.delete(sender);
    this.#partitions.set(sender, p);
    return true;
  }

  /** Forgets everything (floors included). */
  clear(): void {
    this.#partitions.clear();
    this.#bytes = 0;
  }

  #partition(sender: string): Partition {
    let p = this.#partitions.get(sender);
    if (!p) {
      p = { sender, ids: new Map(), floor: -Infinity, high: -Infinity, bytes: REPLAY_PARTITION_OVERHEAD_BYTES };
      this.#bytes += p.bytes;
      this.#partitions.set(sender, p);
    }
    return p;
  }

  #evictOldest(p: Partition): void {
    const [id, ts] = p.ids.entries().next().value as [string, number];
    this.#remove(p, id);
    if (ts > p.floor) p.floor = ts;
    this.#evictions++;
  }

  #remove(p: Partition, id: string): void {
    p.ids.delete(id);
    const cost = replayEntryBytes(id);
    p.bytes -= cost;
    this.#bytes -= cost;
  }

  // Drops the partition's oldest ids whose timestamp is past the window (stale if replayed).
  // Insertion order is nearly timestamp order, so this stops at the first id still inside it.
  #expire(p: Partition, now: number): void {
    for (const [id, ts] of p.ids) {
      if (now - ts <= this.skewMs) break;
      this.#remove(p, id);
    }
  }

  // Drops partitions whose every timestamp (floor included) is past the window: nothing of
  // theirs could be accepted again anyway. Least recently active first; stops at a live one.
  #sweepIdle(now: number): void {
    for (const p of this.#partitions.values()) {
      if (now - p.high <= this.skewMs) break;
      this.#partitions.delete(p.sender);
      this.#bytes -= p.bytes;
    }
  }
}
