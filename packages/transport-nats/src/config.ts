import { ValidationError } from '@converge/core';
import { noopLogger, type Logger } from '@converge/core';
import {
  DEFAULT_CONNECT_ATTEMPTS,
  DEFAULT_FLUSH_WINDOW_BYTES,
  DEFAULT_NATS_MAX_MESSAGE_BYTES,
  DEFAULT_NATS_MAX_QUEUE,
  NATS_CONSUMER_DEFAULTS,
  NATS_STREAM_DEFAULTS,
  type NatsTransportOptions,
  type NatsTransportStats,
} from './options.js';
import { checkPrefix, defaultStreamName, isSubjectToken, subjectsFor, type Subjects } from './subjects.js';
import type { ConsumerSpec, StreamSpec } from './jetstream.js';
import { createInstruments, type Instruments } from './instruments.js';

/**
 * A `NatsTransport`'s options, checked and resolved once, plus its public counters: what the
 * session, publisher and receiver parts share. Internal (not exported by the package).
 */
export interface NatsConfig {
  readonly opts: NatsTransportOptions;
  readonly agentId: string;
  readonly subjectPrefix: string;
  readonly subjects: Subjects;
  /** The `maxMessageBytes` option (a session lowers it to the server's `max_payload`). */
  readonly maxMessageBytes: number;
  readonly maxQueue: number;
  readonly flushWindow: number;
  /** Whether directed messages go through JetStream. */
  readonly directedJs: boolean;
  readonly autoAck: boolean;
  readonly stream: StreamSpec | undefined;
  readonly consumer: ConsumerSpec | undefined;
  readonly logger: Logger;
  readonly metrics: Instruments;
  /** The transport's `stats` object (the same one, updated in place). */
  readonly stats: NatsTransportStats;
}

/** Checks `options` (throws `ValidationError`) and resolves every default. */
export function resolveConfig(options: NatsTransportOptions): NatsConfig {
  const o = options;
  if (!o || (typeof o.servers !== 'string' && !Array.isArray(o.servers)) || o.servers.length === 0) {
    throw new ValidationError('NatsTransport needs servers');
  }
  if (typeof o.agentId !== 'string' || !isSubjectToken(o.agentId)) {
    throw new ValidationError('agentId must be a non-empty string without whitespace, ".", "*" or ">"');
  }
  if (o.queueGroup !== undefined && !isSubjectToken(o.queueGroup)) throw new ValidationError('queueGroup is not a valid NATS queue name');
  if (o.durable !== undefined && !/^[A-Za-z0-9_-]+$/.test(o.durable)) throw new ValidationError('durable must match [A-Za-z0-9_-]+');
  const agentId = o.agentId;
  const subjectPrefix = checkPrefix(o.subjectPrefix ?? 'converge');
  const subjects = subjectsFor(subjectPrefix);
  const maxMessageBytes = positiveInt('maxMessageBytes', o.maxMessageBytes, DEFAULT_NATS_MAX_MESSAGE_BYTES);
  const maxQueue = positiveInt('maxQueue', o.maxQueue, DEFAULT_NATS_MAX_QUEUE);
  const flushWindow = positiveInt('flushWindowBytes', o.flushWindowBytes, DEFAULT_FLUSH_WINDOW_BYTES);
  positiveInt('connectAttempts', o.connectAttempts, DEFAULT_CONNECT_ATTEMPTS);
  const directedJs = (o.directed ?? (o.durable !== undefined ? 'jetstream' : 'core')) === 'jetstream';
  const autoAck = o.autoAck ?? true;
  const j = o.jetstream ?? {};
  let stream: StreamSpec | undefined;
  let consumer: ConsumerSpec | undefined;
  if (directedJs || o.durable !== undefined) {
    stream = {
      name: j.stream ?? defaultStreamName(subjectPrefix),
      subject: subjects.jsWildcard,
      maxBytes: positiveInt('jetstream.maxBytes', j.maxBytes, NATS_STREAM_DEFAULTS.maxBytes),
      maxAgeMs: positiveInt('jetstream.maxAgeMs', j.maxAgeMs, NATS_STREAM_DEFAULTS.maxAgeMs),
    };
  }
  if (o.durable !== undefined) {
    consumer = {
      durable: o.durable,
      filterSubject: subjects.jsAgent(agentId),
      ackWaitMs: positiveInt('jetstream.ackWaitMs', j.ackWaitMs, NATS_CONSUMER_DEFAULTS.ackWaitMs),
      maxAckPending: positiveInt('jetstream.maxAckPending', j.maxAckPending, NATS_CONSUMER_DEFAULTS.maxAckPending),
    };
    positiveInt('jetstream.pullBatch', j.pullBatch, NATS_CONSUMER_DEFAULTS.pullBatch);
  }
  return {
    opts: o,
    agentId,
    subjectPrefix,
    subjects,
    maxMessageBytes,
    maxQueue,
    flushWindow,
    directedJs,
    autoAck,
    stream,
    consumer,
    logger: o.logger ?? noopLogger,
    metrics: createInstruments(o.metrics),
    stats: { sent: 0, publishFailed: 0, received: 0, droppedQueueFull: 0, malformed: 0, droppedOnStop: 0, ownSkipped: 0, acked: 0, nakked: 0 },
  };
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new ValidationError(`${name} must be a positive integer`);
  return v;
}
