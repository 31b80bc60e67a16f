// Issue 16 item 4: trust in the loop. A pool's `admission.minTrust` refuses a join below it (the
// reference's trust threshold on joining); a TrustFeed moves a TrustModel by what agents do (a
// result judged right or wrong, a fenced stale report, a rejected signature); the scores persist.
import { describe, expect, it } from 'vitest';
import { ConflictError, PolicyError, ValidationError } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { TrustModel } from '@converge/policy';
import { PoolManager, TaskManager, TrustFeed, TrustTooLowError } from '../src/index.js';

async function setup() {
  const store = new MemoryStore();
  const now = { t: 1_000_000 };
  const trust = new TrustModel({ store, learningRate: 0.5, clock: () => now.t });
  const pm = new PoolManager({ store, trust });
  const tm = new TaskManager({ store, pools: pm, clock: () => now.t, defaults: { claimTtlMs: 1_000 } });
  const feed = new TrustFeed({ trust, judge: (task) => (task.result === 'right' ? true : task.result === 'wrong' ? false : undefined) });
  feed.watch(tm);
  await pm.createPool({ id: 'work' });
  await pm.createPool({ id: 'elite', admission: { type: 'open', minTrust: 0.4 } });
  return { store, now, trust, pm, tm, feed };
}

describe('trust in the loop', () => {
  it('trust falls after a wrong result and the next join below minTrust is refused', async () => {
    const { store, trust, pm, tm, feed } = await setup();
    expect(trust.score('w')).toBe(0.5); // above the threshold until it does something wrong
    await tm.submit({ id: 't1', objective: 'x', poolId: 'work' });
    const lease = await tm.claim('w', 't1');
    await tm.report('w', 't1', 'wrong', lease);
    await feed.flush();
    expect(trust.score('w')).toBeCloseTo(0.25);
    const err = await pm.joinPool('w', 'elite').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrustTooLowError);
    expect(err).toMatchObject({ code: 'ERR_TRUST_TOO_LOW', minTrust: 0.4 });
    expect((await pm.getPool('elite')).agents).toEqual([]);
    expect(pm.stats()).toMatchObject({ refused: 1, trustRefused: 1 });
    // Nor can it act in the pool without joining: a threshold makes the pool not open.
    await expect(tm.submit({ id: 't2', objective: 'x', poolId: 'elite' }, { by: 'w' })).rejects.toBeInstanceOf(PolicyError);

    // The score is in the store: a fresh model (another process, a restart) sees it.
    await trust.flush();
    const reloaded = new TrustModel({ store });
    await reloaded.load();
    expect(reloaded.score('w')).toBeCloseTo(0.25);
    await expect(new PoolManager({ store, trust: reloaded }).joinPool('w', 'elite')).rejects.toBeInstanceOf(TrustTooLowError);
  });

  it('a result judged right raises trust, and the agent then gets in', async () => {
    const { trust, pm, tm, feed } = await setup();
    await trust.recordOutcome('r', 'failure'); // 0.25: refused for now
    await expect(pm.joinPool('r', 'elite')).rejects.toBeInstanceOf(TrustTooLowError);
    await tm.submit({ id: 't', objective: 'x', poolId: 'work' });
    await tm.report('r', 't', 'right', await tm.claim('r', 't'));
    await feed.flush();
    expect(trust.score('r')).toBeCloseTo(0.625);
    expect((await pm.joinPool('r', 'elite')).agents).toEqual(['r']);
    // No opinion from the judge: trust unchanged.
    await tm.submit({ id: 'u', objective: 'x', poolId: 'work' });
    await tm.report('r', 'u', 'unsure', await tm.claim('r', 'u'));
    await feed.flush();
    expect(trust.score('r')).toBeCloseTo(0.625);
    expect(feed.stats()).toMatchObject({ raised: 1, lowered: 0, unjudged: 1 });
  });

  it("a fenced stale report lowers the reporter's trust", async () => {
    const { now, trust, tm, feed } = await setup();
    await tm.submit({ id: 't', objective: 'x', poolId: 'work' });
    const stale = await tm.claim('slow', 't');
    now.t += 2_000; // the lease lapses; the task is taken back and claimed by another
    await tm.releaseExpiredClaims();
    await tm.claim('fast', 't');
    await expect(tm.report('slow', 't', 'right', stale)).rejects.toBeInstanceOf(ConflictError);
    await feed.flush();
    expect(trust.score('slow')).toBeCloseTo(0.25);
    expect(trust.score('fast')).toBe(0.5);
  });

  it("a rejected signature lowers the sender's trust; other rejections do not", async () => {
    const { trust, feed } = await setup();
    feed.messageRejected('forger', 'bad_signature');
    feed.messageRejected('someone', 'replay');
    feed.messageRejected(undefined, 'bad_signature');
    await feed.flush();
    expect(trust.score('forger')).toBeCloseTo(0.25);
    expect(trust.score('someone')).toBe(0.5);
    expect(feed.stats().lowered).toBe(1);
  });

  it('a pool with minTrust and no trust source refuses joins; a bad minTrust is refused at creation', async () => {
    const store = new MemoryStore();
    const pm = new PoolManager({ store });
    await pm.createPool({ id: 'e', admission: { type: 'open', minTrust: 0.1 } });
    await expect(pm.joinPool('a', 'e')).rejects.toBeInstanceOf(PolicyError);
    await expect(pm.createPool({ id: 'bad', admission: { type: 'open', minTrust: 'high' } })).rejects.toBeInstanceOf(ValidationError);
  });

  it('trust updates in flight are bounded: past maxPending they are dropped and counted; a failing sink is counted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { recordOutcome: () => gate };
    const feed = new TrustFeed({ trust: slow, maxPending: 2 });
    for (let i = 0; i < 5; i++) feed.staleReport('x');
    expect(feed.stats().dropped).toBe(3);
    release();
    await feed.flush();
    expect(feed.stats()).toMatchObject({ lowered: 2, dropped: 3 });
    const broken = new TrustFeed({ trust: { recordOutcome: () => Promise.reject(new Error('store down')) } });
    broken.staleReport('x');
    await broken.flush();
    expect(broken.stats()).toMatchObject({ errors: 1, lowered: 0 });
  });
});
