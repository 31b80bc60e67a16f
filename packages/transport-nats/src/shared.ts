// Small helpers the transport's parts share.
import { TransportError } from '@converge/core';

/** An already-resolved promise (lets hot paths return without allocating). */
export const RESOLVED: Promise<void> = Promise.resolve();
/** Does nothing (a `catch` handler for rejections observed elsewhere). */
export const noop = (): void => {};

/**
 * Maps a nats.js failure to a `TransportError`: `ERR_CONNECTION_CLOSED` (closed or draining
 * connection), `ERR_NO_RESPONDERS`, else `ERR_TRANSPORT`. A `TransportError` passes as is.
 */
export function publishError(err: unknown, what: string): TransportError {
  if (TransportError.is(err)) return err;
  const name = (err as { name?: string })?.name;
  const code =
    name === 'ClosedConnectionError' || name === 'DrainingConnectionError'
      ? 'ERR_CONNECTION_CLOSED'
      : name === 'NoRespondersError'
        ? 'ERR_NO_RESPONDERS'
        : 'ERR_TRANSPORT';
  return new TransportError(`${what}: ${(err as Error)?.message ?? String(err)}`, { code, cause: err });
}
