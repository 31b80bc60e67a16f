// The JetStream queue's ack wait follows the lease: messages a SIGKILLed process fetched and never
// claimed (no record names a holder, so no sweep takes them back) come back within about the
// lease, not after a fixed 120 s, and are done exactly once; a pool consumer that exists with
// other settings is refused with ConfigError, or updated when asked.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startHoldingChild } from '@converge/compliance/task-queue';
import { ConfigError } from '@converge/core';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  JetStreamTaskQueue,
  JETSTREAM_QUEUE_MIN_ACK_WAIT_MS,
  jetstreamQueueAckWaitMs,
  type JetStreamTaskQueueOptions,
} from '@converge/transport-nats/task-queue';
import { NATS_URL, deleteStream, rawConnection } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/held-fetch.child.ts', import.meta.url));
/** The pool's consumer name (`p_` + base64url of the pool id). */
const POOL = 'p';
const DURABLE = `p_${Buffer.from(POOL).toString('base64url')}`;

function uniqueName(): string {
  return `a${randomBytes(6).toString('hex')}`;
}

async function withQueues(body: (open: (o?: Partial<JetStreamTaskQueueOptions>) => Promise<JetStreamTaskQueue>, name: string) => Promise<void>): Promise<void> {
  const name = uniqueName();
  const opened: JetStreamTaskQueue[] = [];
  const open = async (o: Partial<JetStreamTaskQueueOptions> = {}): Promise<JetStreamTaskQueue> => {
    const q = new JetStreamTaskQueue({ servers: NATS_URL, name, ...o });
    opened.push(q);
    await q.start();
    return q;
  };
  try {
    await body(open, name);
  } finally {
    for (const q of opened) await q.stop();
    await deleteStream(`CVQ_${name}`);
    await deleteStream(`KV_cvq_${name}`);
  }
}

/** The pool consumer's ack wait on the server, ms. */
async function serverAckWaitMs(name: string): Promise<number> {
  const nc = await rawConnection();
  try {
    const info = await (await jetstreamManager(nc)).consumers.info(`CVQ_${name}`, DURABLE);
    return info.config.ack_wait! / 1_000_000;
  } finally {
    await nc.close();
  }
}

/** Starts the child; resolves once it holds `count` fetched messages, with their task ids and a kill function. */
async function startChild(name: string, count: number): Promise<{ ids: string[]; kill: () => Promise<void> }> {
  const args = ['--import', 'tsx', '--conditions=@converge/source', CHILD, NATS_URL, `CVQ_${name}`, DURABLE, String(count)];
  const { value, kill } = await startHoldingChild<{ ids: string[] }>(args);
  return { ids: value.ids, kill };
}

describe('JetStreamTaskQueue ack wait', () => {
  it('defaults to twice the lease, at least 5 s', async () => {
    expect(jetstreamQueueAckWaitMs(1_000)).toBe(JETSTREAM_QUEUE_MIN_ACK_WAIT_MS);
    expect(jetstreamQueueAckWaitMs(30_000)).toBe(60_000);
    await withQueues(async (open, name) => {
      const q = await open();
      expect(await q.claim({ agentId: 'w', poolId: POOL })).toEqual([]);
      expect(await serverAckWaitMs(name)).toBe(60_000);
    });
  });

  it('messages a SIGKILLed process fetched and never claimed are claimed again within about the lease, each exactly once', async () => {
    const leaseMs = 2_000;
    const ackWaitMs = jetstreamQueueAckWaitMs(leaseMs);
    await withQueues(async (open, name) => {
      const q = await open({ defaults: { leaseMs } });
      expect(await q.claim({ agentId: 'w', poolId: POOL })).toEqual([]); // creates the pool consumer
      expect(await serverAckWaitMs(name)).toBe(ackWaitMs);
      for (let i = 0; i < 10; i++) await q.submit({ id: `k${i}`, objective: 'o', poolId: POOL });
      const child = await startChild(name, 6);
      expect(child.ids.length).toBeGreaterThanOrEqual(6); // and those its open fetch received
      await child.kill();
      const killedAt = Date.now();
      // Submitted after the kill, while the dead child's last fetch may still be open on the server.
      for (let i = 10; i < 12; i++) await q.submit({ id: `k${i}`, objective: 'o', poolId: POOL });
      const other = await open({ defaults: { leaseMs } });
      const reported: string[] = [];
      const claimedAt = new Map<string, number>();
      const deadline = killedAt + ackWaitMs + 10_000;
      while (reported.length < 12 && Date.now() < deadline) {
        const got = (await Promise.all([q, other].map((x, i) => x.claim({ agentId: `live${i}`, poolId: POOL, max: 4, waitMs: 500 })))).flat();
        for (const { task, lease } of got) {
          claimedAt.set(task.id, Date.now() - killedAt);
          await (lease.agentId === 'live0' ? q : other).report(lease, 'done');
          reported.push(task.id);
        }
      }
      expect(reported.slice().sort()).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}`).sort());
      // The child's messages came back after the ack wait, well within 120 s.
      const backAfter = Math.max(...child.ids.map((id) => claimedAt.get(id)!));
      expect(backAfter).toBeLessThan(ackWaitMs + 10_000);
      for (let i = 0; i < 12; i++) expect(await q.get(`k${i}`)).toMatchObject({ state: 'completed', attempts: 1, result: 'done' });
    });
  }, 60_000);

  it('a pool consumer that exists with another ack wait: ConfigError, or updated with onConsumerMismatch: update', async () => {
    await withQueues(async (open, name) => {
      const first = await open({ defaults: { leaseMs: 2_000 } });
      expect(await first.claim({ agentId: 'w', poolId: POOL })).toEqual([]); // creates the pool consumer
      await first.submit({ id: 'm1', objective: 'o', poolId: POOL });
      const other = await open({ ackWaitMs: 120_000 });
      const err = await other.claim({ agentId: 'x', poolId: POOL }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('ackWaitMs');
      expect((err as Error).message).toMatch(/ack_wait 5000 ms \(this client: 120000 ms\)/);
      expect(await serverAckWaitMs(name)).toBe(5_000);
      const updating = await open({ ackWaitMs: 120_000, onConsumerMismatch: 'update' });
      const [c] = await updating.claim({ agentId: 'u', poolId: POOL });
      expect(c!.task.id).toBe('m1');
      expect(await serverAckWaitMs(name)).toBe(120_000);
      expect(() => new JetStreamTaskQueue({ servers: NATS_URL, name, onConsumerMismatch: 'x' as 'error' })).toThrow(ConfigError);
    });
  });
});
