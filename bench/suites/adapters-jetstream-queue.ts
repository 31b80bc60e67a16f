// adapters.jetstream_claim_report: JetStreamTaskQueue claim + report cycles per second, 4 workers
//   sharing one queue (one connection), against the local server (127.0.0.1:4222).
// raw.jetstream_fetch_ack: its baseline, written here: a bare no-wait fetch of one message from a
//   durable pull consumer on a work-queue stream (20 ms expiry, as the adapter's), then its ack,
//   same 4 workers, one connection, same client options.
// Both run on fresh streams that are deleted afterwards.
import { randomBytes } from 'node:crypto';
import { connect, createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamTaskQueue } from '@converge/transport-nats/task-queue';
import { cyclesPerSecond, queueClaimReport, QUEUE_WORKERS, type BenchContext } from '../harness.js';

const NATS_URL = process.env.CONVERGE_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

/** One JetStream API call (JSON in, JSON out; throws on an API error). */
async function api(nc: NatsConnection, subject: string, body: unknown): Promise<unknown> {
  const r = (await nc.request(`$JS.API.${subject}`, JSON.stringify(body), { timeout: 5_000 })).json<{ error?: { description: string } }>();
  if (r.error) throw new Error(`${subject}: ${r.error.description}`);
  return r;
}

/**
 * A no-wait fetch of one message (or none), with the adapter's expiries (1 s for a worker's
 * first fetch, then 20 ms) and its 5 s guard: without an expiry, a fetch sent while the last
 * messages are being taken by the other workers stays parked on the server (the loop hung once
 * the pool ran dry); with a short one on the first fetch of a long backlog, the server was seen
 * not to answer at all.
 */
function fetchOne(nc: NatsConnection, stream: string, consumer: string, expiresMs: number): Promise<Msg | null> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: 2 });
  const guard = setTimeout(() => sub.unsubscribe(), expiresMs + 5_000);
  const got = (async () => {
    for await (const m of sub) {
      sub.unsubscribe();
      return m.reply ? m : null; // a message, or a 404/408 status
    }
    return null;
  })().finally(() => clearTimeout(guard));
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch: 1, no_wait: true, expires: expiresMs * 1_000_000 }), { reply: inbox });
  return got;
}

async function rawFetchAck(tasks: number, ms: number): Promise<number> {
  const stream = `CVB_RAW_${randomBytes(4).toString('hex')}`;
  // The same client options as the adapter's own connection (noAsyncTraces: its default there).
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  try {
    await api(nc, `STREAM.CREATE.${stream}`, { name: stream, subjects: [`${stream}.t`], retention: 'workqueue', storage: 'file', num_replicas: 1 });
    await api(nc, `CONSUMER.DURABLE.CREATE.${stream}.w`, {
      stream_name: stream,
      config: { durable_name: 'w', ack_policy: 'explicit', deliver_policy: 'all', filter_subject: `${stream}.t`, ack_wait: 120e9, max_ack_pending: 10_000 },
    });
    for (let i = 0; i < tasks; i += 64) {
      await Promise.all(Array.from({ length: Math.min(64, tasks - i) }, (_, j) => nc.request(`${stream}.t`, `t${i + j}`, { timeout: 5_000 })));
    }
    // A fetch without an expiry can stay parked on the server: end the run rather than hang (closing ends every fetch).
    const watchdog = setTimeout(() => void nc.close(), ms + 30_000);
    try {
      let fetches = 0;
      return await cyclesPerSecond(ms, async () => {
        const m = await fetchOne(nc, stream, 'w', fetches++ < QUEUE_WORKERS ? 1_000 : 20);
        if (!m) return false;
        nc.publish(m.reply!, '+ACK');
        return true;
      });
    } finally {
      clearTimeout(watchdog);
    }
  } finally {
    await api(nc, `STREAM.DELETE.${stream}`, {}).catch(() => undefined);
    await nc.close();
  }
}

async function adapterClaimReport(tasks: number, ms: number): Promise<number> {
  const q = new JetStreamTaskQueue({ servers: NATS_URL, name: `cvb${randomBytes(4).toString('hex')}`, defaults: { leaseMs: 30_000 } });
  return queueClaimReport(q, tasks, ms);
}

/** The suite. */
export default async function jetstreamQueueAdapters(ctx: BenchContext): Promise<void> {
  const ms = Math.round(3_000 * ctx.scale);
  const tasks = Math.round(20_000 * ctx.scale);
  const raw = await rawFetchAck(tasks, ms);
  ctx.report({ name: 'raw.jetstream_fetch_ack', value: raw, unit: 'tasks/s' });
  const adapter = await adapterClaimReport(tasks, ms);
  ctx.report({ name: 'adapters.jetstream_claim_report', value: adapter, unit: 'tasks/s', baseline: 'raw.jetstream_fetch_ack' });
}
