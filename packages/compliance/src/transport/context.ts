import { createMessage, type Message, type MessageInit } from '@converge/core';
import { expect } from 'vitest';
import { ComplianceTimeoutError, DEFAULT_TRANSPORT_BOUNDS, rejectionOf, within, type TransportBounds } from './bounds.js';
import type { TransportUnderTest as Transport } from './contract.js';
import type { TransportCapabilities, TransportComplianceOptions, TransportPair } from './options.js';

/** What a check gets: the fresh pair, the options, and bounded helpers for waiting on it. */
export interface TransportCheckContext {
  /** The pair made for this check (teardown is the runner's). */
  readonly pair: TransportPair;
  /** The suite's options. */
  readonly options: TransportComplianceOptions;
  /** Capabilities with their defaults applied. */
  readonly caps: Required<TransportCapabilities>;
  /** Bounds with their defaults applied. */
  readonly bounds: TransportBounds;
  /** A prepared message from `a` to `b` (fields of `init` override). */
  msg(init: MessageInit): Message;
  /** A prepared message from `sender` to `recipient`. */
  msgFrom(sender: string, recipient: string | null, init: MessageInit): Message;
  /** Starts `b`, then `a`, then calls `connect`, each bounded. */
  start(): Promise<void>;
  /** `within(promise, bounds.settleMs, defect)`. */
  settle<T>(promise: Promise<T>, defect: string): Promise<T>;
  /**
   * Waits (bounded, failing with `defect`) for `promise` to reject, then asserts the error
   * matches `shape`. A timeout fails with the bound's message, not as a mismatch.
   */
  expectRejects(promise: Promise<unknown>, defect: string, shape: Record<string, unknown>): Promise<void>;
  /**
   * One `t.receive({ timeoutMs: bounds.receiveMs })`: the message or null, failing with a defect
   * naming `where` (e.g. `'in the receiver loop'`) when the transport ignores its timeout.
   */
  receiveBounded(t: Transport, where: string): Promise<Message | null>;
  /** The next message at `t`; fails naming `what` if none arrives within `bounds.receiveMs`. */
  expectMessage(t: Transport, what: string): Promise<Message>;
  /** Fails naming `what` if `t` receives anything within `windowMs`. */
  expectNothing(t: Transport, windowMs: number, what: string): Promise<void>;
}

/** The options' capabilities with defaults applied. */
export function resolveCapabilities(options: TransportComplianceOptions): Required<TransportCapabilities> {
  return { broadcast: true, topics: true, refusesUnknownRecipient: 'a', backpressure: false, ...options.capabilities };
}

/** The options' bounds with defaults applied. */
export function resolveBounds(options: TransportComplianceOptions): TransportBounds {
  return { ...DEFAULT_TRANSPORT_BOUNDS, ...options.bounds };
}

/** Makes the context of one check run over `pair`. */
export function checkContext(options: TransportComplianceOptions, pair: TransportPair): TransportCheckContext {
  const caps = resolveCapabilities(options);
  const bounds = resolveBounds(options);
  const prepare = options.prepare ?? ((m: Message) => m);
  const settle = <T>(p: Promise<T>, defect: string): Promise<T> => within(p, bounds.settleMs, defect);
  const msgFrom = (sender: string, recipient: string | null, init: MessageInit): Message => prepare(createMessage({ sender, recipient, ...init }));
  // The transport's own timeout should end the wait; the outer bound catches one that ignores it.
  const receiveBounded = (t: Transport, where: string): Promise<Message | null> => {
    const ms = bounds.receiveMs;
    return within(t.receive({ timeoutMs: ms }), ms + bounds.settleMs, `receive({ timeoutMs: ${ms} }) did not settle ${where}: the transport ignores timeoutMs`);
  };
  return {
    pair,
    options,
    caps,
    bounds,
    settle,
    msgFrom,
    receiveBounded,
    msg: (init) => msgFrom(pair.aId, pair.bId, init),
    async start() {
      await settle(pair.b.start(), 'b.start() did not settle');
      await settle(pair.a.start(), 'a.start() did not settle');
      if (pair.connect) await settle(pair.connect(), 'connect() did not settle');
    },
    async expectRejects(promise, defect, shape) {
      const err = await rejectionOf(settle(promise, defect), `expected a rejection matching ${JSON.stringify(shape)}, but it resolved (${defect})`);
      if (err instanceof ComplianceTimeoutError) throw err;
      expect(err).toMatchObject(shape);
    },
    async expectMessage(t, what) {
      const got = await receiveBounded(t, `while waiting for ${what}`);
      if (got === null) throw new Error(`${what} did not arrive within ${bounds.receiveMs} ms`);
      return got;
    },
    async expectNothing(t, windowMs, what) {
      const got = await within(
        t.receive({ timeoutMs: windowMs }),
        windowMs + bounds.settleMs,
        `receive({ timeoutMs: ${windowMs} }) did not settle: the transport ignores timeoutMs`,
      );
      if (got !== null) throw new Error(`${what} (received message ${got.id})`);
    },
  };
}
