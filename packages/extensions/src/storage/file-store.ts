/**
 * FileStore: one file per key in a directory, shared safely by every process that opens it.
 *
 * Layout of `dir` (every name is made here; see file-names.ts):
 * - `<name>.rec`  the record of a key: msgpack `{ v: 1, revision, value }`;
 * - `<name>.del`  the tombstone of a deleted key: the revision fence, so revisions keep
 *                 growing across delete and re-create and a stale compareAndSet never succeeds;
 * - `<name>.lck`  a lock directory, present while a process writes the key;
 * - `.tmp-*`      a write in progress (or left by a crashed writer; removed by `start()`).
 *
 * Writes: in-process mutex per key, then the cross-process lock, re-read, write a temp file,
 * fsync, rename over the record, fsync the directory. Reads take no lock: rename is atomic,
 * so a reader sees the old record or the new one, never a mix.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { unlinkSync, type Dirent } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { ConfigError, DEFAULT_MAX_MESSAGE_BYTES, InvalidKeyError, KeyWatchers, NotStartedError, STORE_BRAND, StoreError } from '@converge/core';
import { throwIfAborted, ValidationError } from '@converge/core';
import type { Store, StoreCallOptions, StoreEntry } from '@converge/core';
import { DirSync, readWholeFile, removeLeftoverTemps, removeQuietly, replaceFile } from './file-io.js';
import { acquireFileLock, ioError } from './file-lock.js';
import { decodeKeyName, encodeKeyName } from './file-names.js';
import { KeyMutex } from './key-mutex.js';
import { decodeRecord, decodeTombstone, encodeRecord, encodeTombstone, prepareValue, type LiveRecord, type PreparedValue } from './record.js';
import { checkRevision, shorten, validateStoreKey } from './validate.js';

/** Longest encoded file-name stem of a key, in bytes (file systems allow 255 per name). */
export const FILE_STORE_MAX_NAME_BYTES = 240;
/** Default age after which an unrefreshed lock is taken over: 10 s. */
export const FILE_STORE_DEFAULT_LOCK_STALE_MS = 10_000;
/** Default longest wait for a key's lock: 30 s. */
export const FILE_STORE_DEFAULT_LOCK_TIMEOUT_MS = 30_000;
/** Default largest record file: 10 MiB (the codec's message limit). */
export const FILE_STORE_DEFAULT_MAX_RECORD_BYTES = DEFAULT_MAX_MESSAGE_BYTES;
/** Default largest number of writes queued or running in one FileStore: 10,000. */
export const FILE_STORE_DEFAULT_MAX_PENDING_WRITES = 10_000;
/** Default age after which `start()` removes a temp file whatever its writer: 60 s. */
export const FILE_STORE_DEFAULT_TEMP_STALE_MS = 60_000;

/** Options of `FileStore`. */
export interface FileStoreOptions {
  /** The directory holding the records; created by `start()` if missing. */
  dir: string;
  /**
   * Whether every write is fsynced (file, then directory) before it resolves (default `true`).
   * `false` keeps writes atomic but lets the last ones vanish on power loss.
   */
  fsync?: boolean;
  /** Age in ms after which an unrefreshed lock is taken over (default 10,000). */
  lockStaleMs?: number;
  /** Longest wait in ms for a key's lock before `ERR_STORE_LOCK_TIMEOUT` (default 30,000). */
  lockTimeoutMs?: number;
  /** Largest record file in bytes; bigger values are refused (default 10 MiB). */
  maxRecordBytes?: number;
  /** Most writes queued or running at once in this instance before `ERR_STORE_BUSY` (default 10,000). */
  maxPendingWrites?: number;
  /**
   * Age in ms after which `start()` removes a leftover temp file even if its writer may live
   * (default 60,000). Temp files of dead processes on this host go at once.
   */
  tempStaleMs?: number;
  /** Permission bits of record files (default `0o600`). */
  fileMode?: number;
  /** Hears exceptions thrown by `watch` listeners (counted in `watchErrors` either way). */
  onWatchError?: (error: unknown, key: string) => void;
}

interface ResolvedOptions {
  dir: string;
  fsync: boolean;
  lockStaleMs: number;
  lockTimeoutMs: number;
  maxRecordBytes: number;
  maxPendingWrites: number;
  tempStaleMs: number;
  fileMode: number;
}

type State = 'new' | 'starting' | 'running' | 'stopped';

