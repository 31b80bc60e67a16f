// The work-queue stream of a queue, and the durable pull consumer of one pool: created with
// this client's settings, checked when it already exists (another client's, or an older
// version's with the former 120 s ack wait).
import { ConfigError, StoreError } from '@converge/core';
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { pullConsumerConfig, type ConsumerSpec } from '../jetstream.js';
import { JETSTREAM_QUEUE_DEFAULT_DUPLICATE_WINDOW_MS } from './config.js';

const NS_PER_MS = 1_000_000;

/**
 * Creates the queue's work-queue stream when missing: `<subjects>.t.*` (a subject per pool) and
 * `<subjects>.dlq.*` (dead letters), at most `maxTasks` messages (a full stream refuses a
 * submit), the `Nats-Msg-Id` duplicate window. `StoreError` when it cannot be created.
 */
export async function ensureWorkStream(jsm: JetStreamManager, spec: { stream: string; subjects: string; maxTasks: number }): Promise<void> {
  const { stream, subjects } = spec;
  if (
    await jsm.streams.info(stream).then(
      () => true,
      () => false,
    )
  )
    return;
  try {
    await jsm.streams.add({
      name: stream,
      subjects: [`${subjects}.t.*`, `${subjects}.dlq.*`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      max_msgs: spec.maxTasks,
      discard: DiscardPolicy.New,
      duplicate_window: JETSTREAM_QUEUE_DEFAULT_DUPLICATE_WINDOW_MS * NS_PER_MS,
    });
  } catch (err) {
    // Another client may have created it at the same moment.
    await jsm.streams.info(stream).catch(() => {
      throw new StoreError(`cannot create stream ${stream}: ${(err as Error).message}`, { cause: err });
    });
  }
}

/** The settings of a pool consumer this client creates and checks. */
export interface PoolConsumerSpec extends ConsumerSpec {
  stream: string;
  /** `'error'`: `ConfigError` on a consumer with other settings; `'update'`: change it to these. */
  onMismatch: 'error' | 'update';
}

/** Checks the `onConsumerMismatch` option (default `'error'`; `ConfigError` for anything else). */
export function mismatchMode(v: 'error' | 'update' | undefined): 'error' | 'update' {
  if (v === undefined || v === 'error' || v === 'update') return v ?? 'error';
  throw new ConfigError("onConsumerMismatch must be 'error' or 'update'", { key: 'onConsumerMismatch' });
}

/** What differs between `found` and the settings every client of a queue must share (one phrase each). */
function differences(spec: PoolConsumerSpec, found: ConsumerConfig): string[] {
  const out: string[] = [];
  const ackWaitMs = Math.round((found.ack_wait ?? 0) / NS_PER_MS);
  if (ackWaitMs !== spec.ackWaitMs) out.push(`ack_wait ${ackWaitMs} ms (this client: ${spec.ackWaitMs} ms)`);
  if (found.max_ack_pending !== spec.maxAckPending) out.push(`max_ack_pending ${found.max_ack_pending} (this client: ${spec.maxAckPending})`);
  if (found.filter_subject !== spec.filterSubject) out.push(`filter_subject ${found.filter_subject} (this client: ${spec.filterSubject})`);
  if (found.ack_policy !== AckPolicy.Explicit) out.push(`ack_policy ${found.ack_policy} (this client: explicit)`);
  return out;
}

/**
 * Creates the pool consumer, or checks the one that exists (read first: a server before 2.10
 * silently rewrites an existing consumer's settings on create). One that exists with other
 * settings fails with `ConfigError` (key `ackWaitMs`) naming what differs, or
 * (`onMismatch: 'update'`) is updated to these. `StoreError` when the server cannot be asked.
 * Two clients with different settings creating the same consumer at the very same moment are
 * not told apart on such a server (the later create wins); 2.10 refuses the later one, which is
 * then read and reported here.
 */
export async function ensurePoolConsumer(jsm: JetStreamManager, spec: PoolConsumerSpec): Promise<void> {
  const config = { ...pullConsumerConfig(spec), max_deliver: -1 } as ConsumerConfig;
  let found = await jsm.consumers.info(spec.stream, spec.durable).catch(() => null);
  if (!found) {
    try {
      await jsm.consumers.add(spec.stream, config);
      return;
    } catch (err) {
      found = await jsm.consumers.info(spec.stream, spec.durable).catch(() => null);
      if (!found || differences(spec, found.config).length === 0) {
        throw new StoreError(`cannot create consumer ${spec.durable}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  const diff = differences(spec, found.config);
  if (diff.length === 0) return;
  if (spec.onMismatch === 'update') {
    await jsm.consumers.update(spec.stream, spec.durable, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending }).catch((err: unknown) => {
      throw new StoreError(`cannot update consumer ${spec.durable}: ${(err as Error).message}`, { cause: err });
    });
    return;
  }
  throw new ConfigError(
    `consumer ${spec.durable} of stream ${spec.stream} exists with other settings: ${diff.join(', ')}. Give every client of the queue the same ` +
      `ackWaitMs / defaults.leaseMs / maxAckPending, or open this one with onConsumerMismatch: 'update'`,
    { key: 'ackWaitMs' },
  );
}
