import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
import { AbortError, ConfigError, ConflictError, NotFoundError, QueueFullError, StoreError, ValidationError } from '@converge/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { JetStreamTaskQueue, type JetStreamTaskQueueOptions } from '@converge/transport-nats/task-queue';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_URL, deleteStream, rawConnection, withRawConnection } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/task-queue.child.ts', import.meta.url));

function uniqueName(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

async function dropQueue(name: string): Promise<void> {
  await deleteStream(`CVQ_${name}`);
  await deleteStream(`KV_cvq_${name}`);
}

// The suite's test clock moves without real time passing, and a nak delay runs on the server's
// clock: so the suite runs with `serverTimers: false` (backoff kept in the records, checked by
// the claimers against the test clock). The server-timer path is tested below with real time.
taskQueueComplianceTests({
  name: 'JetStreamTaskQueue',
  setup: async ({ clock, defaults }) => {
    const name = uniqueName();
    return {
      open: async () => new JetStreamTaskQueue({ servers: NATS_URL, name, clock, defaults, serverTimers: false }),
      teardown: () => dropQueue(name),
      child: { module: CHILD, options: { url: NATS_URL, name, defaults } },
    };
  },
});

async function withQueue(options: Partial<JetStreamTaskQueueOptions>, body: (q: JetStreamTaskQueue, name: string) => Promise<void>): Promise<void> {
  const name = uniqueName();
  const q = new JetStreamTaskQueue({ servers: NATS_URL, name, ...options });
  await q.start();
  try {
    await body(q, name);
  } finally {
    await q.drop().catch(() => undefined);
    await q.stop();
    await dropQueue(name);
  }
}

/** After a message no readable task stands behind: a claim hands out nothing, counts it and ends it in the stream. */
async function expectOrphanEnded(q: JetStreamTaskQueue, nc: NatsConnection, name: string): Promise<void> {
  expect(await q.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
  expect(q.stats().orphanMessages).toBe(1);
  expect((await (await jetstreamManager(nc)).streams.info(`CVQ_${name}`)).state.messages).toBe(0);
}

describe('JetStreamTaskQueue', () => {
  it('refuses a queue name that is not a plain token and a queue with no server', () => {
    expect(() => new JetStreamTaskQueue({ servers: NATS_URL, name: 'a.b' })).toThrow(ConfigError);
    expect(() => new JetStreamTaskQueue({})).toThrow(ConfigError);
  });

  it('refuses a pool id too long for a subject token and a consumer name (ValidationError)', async () => {
    await withQueue({}, async (q) => {
      const pool = 'p'.repeat(129);
      await expect(q.submit({ id: 'x', objective: 'o', poolId: pool })).rejects.toBeInstanceOf(ValidationError);
      await expect(q.claim({ agentId: 'a', poolId: pool })).rejects.toBeInstanceOf(ValidationError);
    });
  });

  it('with server timers a failed task comes back once its nak delay ran out, not before', async () => {
    await withQueue({ defaults: { retryBaseMs: 300, retryMaxMs: 300 } }, async (q) => {
      await q.submit({ id: 's1', objective: 'o', poolId: 'p' });
      const [c] = await q.claim({ agentId: 'a', poolId: 'p' });
      const t = await q.fail(c!.lease, 'boom');
      expect(t.state).toBe('pending');
      // The message is held by the server for the backoff: an immediate claim sees nothing.
      expect(await q.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
      const again = await q.claim({ agentId: 'a', poolId: 'p', waitMs: 10_000 });
      expect(again.map((x) => x.lease.attempt)).toEqual([2]);
      expect(Date.now()).toBeGreaterThanOrEqual(t.notBefore!);
    });
  });

  it('a stale lease changes nothing in the stored record (the bucket revision CAS fences it)', async () => {
    await withQueue({ defaults: { leaseMs: 60_000 } }, async (q, name) => {
      await q.submit({ id: 'f1', objective: 'o', poolId: 'p' });
      const [c] = await q.claim({ agentId: 'a', poolId: 'p' });
      await expect(q.report({ ...c!.lease, attempt: 2 }, 'x')).rejects.toBeInstanceOf(ConflictError);
      // A second client (no remembered revision) reads the record as stored.
      const other = new JetStreamTaskQueue({ servers: NATS_URL, name });
      await other.start();
      try {
        expect(await other.get('f1')).toMatchObject({ state: 'assigned', result: null, attempts: 1 });
        expect((await other.report(c!.lease, 'ok')).state).toBe('completed');
      } finally {
        await other.stop();
      }
    });
  });

  it('an aborted waiting claim gives back a message its open fetch still receives (no task stranded until the ack wait)', async () => {
    await withQueue({}, async (q) => {
      const ac = new AbortController();
      const waiting = q.claim({ agentId: 'a', poolId: 'p', waitMs: 20_000 }, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 100));
      ac.abort();
      await expect(waiting).rejects.toBeInstanceOf(AbortError);
      // The server still holds the aborted fetch open and hands it the next message.
      await q.submit({ id: 'late', objective: 'o', poolId: 'p' });
      const got = await q.claim({ agentId: 'b', poolId: 'p', waitMs: 5_000 });
      expect(got.map((c) => c.task.id)).toEqual(['late']);
    });
  });

  it('a message without a task record is terminated and counted, never handed out', async () => {
    await withQueue({}, (q, name) =>
      withRawConnection(async (nc) => {
        await jetstream(nc).publish(`cvq.${name}.t.${Buffer.from('p').toString('base64url')}`, 'ghost');
        await expectOrphanEnded(q, nc, name);
      }),
    );
  });

  it('a task whose record is not readable is refused by get (StoreError) and its message ended and counted by claim', async () => {
    await withQueue({}, async (q, name) => {
      await q.submit({ id: 'bad', objective: 'o', poolId: 'p' });
      await withRawConnection(async (nc) => {
        await jetstream(nc).publish(`$KV.cvq_${name}.r.${Buffer.from('bad').toString('base64url')}`, new Uint8Array([0xff, 0x00, 0x13]));
        await expect(q.get('bad')).rejects.toBeInstanceOf(StoreError);
        await expectOrphanEnded(q, nc, name);
      });
    });
  });

  it('submit publishes with Nats-Msg-Id = task id: a repeated publish of the task is deduplicated by the stream', async () => {
    await withQueue({}, async (q, name) => {
      await q.submit({ id: 'once', objective: 'o', poolId: 'p' });
      const ack = await withRawConnection((nc) => jetstream(nc).publish(`cvq.${name}.t.${Buffer.from('p').toString('base64url')}`, 'once', { msgID: 'once' }));
      expect(ack.duplicate).toBe(true);
    });
  });

  it('a full stream refuses a submit with QueueFullError and takes its record back', async () => {
    await withQueue({ maxTasks: 2 }, async (q) => {
      await q.submit({ id: 'a', objective: 'o', poolId: 'p' });
      await q.submit({ id: 'b', objective: 'o', poolId: 'p' });
      await expect(q.submit({ id: 'c', objective: 'o', poolId: 'p' })).rejects.toBeInstanceOf(QueueFullError);
      await expect(q.get('c')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it('a message delivered more than maxDeliver times dead-letters its task, with a copy on the dead-letter subject', async () => {
    await withQueue({ maxDeliver: 2 }, async (q, name) => {
      await q.submit({ id: 'gpu', objective: 'o', poolId: 'p', requiredCapabilities: ['gpu'] });
      // Agents without the capability skip it: each claim is a delivery.
      for (let i = 0; i < 3; i++) expect(await q.claim({ agentId: 'a', poolId: 'p' })).toEqual([]);
      expect(await q.get('gpu')).toMatchObject({ state: 'failed', deadLettered: true, failureReason: 'max-deliver' });
      expect(q.stats().maxDeliverDeadLetters).toBe(1);
      expect(await q.claim({ agentId: 'g', poolId: 'p', capabilities: ['gpu'] })).toEqual([]);
      const nc = await rawConnection();
      try {
        const m = await (
          await jetstreamManager(nc)
        ).streams.getMessage(`CVQ_${name}`, { last_by_subj: `cvq.${name}.dlq.${Buffer.from('p').toString('base64url')}` });
        expect(m?.string()).toBe('gpu');
      } finally {
        await nc.close();
      }
    });
  });

  it("a claim and its report write no sweep hint, yet another client's expire takes back the lease of a holder that is gone", async () => {
    await withQueue({}, async (q, name) => {
      await q.submit({ id: 'h1', objective: 'o', poolId: 'p', constraints: { claimTtlMs: 300 } });
      await q.submit({ id: 'h2', objective: 'o', poolId: 'p' });
      const [c] = await q.claim({ agentId: 'gone', poolId: 'p' });
      expect(c!.task.id).toBe('h1');
      const [d] = await q.claim({ agentId: 'a', poolId: 'p' });
      await q.report(d!.lease, 'ok');
      const nc = await rawConnection();
      const other = new JetStreamTaskQueue({ servers: NATS_URL, name });
      await other.start();
      try {
        const jsm = await jetstreamManager(nc);
        for (const id of ['h1', 'h2'])
          expect(await jsm.direct.getMessage(`KV_cvq_${name}`, { last_by_subj: `$KV.cvq_${name}.l.${Buffer.from(id).toString('base64url')}` })).toBeNull();
        expect(await other.expire()).toEqual([]);
        await new Promise((r) => setTimeout(r, Math.max(0, c!.lease.expiresAt - Date.now()) + 20));
        expect(await other.expire()).toEqual([{ taskId: 'h1', agentId: 'gone', attempt: 1, outcome: 'pending' }]);
        const [again] = await other.claim({ agentId: 'b', poolId: 'p' });
        expect(again!.lease).toMatchObject({ taskId: 'h1', attempt: 2 });
      } finally {
        await other.stop();
        await nc.close();
      }
    });
  });

  it('concurrent no-wait claims on one client share fetches, and each task goes to one of them', async () => {
    await withQueue({}, async (q) => {
      for (let i = 0; i < 8; i++) await q.submit({ id: `s${i}`, objective: 'o', poolId: 'p' });
      await q.claim({ agentId: 'w', poolId: 'p' }); // the pool's first fetch (a longer expiry) out of the way
      const before = q.stats().fetches;
      const got = await Promise.all(Array.from({ length: 6 }, () => q.claim({ agentId: 'w', poolId: 'p' })));
      expect(new Set(got.flat().map((c) => c.task.id)).size).toBe(6);
      expect(q.stats().fetches - before).toBeLessThan(6);
    });
  });

  it('back-to-back claims read ahead (no fetch of their own); what none takes goes back after the hold, counted, and another client claims it', async () => {
    await withQueue({ readAhead: 8 }, async (q, name) => {
      for (let i = 0; i < 20; i++) await q.submit({ id: `r${String(i).padStart(2, '0')}`, objective: 'o', poolId: 'p' });
      await q.claim({ agentId: 'w', poolId: 'p' }); // a full fetch: the next claim's fetch reads ahead
      await q.claim({ agentId: 'w', poolId: 'p' });
      const fetches = q.stats().fetches;
      const served = await Promise.all(Array.from({ length: 4 }, () => q.claim({ agentId: 'w', poolId: 'p' })));
      expect(served.flat()).toHaveLength(4);
      expect(q.stats().fetches).toBe(fetches);
      await new Promise((r) => setTimeout(r, 600));
      expect(q.stats().readAheadGivenBack).toBe(4);
      const other = new JetStreamTaskQueue({ servers: NATS_URL, name, readAhead: 0 });
      await other.start();
      try {
        const rest = await other.claim({ agentId: 'x', poolId: 'p', max: 20 });
        expect(rest).toHaveLength(14);
      } finally {
        await other.stop();
      }
    });
    await expect(Promise.resolve().then(() => new JetStreamTaskQueue({ servers: NATS_URL, readAhead: -1 }))).rejects.toBeInstanceOf(ConfigError);
  });

  it('4 workers on one client drain the pool and every no-wait claim ends (the server cannot park one forever)', async () => {
    await withQueue({}, async (q) => {
      for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => q.submit({ id: `d${i + j}`, objective: 'o', poolId: 'p' })));
      const done: string[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let [c] = await q.claim({ agentId: 'w', poolId: 'p' }); c; [c] = await q.claim({ agentId: 'w', poolId: 'p' })) {
            await q.report(c.lease, 1);
            done.push(c.task.id);
          }
        }),
      );
      expect(new Set(done).size).toBe(1000);
    });
  }, 30_000);
});
