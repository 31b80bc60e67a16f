// The connection lifecycle of a NatsTransport: connect (with retries), subscribe, set up
// JetStream, watch the connection status, and drain/close on stop. Everything one start holds
// lives in a `Session`, replaced as a whole on the next start.
import { AbortError, TransportError, ValidationError, type Message } from '@converge/core';
import { AsyncQueue } from '@converge/network/internal';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import {
  DEFAULT_CONNECT_ATTEMPTS,
  DEFAULT_CONNECT_RETRY_DELAY_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_RECONNECT_ATTEMPTS,
  DEFAULT_PULL_BATCH,
  DEFAULT_RECONNECT_TIME_WAIT_MS,
} from './options.js';
import { ensureConsumer, ensureStream, PullLoop } from './jetstream.js';
import type { NatsConfig } from './config.js';
import type { Publisher } from './publisher.js';
import type { Receiver } from './receiver.js';
import { noop, publishError, RESOLVED } from './shared.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything a started transport holds; replaced as a whole on each start. */
export interface Session {
  nc: NatsConnection;
  queue: AsyncQueue<Message>;
  js: JetStreamClient | undefined;
  /** The largest encoded message `send` accepts (the option, lowered to the server's `max_payload`). */
  limit: number;
  topicSubs: Map<string, Subscription>;
  pull: PullLoop | undefined;
  // JetStream messages queued but not yet handed out, and handed out but not yet acked.
  inQueue: WeakMap<Message, JsMsg>;
  unacked: Map<string, JsMsg>;
  roomWaiter: (() => void) | undefined;
  statusLoop: Promise<void>;
  unflushed: number;
  flushing: Promise<void> | undefined;
  // Publishes coalesced until the next macrotask (see Publisher), as parallel arrays.
  batchSubjects: string[];
  batchData: Uint8Array[];
  batchScheduled: boolean;
  // A publish that failed after its send resolved: the next send rejects with it.
  deferredError: TransportError | undefined;
  stopping: boolean;
}

async function connectWithRetry(cfg: NatsConfig, signal: AbortSignal | undefined): Promise<NatsConnection> {
  const o = cfg.opts;
  const attempts = o.connectAttempts ?? DEFAULT_CONNECT_ATTEMPTS;
  let last: unknown;
  for (let i = 1; i <= attempts; i++) {
    if (signal?.aborted) throw new AbortError('NATS connect aborted', { cause: signal.reason });
    try {
      return await connect({
        servers: o.servers,
        name: o.name ?? `converge-${cfg.agentId}`,
        timeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        maxReconnectAttempts: o.maxReconnectAttempts ?? DEFAULT_MAX_RECONNECT_ATTEMPTS,
        reconnectTimeWait: o.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_TIME_WAIT_MS,
      });
    } catch (err) {
      last = err;
      cfg.logger?.warn({ attempt: i, attempts, err: (err as Error)?.message }, 'NATS connection attempt failed');
      if (i < attempts) await sleep(o.connectRetryDelayMs ?? DEFAULT_CONNECT_RETRY_DELAY_MS);
    }
  }
  throw new TransportError(`cannot connect to NATS at ${String(o.servers)} after ${attempts} attempts`, { code: 'ERR_CONNECT', cause: last });
}

/**
 * Connects, subscribes (directed, broadcast, and each of `namespaces`), and in JetStream mode
 * ensures the stream and durable consumer and starts pulling. Resolves once the server has
 * registered the subscriptions; on failure, closes what it opened and rejects.
 */
