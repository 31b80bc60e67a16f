import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverTaskQueueTests } from '@converge/compliance/task-queue';
import { ConfigError, NotStartedError } from '@converge/core';
import { createClient } from 'redis';
import { RedisTaskQueue } from '@converge/store-redis/task-queue';
import { TcpProxy } from '@converge/compliance/fault-proxy';
import { REDIS_URL, dropPrefix, requireRedis, uniquePrefix, withAdmin } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/task-queue.child.ts', import.meta.url));

beforeAll(requireRedis);

serverTaskQueueTests({
  name: 'RedisTaskQueue',
  unique: () => uniquePrefix('q'),
  open: (prefix, options) => new RedisTaskQueue({ url: REDIS_URL, prefix, ...options }),
  drop: dropPrefix,
  child: (prefix, defaults) => ({ module: CHILD, options: { url: REDIS_URL, prefix, defaults } }),
  publish: (prefix, payload) => withAdmin(async (c) => void (await c.publish(`${prefix}events`, payload))),
});

/** A started queue on a fresh prefix, stopped and its keys dropped after `fn`. */
async function withQueue<T>(options: ConstructorParameters<typeof RedisTaskQueue>[0], fn: (q: RedisTaskQueue, prefix: string) => Promise<T>): Promise<T> {
  const prefix = uniquePrefix('q');
  const q = new RedisTaskQueue({ url: REDIS_URL, prefix, ...options });
  await q.start();
  try {
    return await fn(q, prefix);
  } finally {
    await q.stop();
    await dropPrefix(prefix);
  }
}

/** The commands clients sent about keys under `prefix` while `fn` ran (from MONITOR; a script's own commands left out). */
async function commandsSent(prefix: string, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const end = `${prefix}end-of-test`;
  const admin = createClient({ url: REDIS_URL });
  admin.on('error', () => undefined);
  await admin.connect();
  let ended: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (ended = resolve));
  try {
    // Resolves once the server acknowledged MONITOR: every later command is seen.
    await admin.monitor((line: string) => {
      // Commands a script runs show as `[<db> lua]`: count only what clients sent.
      if (!line.includes(prefix) || / lua\] /.test(line)) return;
      if (line.includes(end)) ended();
      else seen.push(line.split('"')[1]!);
    });
    await fn();
    await withAdmin((c) => c.echo(end));
    await done;
    return seen;
  } finally {
    admin.destroy();
  }
}

