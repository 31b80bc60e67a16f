import type { Identity } from './identity.js';
import type { Message } from './message.js';
import type { Logger, Metrics } from './observability.js';

/**
 * Brand carried by every transport (`isTransport` checks it). A `Symbol.for` key, so the check
 * holds across duplicate copies of `@converge/core` in one process, where `instanceof` fails.
 */
export const TRANSPORT_BRAND: unique symbol = Symbol.for('@converge/transport') as never;

/** Options of a `receive` call. */
export interface ReceiveOptions {
  /** Gives up with `AbortError` when aborted. */
  signal?: AbortSignal;
  /** Gives up after this many ms: resolves `null` (nothing arrived in time). */
  timeoutMs?: number;
}

/** Options of a `send` call. */
export interface SendOptions {
  /** Gives up with `AbortError` when aborted while waiting (connect, backpressure). */
  signal?: AbortSignal;
}

/**
 * Moves messages between agents. Every implementation passes
 * `@converge/compliance/transport`.
 *
 * - `send` resolves once the message is accepted for delivery (queued at the recipient for
 *   in-process transports, written to the socket for network ones) and rejects with a typed
 *   error (`TransportError`, `FrameTooLargeError`, `NotStartedError`, `QueueFullError`) when it
 *   cannot be: nothing is dropped silently. A recipient the transport knows it cannot reach
 *   (no such agent on the hub, no route, no such connected client) is a `TransportError` with
 *   a `code`; only a side that cannot know may accept it (a publish to a broker subject nobody
 *   listens on; a client that hands everything to its server, which then decides).
 * - `receive` resolves with the next message, or `null` on timeout; `stop()` during a pending
 *   `receive` resolves it with `null`.
 * - Messages from one sender arrive in the order they were sent.
 * - The async iterator yields messages until `stop()`, then ends; `unsubscribe(ns)` stops the
 *   topic deliveries `subscribe(ns)` started.
 */
export interface Transport {
  /** Brand (see `isTransport`): `true` on every implementation. */
  readonly [TRANSPORT_BRAND]: true;
  /** Acquires resources (listening sockets, hub registration). Idempotent. */
  start(): Promise<void>;
  /** Releases every resource; pending receives resolve `null`. Idempotent. */
  stop(): Promise<void>;
  /** Sends a (normally signed) message. */
  send(message: Message, options?: SendOptions): Promise<void>;
  /** The next message, or `null` on timeout or stop. */
  receive(options?: ReceiveOptions): Promise<Message | null>;
  /**
   * Optional: the next message that has already arrived, without waiting (`null` if none).
   * Lets batch consumers (`receiveVerified` with a `VerifierPool`) gather what is queued.
   */
  tryReceive?(): Message | null;
  /** Messages until the transport stops. */
  [Symbol.asyncIterator](): AsyncIterator<Message>;
  /** Receive messages whose topics include this namespace (where the transport routes by topic). */
  subscribe?(namespace: string): void;
  /** Stop receiving messages for a namespace. */
  unsubscribe?(namespace: string): void;
  /** Whether `start()` has completed and `stop()` has not been called. */
  readonly started: boolean;
}

/** Whether `value` is a transport: an object carrying `TRANSPORT_BRAND` (no `instanceof`, so it holds across package copies). */
export function isTransport(value: unknown): value is Transport {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TRANSPORT_BRAND] === true;
}

/**
 * What a host (a node, the runtime, the CLI) hands a transport factory, in the js-libp2p shape:
 * `tcp(init)` returns a `TransportFactory`, called with these. The transport registers its own
 * metrics on `metrics` and logs through `logger`; both default to nothing (no-op).
 */
export interface TransportComponents {
  /** This node's identity: its fingerprint is the transport's agent id. */
  readonly identity: Identity;
  /** Where the transport logs (connection events, rejections). */
  readonly logger?: Logger;
  /** Where the transport registers its counters, gauges and histograms. */
  readonly metrics?: Metrics;
}

/** Builds a transport from its components (the second step of `tcp(init)(components)`). */
export type TransportFactory<T extends Transport = Transport> = (components: TransportComponents) => T;

/** The option fields a transport takes from its `TransportComponents` (`agentId` follows from `identity`). */
export type TransportComponentKey = 'identity' | 'agentId' | 'logger' | 'metrics';

/** Options of a transport plugin's `init` (`tcp(init)`): every field of its options `O` but the components. */
export type TransportInit<O> = Omit<O, TransportComponentKey>;

/**
 * The second step of a transport plugin in the js-libp2p shape: a factory that builds
 * `create({ ...init, identity, logger, metrics })` from the components it is called with.
 *
 * @example
 * ```ts
 * export function tcp(init: TcpInit = {}): TransportFactory<TcpTransport> {
 *   return transportFactory(init, (options) => new TcpTransport(options));
 * }
 * ```
 */
export function transportFactory<I extends object, T extends Transport>(init: I, create: (options: I & TransportComponents) => T): TransportFactory<T> {
  return (components: TransportComponents) =>
    create({
      ...init,
      identity: components.identity,
      logger: components.logger,
      metrics: components.metrics,
    });
}
