/**
 * A cross-process lock on one path: a directory created with `mkdir` (atomic on every local
 * file system and on NFS), removed on release. A holder refreshes its mtime every
 * `staleMs / 2`; a lock whose mtime is older than `staleMs` belongs to a process that died
 * and is taken over. Waiting uses jittered exponential backoff, bounded by `timeoutMs`.
 *
 * Known limit (as with `proper-lockfile`): if two waiters find the same stale lock at the same
 * instant, both may take it over. That needs a holder that died or stalled for `staleMs`.
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, StoreError } from '@converge/core';

/** Options of `acquireFileLock`. */
export interface FileLockOptions {
  /** Age after which an unrefreshed lock is considered abandoned, in ms. */
  staleMs: number;
  /** Longest wait for the lock before `ERR_STORE_LOCK_TIMEOUT`, in ms. */
  timeoutMs: number;
  /** Aborts the wait (not a held lock). */
  signal?: AbortSignal;
  /** The key, for error messages. */
  key: string;
}

/** Shortest and longest pause between two attempts, in ms. */
const MIN_BACKOFF_MS = 1;
const MAX_BACKOFF_MS = 20;

/** Takes the lock at `path`; resolves to the function that releases it. */
export async function acquireFileLock(path: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const { staleMs, timeoutMs, signal, key } = options;
  const started = Date.now();
  let backoff = MIN_BACKOFF_MS;
  for (;;) {
    // mkdir/stat/rmdir are synchronous: microseconds locally, where a thread-pool round trip
    // each would dominate the cost of a short critical section.
    try {
      mkdirSync(path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(key, 'cannot create lock', err);
    }
    const state = lockState(path, staleMs, key);
    if (state === 'gone') continue; // released meanwhile: try again at once
    if (state === 'stale') {
      try {
        rmdirSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(key, 'cannot remove a stale lock', err);
      }
      continue;
    }
    if (Date.now() - started >= timeoutMs) {
      throw new StoreError(`lock on key ${JSON.stringify(key)} not acquired within ${timeoutMs} ms`, { key, code: 'ERR_STORE_LOCK_TIMEOUT' });
    }
    try {
      await sleep(backoff * (0.5 + Math.random()), undefined, { signal });
    } catch (err) {
      throw new AbortError('the store call was aborted while waiting for a lock', { cause: signal?.reason ?? err });
    }
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  // Refresh the mtime while held, so that a slow disk is not mistaken for a dead holder.
  const refresh = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => {
        // The lock was taken over (we stalled past staleMs) or the directory is gone; the
        // operation in progress finishes either way and release() tolerates the absence.
      });
    },
    Math.max(1, Math.floor(staleMs / 2)),
  );
  refresh.unref();

  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    try {
      rmdirSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(key, 'cannot release lock', err);
    }
  };
}

// Never report 'stale' for a lock that vanished: removing whatever is at the path then
// would remove a lock another process has just taken.
function lockState(path: string, staleMs: number, key: string): 'held' | 'stale' | 'gone' {
  try {
    return Date.now() - statSync(path).mtimeMs > staleMs ? 'stale' : 'held';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw ioError(key, 'cannot inspect lock', err);
  }
}

/** An I/O failure: `StoreError` `ERR_STORE_IO`, naming the key. */
export function ioError(key: string, what: string, cause: unknown): StoreError {
  return new StoreError(`${what} for key ${JSON.stringify(key)}: ${(cause as Error)?.message ?? String(cause)}`, { key, code: 'ERR_STORE_IO', cause });
}