describe('RedisTaskQueue', () => {
  it('refuses a bad url, prefix, notify mode or limit (ConfigError)', () => {
    expect(() => new RedisTaskQueue({ url: 'http://x' })).toThrow(ConfigError);
    expect(() => new RedisTaskQueue({ prefix: 'x'.repeat(257) })).toThrow(ConfigError);
    expect(() => new RedisTaskQueue({ notify: 'some' as never })).toThrow(ConfigError);
    expect(() => new RedisTaskQueue({ claimScan: 0 })).toThrow(ConfigError);
    expect(() => new RedisTaskQueue({ clientName: 'a b' })).toThrow(ConfigError);
  });

  it('each transition is one script call: submit, claim (a batch), report, fail and extend send one EVALSHA each', async () => {
    await withQueue({ defaults: { leaseMs: 60_000 } }, async (q, prefix) => {
      const seen = await commandsSent(prefix, async () => {
        await q.submit({ id: 'a', objective: 'o', poolId: 'p' });
        await q.submit({ id: 'b', objective: 'o', poolId: 'p' });
        const got = await q.claim({ agentId: 'w', poolId: 'p', max: 2 });
        expect(got).toHaveLength(2);
        await q.extend(got[0]!.lease);
        await q.report(got[0]!.lease, 1);
        await q.fail(got[1]!.lease, 'x');
      });
      expect(seen).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA']);
    });
  });

  it('submits, and reports, made in one turn go as one script run (batchMax a run), each decided as if alone', async () => {
    await withQueue({ defaults: { leaseMs: 60_000 }, batchMax: 16 }, async (q, prefix) => {
      await q.submit({ id: 'old', objective: 'o', poolId: 'q' }, { idempotencyKey: 'k' });
      const ids = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      let outcomes: PromiseSettledResult<unknown>[] = [];
      const submits = await commandsSent(prefix, async () => {
        outcomes = await Promise.allSettled([
          ...ids.map((id) => q.submit({ id, objective: 'o', poolId: 'p' })),
          q.submit({ id: 't00', objective: 'again', poolId: 'p' }), // the id of one earlier in the batch
          q.submit({ id: 'other', objective: 'o', poolId: 'p' }, { idempotencyKey: 'k' }), // the key's first task
        ]);
      });
      expect(submits).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA']); // 42 submits, 16 a run
      expect(outcomes.slice(0, 40).map((o) => (o.status === 'fulfilled' ? (o.value as { id: string }).id : o.reason))).toEqual(ids);
      expect(outcomes[40]).toMatchObject({ status: 'rejected', reason: { name: 'ConflictError' } });
      expect(outcomes[41]).toMatchObject({ status: 'fulfilled', value: { id: 'old', poolId: 'q' } });
      const claimed = await q.claim({ agentId: 'w', poolId: 'p', max: 40 });
      expect(claimed.map((c) => c.task.id)).toEqual(ids);
      const stale = { ...claimed[3]!.lease, attempt: 2 };
      let reports: PromiseSettledResult<unknown>[] = [];
      const sent = await commandsSent(prefix, async () => {
        reports = await Promise.allSettled([...claimed.slice(0, 16).map((c) => q.report(c.lease, c.task.id)), q.report(stale, 'stale')]);
      });
      expect(sent).toEqual(['EVALSHA', 'EVALSHA']);
      expect(reports.slice(0, 16).map((r) => r.status === 'fulfilled' && (r.value as { state: string; result: unknown }).result)).toEqual(ids.slice(0, 16));
      expect(reports[16]).toMatchObject({ status: 'rejected', reason: { name: 'ConflictError' } });
      expect((await q.get('t03')).result).toBe('t03');
      expect((await q.get('t16')).state).toBe('assigned');
    });
  });

  it('the records submit, claim and report build without reading the hash back are the ones get reads', async () => {
    // heldRecords 1: the second lease's record is forgotten, so its report reads the hash back.
    await withQueue({ defaults: { leaseMs: 60_000, retryBaseMs: 1 }, heldRecords: 1 }, async (q, prefix) => {
      const deadline = Date.now() + 600_000.5;
      const init = {
        objective: 'o',
        poolId: 'p',
        inputs: { n: 1, bytes: new Uint8Array([1, 2]), nested: { a: [1, 'x'] } },
        requiredCapabilities: ['c'],
        constraints: { deadline, maxRetries: 3 },
      };
      const a = await q.submit({ ...init, id: 'a' });
      expect(a).toEqual(await q.get('a'));
      await q.submit({ id: 'b', objective: 'o', poolId: 'p' });
      // A retried task: failures, failure_reason and a not_before the next claim clears.
      const [first] = await q.claim({ agentId: 'w', poolId: 'p', capabilities: ['c'] });
      expect(first!.task.id).toBe('a');
      expect(first!.task).toEqual(await q.get('a'));
      await q.fail(first!.lease, 'flaky');
      await new Promise((r) => setTimeout(r, 20));
      const got = await q.claim({ agentId: 'w', poolId: 'p', capabilities: ['c'], max: 2 });
      expect(got.map((c) => c.task.id).sort()).toEqual(['a', 'b']);
      for (const c of got) expect(c.task).toEqual(await q.get(c.task.id));
      expect(got.find((c) => c.task.id === 'a')!.task).toMatchObject({ failures: 1, failureReason: 'flaky', notBefore: null, attempts: 2 });
      for (const c of got) {
        const done = await q.report(c.lease, { ok: c.task.id, at: [1, 2] });
        expect(done).toEqual(await q.get(c.task.id));
        expect(done).toMatchObject({ state: 'completed', result: { ok: c.task.id, at: [1, 2] }, leaseExpiresAt: null });
      }
      // Another instance's lease (nothing held there): the read-back path.
      await q.submit({ id: 'c', objective: 'o', poolId: 'p' });
      const other = new RedisTaskQueue({ url: REDIS_URL, prefix });
      await other.start();
      try {
        const [c] = await q.claim({ agentId: 'w', poolId: 'p' });
        const done = await other.report(c!.lease, 7);
        expect(done).toEqual(await q.get('c'));
        // The stale attempt's report on the claiming instance is still refused.
        await expect(q.report(c!.lease, 8)).rejects.toMatchObject({ name: 'ConflictError' });
      } finally {
        await other.stop();
      }
    });
  });

  it('loads a script again with EVAL after the server lost its script cache (NOSCRIPT)', async () => {
    await withQueue({}, async (q) => {
      await q.submit({ id: 'a', objective: 'o', poolId: 'p' });
      await withAdmin((c) => c.scriptFlush());
      const [c] = await q.claim({ agentId: 'w', poolId: 'p' });
      expect(c!.task.id).toBe('a');
      expect(q.stats.scriptLoads).toBeGreaterThanOrEqual(1);
      expect((await q.report(c!.lease, 'ok')).state).toBe('completed');
    });
  });

  it('a corrupt task hash is StoreError ERR_STORE_CORRUPT (counted), not a crash or a wrong record', async () => {
    await withQueue({}, async (q, prefix) => {
      await q.submit({ id: 'a', objective: 'o', poolId: 'p' });
      await q.submit({ id: 'b', objective: 'o', poolId: 'p' });
      await withAdmin(async (c) => {
        await c.hSet(`${prefix}t:a`, 'body', 'not msgpack \xc1');
        await c.hSet(`${prefix}t:b`, 'attempts', 'many');
      });
      await expect(q.get('a')).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_CORRUPT' });
      await expect(q.get('b')).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_CORRUPT' });
      expect(q.stats.corrupt).toBe(2);
      // A key of the wrong type under the prefix.
      await withAdmin((c) => c.set(`${prefix}t:c`, 'x'));
      await expect(q.get('c')).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    });
  });

  it('a waiting claim wakes when a retry comes due (no message, a long pollMs)', async () => {
    await withQueue({ pollMs: 60_000, defaults: { retryBaseMs: 200 } }, async (q) => {
      await q.submit({ id: 'r', objective: 'o', poolId: 'p' });
      const [c] = await q.claim({ agentId: 'w', poolId: 'p' });
      await q.fail(c!.lease, 'again');
      // The retry is due in 200 ms. Without the due-time hint the claim would sleep its whole
      // waitMs (pollMs is longer) and only find the task on its last look; the bound is generous.
      const t0 = Date.now();
      const again = await q.claim({ agentId: 'w', poolId: 'p', waitMs: 20_000 });
      expect(again.map((x) => [x.task.id, x.lease.attempt])).toEqual([['r', 2]]);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });
  });

  it('stop() ends a waiting claim with [] and later calls are NotStartedError', async () => {
    const prefix = uniquePrefix('q');
    const q = new RedisTaskQueue({ url: REDIS_URL, prefix, pollMs: 60_000 });
    await q.start();
    const waiting = q.claim({ agentId: 'w', poolId: 'p', waitMs: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    await q.stop();
    expect(await waiting).toEqual([]);
    await expect(q.get('x')).rejects.toBeInstanceOf(NotStartedError);
    await dropPrefix(prefix);
  });

  it('a claim looks at no more than claimScan ready entries; list pages stop at listScan ids with a cursor', async () => {
    await withQueue({ claimScan: 3, listScan: 4 }, async (q) => {
      for (let i = 0; i < 3; i++) await q.submit({ id: `g${i}`, objective: 'o', poolId: 'p', requiredCapabilities: ['gpu'] });
      await q.submit({ id: 'plain', objective: 'o', poolId: 'p' });
      // The three gpu tasks ahead of it use up the claim's look-at budget.
      expect(await q.claim({ agentId: 'cpu', poolId: 'p' })).toEqual([]);
      expect((await q.claim({ agentId: 'gpu', poolId: 'p', capabilities: ['gpu'], max: 3 })).map((c) => c.task.id)).toEqual(['g0', 'g1', 'g2']);
      expect((await q.claim({ agentId: 'cpu', poolId: 'p' })).map((c) => c.task.id)).toEqual(['plain']);
      for (let i = 0; i < 6; i++) await q.submit({ id: `z${i}`, objective: 'o', poolId: 'p' });
      const first = await q.list({ state: 'pending' });
      expect(first.tasks).toEqual([]);
      expect(first.cursor).toBe('plain');
      const second = await q.list({ state: 'pending', cursor: first.cursor! });
      expect(second.tasks.map((t) => t.id)).toEqual(['z0', 'z1', 'z2', 'z3']);
      const third = await q.list({ state: 'pending', cursor: second.cursor! });
      expect(third).toMatchObject({ cursor: null });
      expect(third.tasks.map((t) => t.id)).toEqual(['z4', 'z5']);
    });
  });

  it('a server gone: calls fail with ERR_STORE_UNAVAILABLE after the bounded reconnect attempts; once it is back the queue works again', async () => {
    const url = new URL(REDIS_URL);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 6379));
    await proxy.up();
    url.host = `127.0.0.1:${proxy.port}`;
    const prefix = uniquePrefix('q');
    const q = new RedisTaskQueue({ url: url.toString(), prefix, retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 } });
    await q.start();
    try {
      await q.submit({ id: 'a', objective: 'o', poolId: 'p' });
      await proxy.down();
      const unavailable = { name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE' };
      // In flight as the connection broke, and then while the client is reconnecting (a call
      // that would wait for a reconnect without end if the attempts were not bounded).
      await expect(q.claim({ agentId: 'w', poolId: 'p' })).rejects.toMatchObject(unavailable);
      await new Promise((r) => setTimeout(r, 30));
      await expect(q.claim({ agentId: 'w', poolId: 'p' })).rejects.toMatchObject(unavailable);
      await expect(q.get('a')).rejects.toMatchObject(unavailable);
      await proxy.up();
      const [c] = await q.claim({ agentId: 'w', poolId: 'p' });
      expect(c!.task.id).toBe('a');
    } finally {
      await q.stop();
      await proxy.down();
      await dropPrefix(prefix);
    }
  });

  it("with notify 'outcomes' publishes tasks entering pending and reaching a terminal state, not claims", async () => {
    await withQueue({ notify: 'outcomes' }, async (q, prefix) => {
      const sub = createClient({ url: REDIS_URL });
      await sub.connect();
      const published: string[] = [];
      await sub.subscribe(`${prefix}events`, (m) => published.push(m));
      try {
        await q.submit({ id: 'o1', objective: 'o', poolId: 'p' });
        const [c] = await q.claim({ agentId: 'a', poolId: 'p' });
        await q.extend(c!.lease);
        await q.report(c!.lease, 1);
        await q.submit({ id: 'o2', objective: 'o', poolId: 'p' });
        await q.cancel('o2');
        await q.get('o2'); // a round trip after the last PUBLISH, so the subscriber has had it
        await new Promise((r) => setTimeout(r, 100));
        expect(published.map((m) => (JSON.parse(m) as unknown[])[0])).toEqual(['pending', 'completed', 'pending', 'cancelled']);
      } finally {
        await sub.quit();
      }
    });
  });

  it('drop() removes every key of the prefix', async () => {
    await withQueue({}, async (q, prefix) => {
      await q.submit({ id: 'a', objective: 'o', poolId: 'p', constraints: { deadline: Date.now() + 60_000 } }, { idempotencyKey: 'k' });
      await q.claim({ agentId: 'w', poolId: 'p' });
      expect((await withAdmin((c) => c.keys(`${prefix}*`))).length).toBeGreaterThan(0);
      await q.drop();
      expect(await withAdmin((c) => c.keys(`${prefix}*`))).toEqual([]);
    });
  });
});
