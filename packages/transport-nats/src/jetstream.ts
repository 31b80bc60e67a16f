import { ConfigError, TransportError } from '@converge/core';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';

const NS_PER_MS = 1_000_000;

/** Stream settings resolved from the options. */
export interface StreamSpec {
  name: string;
  subject: string;
  maxBytes: number;
  maxAgeMs: number;
}

/** Consumer settings resolved from the options. */
export interface ConsumerSpec {
  durable: string;
  filterSubject: string;
  ackWaitMs: number;
  maxAckPending: number;
}

/**
 * The JetStream settings of a durable pull consumer with explicit acks over the whole stream
 * (shared by the transport's consumer and the task queue's pool consumers).
 */
export function pullConsumerConfig(spec: ConsumerSpec): Partial<ConsumerConfig> {
  return {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: spec.filterSubject,
    ack_wait: spec.ackWaitMs * NS_PER_MS,
    max_ack_pending: spec.maxAckPending,
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; code?: number; api_error?: { code?: number } };
  return e?.name === 'StreamNotFoundError' || e?.name === 'ConsumerNotFoundError' || e?.api_error?.code === 404 || e?.code === 404;
}

/** Creates the stream when missing; checks that an existing one captures our subjects. */
export async function ensureStream(nc: NatsConnection, spec: StreamSpec): Promise<JetStreamManager> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    throw new TransportError('JetStream is not available on this server', { code: 'ERR_JETSTREAM', cause: err });
  }
  try {
    const info = await jsm.streams.info(spec.name);
    if (!info.config.subjects?.includes(spec.subject)) {
      throw new ConfigError(`stream ${spec.name} exists without subject ${spec.subject}`, { key: 'jetstream.stream' });
    }
    return jsm;
  } catch (err) {
    if (!isNotFound(err)) {
      if (ConfigError.is(err)) throw err;
      throw new TransportError(`cannot read stream ${spec.name}`, { code: 'ERR_JETSTREAM', cause: err });
    }
  }
  try {
    await jsm.streams.add({
      name: spec.name,
      subjects: [spec.subject],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_bytes: spec.maxBytes,
      max_age: spec.maxAgeMs * NS_PER_MS,
    });
  } catch (err) {
    // Another transport may have created it at the same moment.
    try {
      await jsm.streams.info(spec.name);
    } catch {
      throw new TransportError(`cannot create stream ${spec.name}`, { code: 'ERR_JETSTREAM', cause: err });
    }
  }
  return jsm;
}

/** Creates the durable pull consumer when missing. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, spec: ConsumerSpec): Promise<void> {
  try {
    await jsm.consumers.info(stream, spec.durable);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw new TransportError(`cannot read consumer ${spec.durable}`, { code: 'ERR_JETSTREAM', cause: err });
  }
  try {
    await jsm.consumers.add(stream, pullConsumerConfig(spec));
  } catch (err) {
    throw new TransportError(`cannot create consumer ${spec.durable}`, { code: 'ERR_JETSTREAM', cause: err });
  }
}

/** Hooks the pull loop calls. */
export interface PullSink {
  /** Takes a pulled message; returns false when it was not queued (malformed: terminated). */
  accept(jm: JsMsg): boolean;
  /** Resolves when the receive queue has room again (or the transport stops). */
  waitForRoom(): Promise<void>;
  /** Whether the queue has room for one more message. */
  hasRoom(): boolean;
  /** Reports a failure of the loop. */
  failed(err: unknown): void;
}

/**
 * Pulls from a durable consumer into the receive queue. When the queue is full the loop stops
 * taking messages from the iterator, so nats.js stops issuing pull requests: no message is
 * dropped, the server keeps it.
 */
export class PullLoop {
  readonly #messages: ConsumerMessages;
  readonly done: Promise<void>;
  #stopped = false;

  constructor(messages: ConsumerMessages, sink: PullSink) {
    this.#messages = messages;
    this.done = this.#run(sink);
  }

  async #run(sink: PullSink): Promise<void> {
    try {
      for await (const jm of this.#messages) {
        while (!sink.hasRoom() && !this.#stopped) await sink.waitForRoom();
        if (this.#stopped) continue; // left un-acked: redelivered after the ack wait
        sink.accept(jm);
      }
    } catch (err) {
      if (!this.#stopped) sink.failed(err);
    }
  }

  /** Stops pulling; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    try {
      await this.#messages.close();
    } catch {
      // closing a consumer whose connection is gone: nothing left to release
    }
    await this.done;
  }
}
