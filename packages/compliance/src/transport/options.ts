import type { Message } from '@converge/core';
import type { TransportBounds } from './bounds.js';
import type { TransportUnderTest as Transport } from './contract.js';

/** Two transports that can reach each other (and an optional third), made fresh for each test. */
export interface TransportPair {
  /** Sender side in most tests (not started). */
  a: Transport;
  /** Receiver side in most tests (not started). */
  b: Transport;
  /** The id (`recipient`) that reaches `a`. */
  aId: string;
  /** The id (`recipient`) that reaches `b`. */
  bId: string;
  /**
   * A third transport on the same network (not started), for the unsubscribe check: it stays
   * subscribed to a namespace `b` unsubscribed from, so the suite can see the message was routed
   * (a transport that falls back to broadcast when nobody subscribed would otherwise still
   * deliver it to `b`). Needed when `capabilities.topics` is on; started only by that check.
   */
  c?: Transport;
  /** The largest encoded message (`encodeMessage(m).byteLength`) the pair accepts. */
  maxMessageBytes: number;
  /** Called after both transports started (e.g. to tell `a` where `b` listens). */
  connect?: () => Promise<void>;
  /** Releases anything else the pair holds (hubs, servers). Called after every test. */
  cleanup?: () => Promise<void>;
}

/** What a transport supports beyond directed messages. */
export interface TransportCapabilities {
  /** A message without recipient and topics reaches the other agent (default `true`). */
  broadcast?: boolean;
  /** `subscribe`/`unsubscribe` route recipient-less messages by topic namespace (default `true`). */
  topics?: boolean;
  /**
   * Which side of the pair knows who it can reach, and so must refuse a `send` to an unknown
   * recipient with a typed error (`TransportError`) rather than resolve (default `'a'`).
   * `'b'` for a client whose server routes (a WebSocket client hands everything to its server,
   * which knows its clients). `false` only where no side can know: a broker's subjects (NATS
   * core: publishing to a subject nobody listens on is not an error); the suite then checks
   * that such a message reaches no one else and the transport keeps working.
   */
  refusesUnknownRecipient?: 'a' | 'b' | false;
  /**
   * A receiver that falls behind slows the sender (flow control) instead of dropping
   * messages, so a slow consumer still gets every message (default `false`: an in-process
   * queue or a broker without flow control may refuse or drop instead). Enables the
   * slow-consumer check; give `b` a small receive bound so that the check crosses it often.
   */
  backpressure?: boolean;
}

/** Options of `transportComplianceTests`. */
export interface TransportComplianceOptions {
  /** Suite title, e.g. `'LocalTransport'`. */
  name: string;
  /** Makes a fresh, unstarted pair. */
  createPair: () => Promise<TransportPair>;
  /** What the transport supports beyond directed messages; see `TransportCapabilities`. */
  capabilities?: TransportCapabilities;
  /**
   * One connect-then-immediately-close cycle, for the leak test (default: create a pair,
   * start, connect, stop both, cleanup). A network transport can open and close a real
   * connection here.
   */
  churn?: () => Promise<void>;
  /** Cycles of the leak test (default 1,000). */
  churnIterations?: number;
  /** Messages in the stress test (default 10,000). */
  stressCount?: number;
  /** Messages in the slow-consumer check (capability `backpressure`; default 20,000). */
  slowConsumerCount?: number;
  /** Applied to every message before it is sent (e.g. signing, for transports that verify). */
  prepare?: (message: Message) => Message;
  /** Extra listener counts that must return to their baseline after churn (e.g. a server's). */
  listenerCount?: () => number;
  /** How long the suite waits before it calls a transport hung (see `TransportBounds`). */
  bounds?: Partial<TransportBounds>;
}
