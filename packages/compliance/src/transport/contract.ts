import type { Message } from '@converge/core';

/**
 * What the suite needs of a transport: `@converge/network`'s `Transport` contract, stated here
 * structurally so that this package depends on core only (network's own tests run this suite,
 * so depending on network would make a workspace cycle and break `pnpm -r build`). Every
 * `Transport` satisfies it; see network's `Transport` for the documented semantics.
 */
export interface TransportUnderTest {
  /** Acquires resources. Idempotent. */
  start(): Promise<void>;
  /** Releases every resource; pending receives resolve `null`. Idempotent. */
  stop(): Promise<void>;
  /** Sends a message; rejects with a typed error when it cannot (an unknown recipient: `TransportError`). */
  send(message: Message, options?: { signal?: AbortSignal }): Promise<void>;
  /** The next message, or `null` on timeout or stop; `AbortError` on abort. */
  receive(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Message | null>;
  /** The next message already waiting, without blocking, or `null` (optional). */
  tryReceive?(): Message | null;
  /** Messages until the transport stops (it must not end while the transport runs). */
  [Symbol.asyncIterator](): AsyncIterator<Message>;
  /** Receive messages whose topics include this namespace. */
  subscribe?(namespace: string): void;
  /** Stop receiving messages for a namespace. */
  unsubscribe?(namespace: string): void;
  /** Whether `start()` has completed and `stop()` has not been called. */
  readonly started: boolean;
}
