import { closeSync, createReadStream, fsyncSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  ConvergeError,
  DecodeError,
  base64ToBytes,
  bytesToBase64,
  decodeMessage,
  encodeMessage,
  throwIfAborted,
  OUTCOME_STATUSES,
  type Decision,
  type Message,
  type Outcome,
  type Task,
  positiveIntOption,
} from '@converge/core';
import { fromTagged, toTagged } from './tagged-json.js';
import type { CounterHandle, MetricsCollector } from './metrics.js';

/** Default most entries a `ReplayLog` keeps in memory: 10,000 (oldest evicted first). */
export const DEFAULT_REPLAY_MAX_ENTRIES = 10_000;
/** Default most NDJSON characters (about bytes: lines are base64 and ASCII JSON) a `ReplayLog` keeps in memory: 64 Mi (oldest evicted first). */
export const DEFAULT_REPLAY_MAX_BYTES = 64 * 1024 * 1024;
/** Longest NDJSON line `ReplayLog.load` accepts: 32 MiB (a 10 MiB message is ~14 MiB of base64). */
export const MAX_REPLAY_LINE_CHARS = 32 * 1024 * 1024;

/** A recorded message: its full encoded bytes, signature intact. */
export interface MessageEntry {
  kind: 'message';
  /** Position in the recording (0-based, never reused, survives export). */
  seq: number;
  /** When it was recorded (Unix ms). */
  at: number;
  message: Message;
  /** `encodeMessage(message)` as recorded. */
  bytes: Uint8Array;
}

/** One recorded `decide` call: who decided, on which input messages, and what. */
export interface DecisionEntry {
  kind: 'decision';
  seq: number;
  at: number;
  agentId: string;
  /** Ids of the input messages, in the order given to `decide`. */
  inputs: string[];
  decisions: Decision[];
  /** The tasks given to `decide`, when they were recorded. */
  tasks?: Task[];
  /** The outcomes (of the previous turn) given to `decide` as `context.outcomes`, when there were any. */
  outcomes?: Outcome[];
}

/** One entry of a replay log. */
export type ReplayEntry = MessageEntry | DecisionEntry;

/** Options of `ReplayLog`. */
export interface ReplayLogOptions {
  /** Most entries kept in memory (default `DEFAULT_REPLAY_MAX_ENTRIES`). */
  maxEntries?: number;
  /** Most NDJSON bytes kept in memory (default `DEFAULT_REPLAY_MAX_BYTES`). */
  maxBytes?: number;
  /** Append every entry as one NDJSON line to this file (synchronous writes, nothing buffered). */
  file?: string;
  /** Counts entries (`converge_replay_entries_total{kind}`) and evictions (`converge_replay_evicted_total`). */
  metrics?: MetricsCollector;
  /** Clock for the `at` field (default `Date.now`). */
  now?: () => number;
}

/** A replay file line that is truncated, not JSON or not a valid entry. `line` is 1-based. */
export class ReplayFormatError extends DecodeError {
  /** The 1-based line number of the bad line. */
  readonly line: number;
  constructor(line: number, reason: string, options?: { cause?: unknown }) {
    super(`replay log line ${line}: ${reason}`, options);
    this.name = 'ReplayFormatError';
    Object.defineProperty(this, 'code', { value: 'ERR_REPLAY_FORMAT', enumerable: true });
    this.line = line;
  }
}

/** Writing a replay log file failed (disk full, file closed). */
export class ReplayWriteError extends ConvergeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_REPLAY_WRITE', options);
    this.name = 'ReplayWriteError';
  }
}

interface Stored {
  seq: number;
  line: string;
  size: number;
  messageId?: string;
}

/**
 * A bounded recording of messages and decisions for debugging and replay. Each entry is held
 * as its NDJSON line (so later mutation of a recorded object cannot change the record), the
 * oldest evicted first when `maxEntries` or `maxBytes` is exceeded (`evicted` counts them),
 * and optionally appended to a file. Messages keep their exact encoded bytes; decisions and
 * tasks are stored as tagged JSON, losslessly (`Float64`, `bigint`, bytes, `Map`).
 */
export class ReplayLog {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #entries: Stored[] = [];
  #head = 0;
  #bytes = 0;
  #seq = 0;
  #evicted = 0;
  #fd: number | undefined;
  readonly #messageIds = new Map<string, number>();
  readonly #now: () => number;
  readonly #entryCounter?: CounterHandle;
  readonly #evictedCounter?: CounterHandle;

