/** Small async helpers of the runtime loop. */
import { setTimeout as delay } from 'node:timers/promises';

/** A stable, non-negative hash of a string (spreads agents over a task list). */
export function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

/** Resolves `true` if `p` settled within `ms`, `false` otherwise. */
export async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (an abort ends the wait; it is not an error here). */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

/** Yields to the event loop until `cond()` is false. */
export async function waitUntilNot(cond: () => boolean): Promise<void> {
  while (cond()) await new Promise<void>((resolve) => setImmediate(resolve));
}