const TEMP_PREFIX = '.tmp-';
// Temp files carry a hash of the host name, so that only this host's dead writers are judged
// by pid (the directory may be shared over a network file system).
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/**
 * A Store in a directory: one msgpack file per key, atomic writes (temp file, fsync, rename,
 * directory fsync), key names that cannot escape the directory, and `compareAndSet`,
 * `putIfAbsent`, `put` and `delete` that stay correct across processes sharing it.
 *
 * `start()` creates the directory and removes temp files left by crashed writers; calls made
 * before it start the store on first use; calls after `stop()` throw `NotStartedError`.
 * `watch` reports the writes of this instance only.
 */
export class FileStore implements Store {
  /** Brand (see `isStore` of `@converge/core`). */
  readonly [STORE_BRAND] = true as const;
  readonly #o: ResolvedOptions;
  readonly #mutex = new KeyMutex();
  readonly #watchers: KeyWatchers;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #tempTag = `${HOST_TAG}-${process.pid}-${randomBytes(4).toString('hex')}`;
  #state: State = 'new';
  #starting?: Promise<void>;
  #dirSync?: DirSync;
  #pendingWrites = 0;
  #tempSeq = 0;

  constructor(options: FileStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new ConfigError('FileStore needs a directory: new FileStore({ dir })', { key: 'dir' });
    }
    this.#o = {
      dir: resolve(options.dir),
      fsync: options.fsync ?? true,
      lockStaleMs: atLeast(options.lockStaleMs, FILE_STORE_DEFAULT_LOCK_STALE_MS, 'lockStaleMs', 100),
      lockTimeoutMs: atLeast(options.lockTimeoutMs, FILE_STORE_DEFAULT_LOCK_TIMEOUT_MS, 'lockTimeoutMs', 0),
      maxRecordBytes: atLeast(options.maxRecordBytes, FILE_STORE_DEFAULT_MAX_RECORD_BYTES, 'maxRecordBytes', 64),
      maxPendingWrites: atLeast(options.maxPendingWrites, FILE_STORE_DEFAULT_MAX_PENDING_WRITES, 'maxPendingWrites', 1),
      tempStaleMs: atLeast(options.tempStaleMs, FILE_STORE_DEFAULT_TEMP_STALE_MS, 'tempStaleMs', 0),
      fileMode: options.fileMode ?? 0o600,
    };
    this.#watchers = new KeyWatchers(options.onWatchError);
  }

  /** The absolute directory of the store. */
  get dir(): string {
    return this.#o.dir;
  }

  /** Number of exceptions thrown by `watch` listeners so far. */
  get watchErrors(): number {
    return this.#watchers.failures;
  }

  /** Creates the directory, opens it for fsync and removes temp files of crashed writers. */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    if (this.#state === 'stopped') this.#state = 'new';
    if (!this.#starting) {
      this.#state = 'starting';
      this.#starting = this.#doStart().then(
        () => {
          this.#state = 'running';
          this.#starting = undefined;
        },
        (err: unknown) => {
          this.#state = 'new';
          this.#starting = undefined;
          throw err;
        },
      );
    }
    return this.#starting;
  }

  /** Waits for the calls in progress, then releases the directory handle. */
  async stop(): Promise<void> {
    if (this.#state === 'new' || this.#state === 'stopped') {
      this.#state = 'stopped';
      return;
    }
    if (this.#starting) await this.#starting.catch(() => undefined);
    this.#state = 'stopped';
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    const dirSync = this.#dirSync;
    this.#dirSync = undefined;
    await dirSync?.close();
    this.#watchers.clear();
  }

  /** The value at `key`, or `undefined`; a record that cannot be read throws `ERR_STORE_CORRUPT`. */
  async get<V = unknown>(key: string, options?: StoreCallOptions): Promise<V | undefined> {
    return (await this.getEntry<V>(key, options))?.value;
  }

  /** The value and revision at `key`, or `undefined`. */
  async getEntry<V = unknown>(key: string, options?: StoreCallOptions): Promise<StoreEntry<V> | undefined> {
    const { k, name } = this.#key(key);
    return this.#op(options, async () => {
      const rec = await this.#readLive(k, name);
      return rec ? { value: rec.value as V, revision: rec.revision } : undefined;
    });
  }

  /** Writes `value`; returns the new revision. */
  async put(key: string, value: unknown, options?: StoreCallOptions): Promise<number> {
    const { k, name } = this.#key(key);
    const prepared = this.#prepare(k, value);
    return this.#op(options, async () => (await this.#write(k, name, prepared, () => true, options?.signal)) as number);
  }

  /** Writes `value` only if `key` has none; returns whether it wrote. */
  async putIfAbsent(key: string, value: unknown, options?: StoreCallOptions): Promise<boolean> {
    const { k, name } = this.#key(key);
    const prepared = this.#prepare(k, value);
    return this.#op(options, async () => {
      // An existing record seen without the lock is already a valid answer: it was there.
      if (await this.#readLive(k, name)) return false;
      return (await this.#write(k, name, prepared, (current) => current === 0, options?.signal)) !== null;
    });
  }

  /** Writes only if the revision of `key` is `expectedRevision` (`0`: absent); new revision or `null`. */
  async compareAndSet(key: string, value: unknown, expectedRevision: number, options?: StoreCallOptions): Promise<number | null> {
    const { k, name } = this.#key(key);
    checkRevision(expectedRevision);
    const prepared = this.#prepare(k, value);
    return this.#op(options, async () => {
      // A lock-free read that shows another revision is a valid answer (the losers of a
      // claim race never touch the lock).
      if (((await this.#readLive(k, name))?.revision ?? 0) !== expectedRevision) return null;
      return this.#write(k, name, prepared, (current) => current === expectedRevision, options?.signal);
    });
  }

  /** Removes `key`, leaving a tombstone that fences its last revision; returns whether it existed. */
  async delete(key: string, options?: StoreCallOptions): Promise<boolean> {
    const { k, name } = this.#key(key);
    return this.#op(options, async () => {
      if (!(await this.#readLive(k, name))) return false;
      const deleted = await this.#exclusive(
        k,
        name,
        options?.signal,
        (observed) => (observed === 0 ? false : undefined),
        async (record) => {
          const current = await this.#readLive(k, name);
          if (!current) return false;
          // The fence is durable before the record goes, so a crash in between loses nothing.
          await this.#writeAtomic(k, `${name}.del`, encodeTombstone(current.revision));
          try {
            unlinkSync(this.#path(`${name}.rec`));
          } catch (err) {
            throw ioError(k, 'cannot remove record', err);
          }
          await this.#syncDir(k);
          record(0);
          return true;
        },
      );
      if (deleted) this.#watchers.emit(k);
      return deleted;
    });
  }

  /** Keys starting with `prefix`, sorted in code-unit order. Files not made by a FileStore are ignored. */
  async list(prefix = '', options?: StoreCallOptions): Promise<string[]> {
    if (typeof prefix !== 'string') throw new ValidationError('a list prefix is a string');
    return this.#op(options, async () => {
      let entries: Dirent[];
      try {
        entries = await readdir(this.#o.dir, { withFileTypes: true });
      } catch (err) {
        throw new StoreError(`cannot list ${this.#o.dir}: ${(err as Error).message}`, { code: 'ERR_STORE_IO', cause: err });
      }
      const keys: string[] = [];
      for (const d of entries) {
        const n = d.name;
        if (!n.endsWith('.rec') || n.startsWith('.') || !d.isFile()) continue;
        const k = decodeKeyName(n.slice(0, -4));
        if (k !== undefined && k.startsWith(prefix)) keys.push(k);
      }
      return keys.sort();
    });
  }

  /** Calls `listener` with every key this instance writes or deletes under `prefix`; returns the unsubscribe function. */
  watch(prefix: string, listener: (key: string) => void): () => void {
    return this.#watchers.add(String(prefix), listener);
  }

  // ---------------------------------------------------------------------------------------

  #key(key: string): { k: string; name: string } {
    const k = validateStoreKey(key, FILE_STORE_MAX_NAME_BYTES);
    const name = encodeKeyName(k);
    if (name.length > FILE_STORE_MAX_NAME_BYTES) {
      throw new InvalidKeyError(shorten(k), `its file name would be ${name.length} bytes, more than ${FILE_STORE_MAX_NAME_BYTES}`);
    }
    return { k, name };
  }

  #prepare(key: string, value: unknown): PreparedValue {
    const prepared = prepareValue(key, value);
    // The record adds a few dozen bytes of header to the value; the float list is tiny.
    if (prepared.bytes.byteLength + 64 > this.#o.maxRecordBytes) {
      throw new StoreError(`value of key ${JSON.stringify(key)} is ${prepared.bytes.byteLength} bytes, over the record limit of ${this.#o.maxRecordBytes}`, {
        key,
        code: 'ERR_STORE_VALUE_TOO_LARGE',
      });
    }
    return prepared;
  }

  #path(file: string): string {
    return join(this.#o.dir, file);
  }

  /** Runs one public call: starts the store if needed, tracks the call for `stop()`. */
  async #op<T>(options: StoreCallOptions | undefined, fn: () => Promise<T>): Promise<T> {
    throwIfAborted(options?.signal);
    if (this.#state !== 'running') {
      if (this.#state === 'stopped') throw new NotStartedError('FileStore is stopped');
      await this.start();
    }
    const p = fn();
    this.#inflight.add(p);
    try {
      return await p;
    } finally {
      this.#inflight.delete(p);
    }
  }

  /**
   * Holds the in-process mutex, then the file lock, of `key` while `fn` runs. When a write by
   * this process during the wait already decides the call (`settled(observed)` returns a
   * result), that result is returned without taking the file lock.
   */
  async #exclusive<T>(
    key: string,
    name: string,
    signal: AbortSignal | undefined,
    settled: (observed: number) => T | undefined,
    fn: (record: (revision: number) => void) => Promise<T>,
  ): Promise<T> {
    if (this.#pendingWrites >= this.#o.maxPendingWrites) {
      throw new StoreError(`${this.#pendingWrites} writes already pending (limit ${this.#o.maxPendingWrites})`, { key, code: 'ERR_STORE_BUSY' });
    }
    this.#pendingWrites++;
    try {
      return await this.#mutex.run(name, async (turn) => {
        if (turn.observed !== undefined) {
          const early = settled(turn.observed);
          if (early !== undefined) return early;
        }
        throwIfAborted(signal);
        const release = await acquireFileLock(this.#path(`${name}.lck`), {
          key,
          staleMs: this.#o.lockStaleMs,
          timeoutMs: this.#o.lockTimeoutMs,
          signal,
        });
        try {
          return await fn(turn.record);
        } finally {
          await release();
        }
      });
    } finally {
      this.#pendingWrites--;
    }
  }

  /**
   * Under the key's locks: reads the current revision, asks `accept` whether to write, and
   * writes the record at the next revision (above the tombstone's, if the key was deleted).
   */
  async #write(key: string, name: string, value: PreparedValue, accept: (current: number) => boolean, signal?: AbortSignal): Promise<number | null> {
    const revision = await this.#exclusive<number | null>(
      key,
      name,
      signal,
      (observed) => (accept(observed) ? undefined : null),
      async (record) => {
        const current = await this.#readLive(key, name);
        if (!accept(current?.revision ?? 0)) return null;
        const fence = current ? current.revision : await this.#readTombstone(key, name);
        const next = fence + 1;
        await this.#writeAtomic(key, `${name}.rec`, encodeRecord(next, value));
        // The record now carries the fence; the tombstone is no longer needed.
        if (!current && fence > 0) removeQuietly(this.#path(`${name}.del`));
        record(next);
        return next;
      },
    );
    if (revision !== null) this.#watchers.emit(key);
    return revision;
  }

  #readFile(key: string, file: string): Uint8Array | undefined {
    return readWholeFile(this.#path(file), key, file, this.#o.maxRecordBytes);
  }

  /** Atomic replacement of `file` (see `replaceFile`), then the directory fsync. */
  async #writeAtomic(key: string, file: string, bytes: Uint8Array): Promise<void> {
    const tmp = this.#path(`${TEMP_PREFIX}${this.#tempTag}-${++this.#tempSeq}`);
    await replaceFile(tmp, this.#path(file), bytes, { fsync: this.#o.fsync, mode: this.#o.fileMode, key, file });
    await this.#syncDir(key);
  }

  async #syncDir(key: string): Promise<void> {
    if (this.#o.fsync && this.#dirSync) await this.#dirSync.sync(key);
  }

  async #readLive(key: string, name: string): Promise<LiveRecord | undefined> {
    const file = `${name}.rec`;
    const bytes = this.#readFile(key, file);
    return bytes === undefined ? undefined : decodeRecord(bytes, key, file, this.#o.maxRecordBytes);
  }

  async #readTombstone(key: string, name: string): Promise<number> {
    const file = `${name}.del`;
    const bytes = this.#readFile(key, file);
    return bytes === undefined ? 0 : decodeTombstone(bytes, key, file, this.#o.maxRecordBytes);
  }

  async #doStart(): Promise<void> {
    const dir = this.#o.dir;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create ${dir}: ${(err as Error).message}`, { code: 'ERR_STORE_IO', cause: err });
    }
    if (this.#o.fsync) {
      try {
        this.#dirSync = new DirSync(await open(dir, 'r'));
      } catch {
        // Some platforms cannot open a directory; renames stay atomic, only the directory
        // entry's durability is then left to the file system.
        this.#dirSync = undefined;
      }
    }
    await removeLeftoverTemps(dir, TEMP_PREFIX, HOST_TAG, this.#o.tempStaleMs);
  }
}

function atLeast(v: number | undefined, fallback: number, name: string, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min) throw new ConfigError(`${name} must be a number >= ${min}, got ${String(v)}`, { key: name });
  return v;
}