export async function openSession(cfg: NatsConfig, receiver: Receiver, namespaces: Iterable<string>, signal: AbortSignal | undefined): Promise<Session> {
  const nc = await connectWithRetry(cfg, signal);
  const serverMax = nc.info?.max_payload ?? cfg.maxMessageBytes;
  if (serverMax < cfg.maxMessageBytes) {
    cfg.logger?.warn({ maxMessageBytes: cfg.maxMessageBytes, serverMaxPayload: serverMax }, 'maxMessageBytes lowered to the server max_payload');
  }
  const s: Session = {
    nc,
    queue: new AsyncQueue<Message>({ maxSize: cfg.maxQueue, overflow: 'reject' }),
    js: undefined,
    limit: Math.min(cfg.maxMessageBytes, serverMax),
    topicSubs: new Map(),
    pull: undefined,
    inQueue: new WeakMap(),
    unacked: new Map(),
    roomWaiter: undefined,
    statusLoop: RESOLVED,
    unflushed: 0,
    flushing: undefined,
    batchSubjects: [],
    batchData: [],
    batchScheduled: false,
    deferredError: undefined,
    stopping: false,
  };
  s.statusLoop = watchStatus(cfg, s);
  try {
    nc.subscribe(cfg.subjects.agent(cfg.agentId), { callback: (_e, m) => receiver.onDirected(s, m) });
    nc.subscribe(cfg.subjects.broadcast, { callback: (_e, m) => receiver.onShared(s, m, undefined) });
    for (const ns of namespaces) subscribeTopic(cfg, receiver, s, ns);
    if (cfg.stream) {
      const jsm = await ensureStream(nc, cfg.stream);
      s.js = jetstream(nc);
      if (cfg.consumer) {
        await ensureConsumer(jsm, cfg.stream.name, cfg.consumer);
        const consumer = await s.js.consumers.get(cfg.stream.name, cfg.consumer.durable);
        const batch = cfg.opts.jetstream?.pullBatch ?? DEFAULT_PULL_BATCH;
        const messages = await consumer.consume({ max_messages: batch });
        s.pull = new PullLoop(messages, {
          accept: (jm) => receiver.onPulled(s, jm),
          hasRoom: () => s.queue.hasRoom(1),
          waitForRoom: () =>
            new Promise<void>((r) => {
              s.roomWaiter = r;
            }),
          failed: (err) => cfg.logger?.error({ err: (err as Error)?.message }, 'JetStream pull loop failed'),
        });
      }
    }
    await nc.flush();
  } catch (err) {
    s.stopping = true;
    s.queue.close();
    await s.pull?.stop();
    await nc.close().catch(noop);
    await s.statusLoop;
    throw TransportError.is(err) || ValidationError.is(err) ? err : publishError(err, 'NATS start failed');
  }
  return s;
}

/** Subscribes the session to one topic namespace (in `queueGroup` when set). */
export function subscribeTopic(cfg: NatsConfig, receiver: Receiver, s: Session, ns: string): void {
  const sub = s.nc.subscribe(cfg.subjects.topic(ns), {
    queue: cfg.opts.queueGroup,
    callback: (_e, m) => receiver.onShared(s, m, ns),
  });
  s.topicSubs.set(ns, sub);
}

// Logs and counts status events until the connection closes; an unexpected close closes the
// receive queue, so pending receives resolve `null` instead of waiting forever.
async function watchStatus(cfg: NatsConfig, s: Session): Promise<void> {
  const closed = s.nc.closed().then((err) => {
    if (s.stopping) return;
    cfg.logger?.error({ err: err instanceof Error ? err.message : undefined }, 'NATS connection closed unexpectedly');
    cfg.metrics.event('closed');
    s.queue.close();
  });
  for await (const st of s.nc.status()) {
    if (st.type === 'ping') continue;
    cfg.metrics.event(st.type);
    if (st.type === 'disconnect' || st.type === 'staleConnection' || st.type === 'slowConsumer' || st.type === 'error') {
      cfg.logger?.warn(
        { event: st.type, ...('server' in st ? { server: st.server } : {}), ...('error' in st ? { err: st.error.message } : {}) },
        'NATS status',
      );
    } else {
      cfg.logger?.info({ event: st.type, ...('server' in st ? { server: st.server } : {}) }, 'NATS status');
    }
  }
  await closed;
}

/**
 * Stops a session: marks it stopping (synchronously, so no further send or receive gets in),
 * publishes what is batched, drops the queued core-NATS messages, stops pulling, then drains
 * and closes the connection.
 */
export async function closeSession(s: Session, publisher: Publisher, receiver: Receiver): Promise<void> {
  s.stopping = true;
  publisher.publishBatch(s);
  const left = s.queue.drain();
  s.queue.close();
  s.roomWaiter?.();
  await s.pull?.stop();
  // Queued and handed-out-but-un-acked JetStream messages are left un-acked: the server
  // redelivers them after the consumer's ack wait. (A nak here is not safe: the server may
  // route the redelivery to this connection's pull request, which outlives the iterator.)
  let dropped = 0;
  for (const m of left) if (!s.inQueue.has(m)) dropped++;
  s.unacked.clear();
  if (dropped > 0) receiver.countDrop('stopped', dropped);
  try {
    await s.nc.drain();
  } catch {
    await s.nc.close().catch(noop);
  }
  await s.statusLoop;
}
