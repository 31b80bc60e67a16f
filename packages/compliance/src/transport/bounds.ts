/**
 * A check that waits on the transport under test gets its own time bound, so a transport that
 * never settles (a pending receive left hanging by `stop()`, an ignored abort signal or
 * `timeoutMs`) fails with a message naming the defect instead of the test runner's timeout.
 */

/** How long the suite waits for the transport, in ms. */
export interface TransportBounds {
  /** Longest wait for a message that was sent (default 10,000). */
  receiveMs: number;
  /** Longest wait for an operation that must settle promptly: start, stop, abort, a short timeout (default 5,000). */
  settleMs: number;
}

/** The default bounds (generous: they are hang guards, not performance goals). */
export const DEFAULT_TRANSPORT_BOUNDS: TransportBounds = { receiveMs: 10_000, settleMs: 5_000 };

/** A transport operation did not settle within the suite's bound; `message` names the defect. */
export class ComplianceTimeoutError extends Error {
  /** What the transport failed to do. */
  readonly defect: string;
  /** The bound that passed, in ms. */
  readonly boundMs: number;

  constructor(defect: string, boundMs: number) {
    super(`${defect} (nothing settled within ${boundMs} ms)`);
    this.name = 'ComplianceTimeoutError';
    this.defect = defect;
    this.boundMs = boundMs;
  }
}

/**
 * `promise`'s outcome, or a `ComplianceTimeoutError` naming `defect` when it has not settled
 * after `ms`. The timer is cleared as soon as the promise settles (no handle is left behind).
 */
export function within<T>(promise: Promise<T>, ms: number, defect: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ComplianceTimeoutError(defect, ms)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** The error `promise` rejects with, or an `Error` saying `resolvedMessage` if it resolves. */
export async function rejectionOf(promise: Promise<unknown>, resolvedMessage: string): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error(resolvedMessage);
}
