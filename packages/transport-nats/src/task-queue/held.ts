// What the sweep reads from the work-queue stream itself: the tasks whose messages a pool
// consumer has handed out and not yet seen acked (claimed, or given back with a delay). In a
// work-queue stream an acked message is removed, so every message still stored between a
// consumer's ack floor and its last delivered sequence is one of those: no per-claim write is
// needed for the sweep to find a lease that ran out.
import { decodeValue, type QueuedTask } from '@converge/core';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { recordOf } from './records.js';

const dec = new TextDecoder();

/** A task message's body: the record at submit and its revision, or (a foreign message) just an id. */
export function messageBody(data: Uint8Array): { id: string; revision: number; task: QueuedTask | null } {
  try {
    const v = decodeValue(data) as { i?: unknown; r?: unknown; t?: unknown } | null;
    if (v && typeof v === 'object' && typeof v.i === 'string' && typeof v.r === 'number') {
      const rec = recordOf({ t: v.t, a: null });
      return { id: v.i, revision: v.r, task: rec && rec.task.id === v.i ? rec.task : null };
    }
  } catch {
    // not a task message of this queue: read it as a bare id below
  }
  return { id: dec.decode(data), revision: 0, task: null };
}

/**
 * The ids of the tasks whose messages the pool consumers of `stream` (durable names starting
 * with `consumerPrefix`) have delivered and not seen acked, at most `limit`: one consumer info
 * per pool, then one message get per such message (`next_by_subj` from the ack floor up to the
 * last delivered sequence). O(messages held), not O(tasks).
 */
export async function heldTaskIds(nc: NatsConnection, jsm: JetStreamManager, stream: string, consumerPrefix: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  for await (const c of jsm.consumers.list(stream)) {
    const subject = c.config.filter_subject;
    if (!c.config.durable_name?.startsWith(consumerPrefix) || !subject) continue;
    const top = c.delivered.stream_seq;
    for (let seq = c.ack_floor.stream_seq + 1; seq <= top && out.length < limit;) {
      const m = await nextMessage(nc, stream, seq, subject);
      if (!m || m.seq > top) break;
      out.push(messageBody(m.data).id);
      seq = m.seq + 1;
    }
  }
  return out;
}

/** The first message on `subject` at or after `seq` (`STREAM.MSG.GET` with `next_by_subj`), or `null`. */
async function nextMessage(nc: NatsConnection, stream: string, seq: number, subject: string): Promise<{ seq: number; data: Uint8Array } | null> {
  const r = await nc
    .request(`$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ seq, next_by_subj: subject }), { timeout: 5_000 })
    .then((m) => m.json<{ message?: { seq: number; data?: string } }>())
    .catch(() => null);
  if (!r?.message) return null;
  return { seq: r.message.seq, data: Buffer.from(r.message.data ?? '', 'base64') };
}
