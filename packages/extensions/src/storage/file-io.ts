/**
 * The file-system primitives of FileStore: whole-file reads, atomic replacement, a shared
 * (group-commit) directory fsync and the removal of temp files left by crashed writers.
 *
 * Small metadata calls (open, read, write, close, rename, unlink) are synchronous on purpose:
 * on a local disk they take microseconds, where a thread-pool round trip each would dominate a
 * short critical section under load. The fsyncs, which can take milliseconds, run async.
 */
import { closeSync, fdatasync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StoreError } from '@converge/core';
import { ioError } from './file-lock.js';
import { corrupt } from './record.js';

const fdatasyncAsync = promisify(fdatasync);

/** Reads the whole file at `path`, or `undefined` when there is none. Bigger than `maxBytes` is corrupt. */
export function readWholeFile(path: string, key: string, file: string, maxBytes: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(key, `cannot open ${file}`, err);
  }
  try {
    const { size } = fstatSync(fd);
    if (size > maxBytes) throw corrupt(key, file, `${size} bytes, over the record limit of ${maxBytes}`);
    // A fresh, unpooled Uint8Array: decoded byte strings are views into it, and must be
    // neither Buffers nor windows onto a shared pool slab.
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } catch (err) {
    if (StoreError.is(err)) throw err;
    throw ioError(key, `cannot read ${file}`, err);
  } finally {
    closeQuietly(fd);
  }
}

/** Options of `replaceFile`. */
export interface ReplaceOptions {
  /** fsync the temp file's data before the rename. */
  fsync: boolean;
  /** Permission bits of the new file. */
  mode: number;
  /** Key and file name, for errors. */
  key: string;
  /** Name of the target, for errors. */
  file: string;
}

/**
 * Writes `bytes` to the new file `tmp` (which must not exist), fsyncs it, and renames it over
 * `target`. On failure the temp file is removed and `ERR_STORE_IO` thrown; `target` is intact.
 * The caller fsyncs the directory to make the rename durable.
 */
export async function replaceFile(tmp: string, target: string, bytes: Uint8Array, o: ReplaceOptions): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', o.mode);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off, off);
    if (o.fsync) await fdatasyncAsync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    removeQuietly(tmp);
    throw ioError(o.key, `cannot write ${o.file}`, err);
  }
}

/**
 * fsync of one directory, shared (group commit): a caller joins the sync that has not started
 * yet, since it will cover its rename; a sync already running may not, so the next one starts
 * when it ends. N concurrent writers cost about two directory fsyncs, not N.
 */
export class DirSync {
  readonly #handle: FileHandle;
  #queued?: Promise<void>;
  #running?: Promise<void>;

  /** `handle` is the directory opened for reading. */
  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Resolves once an fsync of the directory that started after this call has finished. */
  async sync(key: string): Promise<void> {
    if (!this.#queued) {
      const previous = this.#running;
      let next: Promise<void> | undefined = undefined;
      next = (async () => {
        // Always yield first, so that `#queued` is set before it is cleared below.
        if (previous) await previous.catch(() => undefined);
        else await Promise.resolve();
        if (this.#queued === next) this.#queued = undefined;
        const running = this.#handle.sync();
        this.#running = running;
        try {
          await running;
        } finally {
          if (this.#running === running) this.#running = undefined;
        }
      })();
      this.#queued = next;
    }
    const joined = this.#queued;
    try {
      await joined;
    } catch (err) {
      throw ioError(key, 'cannot fsync the directory', err);
    }
  }

  /** Closes the directory handle. */
  async close(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}

/**
 * Removes the temp files (`<prefix><hostTag>-<pid>-…`) in `dir` whose writer is a dead process
 * on this host, and any older than `staleMs` (a writer on another host, or a reused pid).
 */
export async function removeLeftoverTemps(dir: string, prefix: string, hostTag: string, staleMs: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new StoreError(`cannot list ${dir}: ${(err as Error).message}`, { code: 'ERR_STORE_IO', cause: err });
  }
  const now = Date.now();
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const [host, pid] = n.slice(prefix.length).split('-');
    let remove = host === hostTag && pid !== undefined && !isAlive(Number(pid));
    if (!remove) {
      try {
        remove = now - (await stat(join(dir, n))).mtimeMs > staleMs;
      } catch {
        continue; // gone already
      }
    }
    if (remove) removeQuietly(join(dir, n));
  }
}

/** Closes `fd`, ignoring errors (nothing left to lose after a read or a failed write). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // See above.
  }
}

/** Unlinks `path`, ignoring errors (already gone, or left for the next start() to clean). */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // See above.
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