  constructor(options: ReplayLogOptions = {}) {
    this.maxEntries = positiveIntOption(options.maxEntries, DEFAULT_REPLAY_MAX_ENTRIES, 'maxEntries');
    this.maxBytes = positiveIntOption(options.maxBytes, DEFAULT_REPLAY_MAX_BYTES, 'maxBytes');
    this.#now = options.now ?? Date.now;
    if (options.metrics) {
      this.#entryCounter = options.metrics.counter('converge_replay_entries_total', 'Entries recorded in replay logs, by kind', ['kind']);
      this.#evictedCounter = options.metrics.counter('converge_replay_evicted_total', 'Replay log entries evicted from memory by the size bounds');
    }
    if (options.file !== undefined) {
      try {
        this.#fd = openSync(options.file, 'a');
      } catch (err) {
        throw new ReplayWriteError(`cannot open replay file ${options.file}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** Entries evicted from memory so far (they remain in the file, if any). */
  get evicted(): number {
    return this.#evicted;
  }

  /** Entries currently held in memory. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Records a message (its full encoded bytes). Returns the entry's `seq`. */
  recordMessage(message: Message): number {
    const bytes = encodeMessage(message);
    const seq = this.#seq;
    const line = JSON.stringify({ v: 1, seq, at: this.#now(), kind: 'message', id: message.id, bytes: bytesToBase64(bytes) });
    this.#append({ seq, line, size: line.length + 1, messageId: message.id }, 'message');
    this.#messageIds.set(message.id, seq);
    return seq;
  }

  /**
   * Records one `decide` call: `decisions` made by `agentId` from `inputs` (and `tasks` and
   * the `outcomes` it was given, if any). Input messages not already held are recorded first,
   * so a replay can feed them. Throws `EncodeError` for a decision (or outcome) holding
   * something that is not plain data.
   */
  recordDecisions(
    agentId: string,
    decisions: readonly Decision[],
    inputs: readonly Message[] = [],
    tasks?: readonly Task[],
    outcomes?: readonly Outcome[],
  ): number {
    const tagged = toTagged([...decisions]);
    const taggedTasks = tasks === undefined ? undefined : toTagged([...tasks]);
    const taggedOutcomes = outcomes === undefined || outcomes.length === 0 ? undefined : toTagged([...outcomes]);
    for (const m of inputs) if (!this.#messageIds.has(m.id)) this.recordMessage(m);
    const seq = this.#seq;
    const body: Record<string, unknown> = { v: 1, seq, at: this.#now(), kind: 'decision', agentId, inputs: inputs.map((m) => m.id), decisions: tagged };
    if (taggedTasks !== undefined) body.tasks = taggedTasks;
    if (taggedOutcomes !== undefined) body.outcomes = taggedOutcomes;
    const line = JSON.stringify(body);
    this.#append({ seq, line, size: line.length + 1 }, 'decision');
    return seq;
  }

  /** The entries held in memory, oldest first (decoded afresh on each call). */
  entries(): ReplayEntry[] {
    const out: ReplayEntry[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) out.push(parseEntry(this.#entries[i]!.line, i - this.#head + 1));
    return out;
  }

  /** The entries held in memory as NDJSON (one line per entry, newline-terminated). */
  toNDJSON(): string {
    let s = '';
    for (let i = this.#head; i < this.#entries.length; i++) s += this.#entries[i]!.line + '\n';
    return s;
  }

  /** Writes the entries held in memory to `path` as NDJSON (replacing the file). */
  export(path: string): void {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'w');
      for (let i = this.#head; i < this.#entries.length; i++) writeSync(fd, this.#entries[i]!.line + '\n');
      fsyncSync(fd);
    } catch (err) {
      throw new ReplayWriteError(`cannot export replay log to ${path}: ${(err as Error).message}`, { cause: err });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Forces the file's lines to disk (each line is already written when recorded). */
  flush(): void {
    if (this.#fd !== undefined) fsyncSync(this.#fd);
  }

  /** Flushes and closes the file, if any; later records stay in memory only. Idempotent. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads an NDJSON replay file back. Throws `ReplayFormatError` naming the line of anything
   * truncated or corrupt (including a message whose bytes do not decode). Entries beyond the
   * bounds in `options` are evicted as when recording. `signal` stops reading (`AbortError`).
   */
  static async load(path: string, options: Omit<ReplayLogOptions, 'file'> & { signal?: AbortSignal } = {}): Promise<ReplayLog> {
    throwIfAborted(options.signal);
    const log = new ReplayLog(options);
    const input = createReadStream(path, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const line of lines) {
        n++;
        throwIfAborted(options.signal);
        if (line.length > MAX_REPLAY_LINE_CHARS) throw new ReplayFormatError(n, `longer than ${MAX_REPLAY_LINE_CHARS} characters`);
        if (line.trim() === '') continue;
        const entry = parseEntry(line, n);
        log.#adopt(entry, line);
      }
    } finally {
      lines.close();
      input.destroy();
    }
    return log;
  }

  /** Parses NDJSON text made by `toNDJSON` or a replay file. */
  static parse(text: string, options: Omit<ReplayLogOptions, 'file'> = {}): ReplayLog {
    const log = new ReplayLog(options);
    // Line breaks as `load` (readline) counts them, so both name the same line in errors.
    const lines = text.split(/\r\n|\r|\n/);
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      log.#adopt(parseEntry(line, i + 1), line);
    });
    return log;
  }

  #adopt(entry: ReplayEntry, line: string): void {
    this.#seq = entry.seq;
    this.#append({ seq: entry.seq, line, size: line.length + 1, messageId: entry.kind === 'message' ? entry.message.id : undefined }, entry.kind);
    if (entry.kind === 'message') this.#messageIds.set(entry.message.id, entry.seq);
  }

  #append(stored: Stored, kind: ReplayEntry['kind']): void {
    if (this.#fd !== undefined) {
      try {
        writeSync(this.#fd, stored.line + '\n');
      } catch (err) {
        throw new ReplayWriteError(`cannot append to the replay file: ${(err as Error).message}`, { cause: err });
      }
    }
    this.#seq = stored.seq + 1;
    this.#entries.push(stored);
    this.#bytes += stored.size;
    this.#entryCounter?.inc({ kind });
    while (this.size > this.maxEntries || (this.#bytes > this.maxBytes && this.size > 1)) this.#evictOldest();
    // Compact the array once the evicted prefix dominates, keeping eviction O(1) amortized.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #evictOldest(): void {
    const old = this.#entries[this.#head]!;
    this.#entries[this.#head] = undefined as unknown as Stored;
    this.#head++;
    this.#bytes -= old.size;
    if (old.messageId !== undefined && this.#messageIds.get(old.messageId) === old.seq) this.#messageIds.delete(old.messageId);
    this.#evicted++;
    this.#evictedCounter?.inc();
  }
}

function isOutcomeShape(o: unknown): boolean {
  if (o === null || typeof o !== 'object') return false;
  const r = o as Record<string, unknown>;
  return typeof r.status === 'string' && (OUTCOME_STATUSES as readonly string[]).includes(r.status) && r.decision !== null && typeof r.decision === 'object';
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

/** Parses one NDJSON line into an entry; throws `ReplayFormatError` naming `lineNo`. */
export function parseEntry(line: string, lineNo: number): ReplayEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new ReplayFormatError(lineNo, 'not valid JSON (truncated or corrupt)', { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ReplayFormatError(lineNo, 'not a JSON object');
  const r = raw as Record<string, unknown>;
  if (r.v !== 1) throw new ReplayFormatError(lineNo, `unsupported version ${JSON.stringify(r.v)}`);
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 0) throw new ReplayFormatError(lineNo, 'seq must be a non-negative integer');
  if (!Number.isSafeInteger(r.at)) throw new ReplayFormatError(lineNo, 'at must be an integer');
  const seq = r.seq as number;
  const at = r.at as number;
  try {
    if (r.kind === 'message') {
      if (typeof r.bytes !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(r.bytes)) throw new ReplayFormatError(lineNo, 'bytes must be base64');
      const bytes = base64ToBytes(r.bytes);
      const message = decodeMessage(bytes);
      if (r.id !== undefined && r.id !== message.id) throw new ReplayFormatError(lineNo, 'id does not match the message bytes');
      return { kind: 'message', seq, at, message, bytes };
    }
    if (r.kind === 'decision') {
      if (typeof r.agentId !== 'string') throw new ReplayFormatError(lineNo, 'agentId must be a string');
      if (!isStringArray(r.inputs)) throw new ReplayFormatError(lineNo, 'inputs must be a list of message ids');
      const decisions = fromTagged(r.decisions);
      if (!Array.isArray(decisions) || !decisions.every((d) => d !== null && typeof d === 'object' && typeof (d as Decision).type === 'string')) {
        throw new ReplayFormatError(lineNo, 'decisions must be a list of objects with a type');
      }
      const entry: DecisionEntry = { kind: 'decision', seq, at, agentId: r.agentId, inputs: [...r.inputs], decisions: decisions as Decision[] };
      if (r.tasks !== undefined) {
        const tasks = fromTagged(r.tasks);
        if (!Array.isArray(tasks)) throw new ReplayFormatError(lineNo, 'tasks must be a list');
        entry.tasks = tasks as Task[];
      }
      if (r.outcomes !== undefined) {
        const outcomes = fromTagged(r.outcomes);
        if (!Array.isArray(outcomes) || !outcomes.every(isOutcomeShape))
          throw new ReplayFormatError(lineNo, 'outcomes must be a list of objects with a decision and a status');
        entry.outcomes = outcomes as Outcome[];
      }
      return entry;
    }
  } catch (err) {
    if (err instanceof ReplayFormatError) throw err;
    throw new ReplayFormatError(lineNo, (err as Error).message, { cause: err });
  }
  throw new ReplayFormatError(lineNo, `unknown kind ${JSON.stringify(r.kind)}`);
}
