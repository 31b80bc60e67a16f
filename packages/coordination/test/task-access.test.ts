// Issue 21 M1 (cancel rights), M2 (pool existence, membership, capabilities on submit and
// claim) and L6 (the lease is mandatory on every call of a claim's holder): who may do what to
// a task, on a TaskManager and on the portable StoreTaskQueue.
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, PolicyError, ValidationError, type Pool } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { PoolManager, StoreTaskQueue, TaskManager, pendingKey, recordKey, type Lease, type TaskGovernance, type TaskRecord } from '../src/index.js';
import { TaskAccess } from '../src/tasks/access.js';

async function setup(options: { governance?: TaskGovernance } = {}) {
  const store = new MemoryStore();
  const clock = { now: 1_000_000 };
  const tm = new TaskManager({ store, clock: () => clock.now, defaults: { claimTtlMs: 1_000 }, ...options });
  const pools = new PoolManager({ store });
  // A closed pool: members alice and bob, owned by olga (who has not joined).
  await pools.createPool({ id: 'closed', owner: 'olga', admission: { type: 'whitelist', agents: ['alice', 'bob'] } });
  await pools.joinPool('alice', 'closed');
  await pools.joinPool('bob', 'closed');
  // An open pool: anyone may join, so anyone may act in it.
  await pools.createPool({ id: 'open' });
  return { store, clock, tm, pools };
}

async function refusal(fn: () => Promise<unknown>): Promise<Error> {
  const err = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('M1: cancel is for the submitter, the pool owner, or whom governance allows', () => {
  it('refuses anyone else with PolicyError, even for a task another agent holds; nothing changes', async () => {
    const { tm } = await setup();
    await tm.submit({ id: 't', objective: 'x', poolId: 'closed' }, { by: 'alice' });
    await tm.claim('bob', 't');
    const before = await tm.getTask('t');
    for (const by of ['bob', 'mallory']) expect(await refusal(() => tm.cancel('t', { by }))).toBeInstanceOf(PolicyError);
    expect(await tm.getTask('t')).toEqual(before);
    expect(tm.stats()).toMatchObject({ refused: 2, cancelled: 0 });
  });

  it("the submitter and the pool owner may cancel; the holder's lease is fenced off afterwards", async () => {
    const { tm } = await setup();
    await tm.submit({ id: 'mine', objective: 'x', poolId: 'closed' }, { by: 'alice' });
    await tm.submit({ id: 'owned', objective: 'x', poolId: 'closed' }, { by: 'bob' });
    expect((await tm.getTask('mine')).submittedBy).toBe('alice');
    const lease = await tm.claim('bob', 'mine');
    expect((await tm.cancel('mine', { by: 'alice' })).state).toBe('cancelled');
    expect((await tm.cancel('owned', { by: 'olga' })).state).toBe('cancelled');
    // The holder's report, fail and heartbeat all hit the cancelled state.
    for (const call of [() => tm.report('bob', 'mine', 1, lease), () => tm.fail('mine', 'x', 'bob', lease), () => tm.extendClaim(lease)]) {
      const err = await refusal(call);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).currentState).toBe('cancelled');
    }
    expect((await tm.getTask('mine')).state).toBe('cancelled');
  });

  it('a task submitted by the application (no submitter, no pool owner) can only be cancelled by the application or governance', async () => {
    const { tm } = await setup();
    await tm.submit({ id: 'app', objective: 'x' });
    expect(await refusal(() => tm.cancel('app', { by: 'alice' }))).toBeInstanceOf(PolicyError);
    expect((await tm.cancel('app')).state).toBe('cancelled');
  });

  it('the governance hook grants cancels per pool; a hook that throws refuses', async () => {
    const seen: [string, string, string | null][] = [];
    const governance: TaskGovernance = {
      mayCancel(agentId: string, task: TaskRecord, pool: Pool | null) {
        seen.push([agentId, task.id, pool?.id ?? null]);
        if (agentId === 'boom') throw new Error('hook down');
        return agentId === 'moderator' && pool?.id === 'closed';
      },
    };
    const { tm } = await setup({ governance });
    await tm.submit({ id: 'a', objective: 'x', poolId: 'closed' }, { by: 'alice' });
    await tm.submit({ id: 'b', objective: 'x', poolId: 'open' }, { by: 'alice' });
    expect((await tm.cancel('a', { by: 'moderator' })).state).toBe('cancelled');
    expect(await refusal(() => tm.cancel('b', { by: 'moderator' }))).toBeInstanceOf(PolicyError);
    const err = await refusal(() => tm.cancel('b', { by: 'boom' }));
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(seen).toEqual([
      ['moderator', 'a', 'closed'],
      ['moderator', 'b', 'open'],
      ['boom', 'b', 'open'],
    ]);
    expect((await tm.getTask('b')).state).toBe('pending');
  });
});

describe('M2: submit and claim check the pool, membership and capabilities', () => {
  it('a pool that does not exist refuses tasks (NotFoundError), and nothing is written', async () => {
    const { store, tm } = await setup();
    for (const by of [undefined, 'alice']) {
      expect(await refusal(() => tm.submit({ id: 'ghost-task', objective: 'x', poolId: 'ghost' }, { by }))).toBeInstanceOf(NotFoundError);
    }
    expect(await store.get(recordKey('ghost-task'))).toBeUndefined();
    expect(await store.get(pendingKey('ghost', 'ghost-task'))).toBeUndefined();
    expect(tm.stats()).toMatchObject({ refused: 2, submitted: 0 });
  });

  it('only members and the owner submit to a closed pool; anyone to an open one', async () => {
    const { tm, pools } = await setup();
    // Mallory is refused by the pool's admission policy...
    expect(await refusal(() => pools.joinPool('mallory', 'closed'))).toBeInstanceOf(PolicyError);
    // ...and so cannot submit to it either.
    expect(await refusal(() => tm.submit({ id: 'm', objective: 'x', poolId: 'closed' }, { by: 'mallory' }))).toBeInstanceOf(PolicyError);
    await expect(tm.getTask('m')).rejects.toBeInstanceOf(NotFoundError);
    expect((await tm.submit({ id: 'a', objective: 'x', poolId: 'closed' }, { by: 'alice' })).submittedBy).toBe('alice');
    expect((await tm.submit({ id: 'o', objective: 'x', poolId: 'closed' }, { by: 'olga' })).submittedBy).toBe('olga');
    expect((await tm.submit({ id: 'any', objective: 'x', poolId: 'open' }, { by: 'mallory' })).state).toBe('pending');
  });

  it('a refused agent cannot claim in the pool; a member can; the owner can', async () => {
    const { tm } = await setup();
    for (const id of ['t1', 't2']) await tm.submit({ id, objective: 'x', poolId: 'closed' }, { by: 'alice' });
    const err = await refusal(() => tm.claim('mallory', 't1'));
    expect(err).toBeInstanceOf(PolicyError);
    expect((await tm.getTask('t1')).state).toBe('pending');
    expect((await tm.claim('bob', 't1')).attempt).toBe(1);
    expect((await tm.claim('olga', 't2')).agentId).toBe('olga');
  });

  it('a claimer without a required capability is refused; with it, it wins', async () => {
    const { tm } = await setup();
    await tm.submit({ id: 'gpu', objective: 'x', poolId: 'open', requiredCapabilities: ['gpu', 'cuda'] });
    for (const capabilities of [undefined, [], ['gpu'], ['cpu', 'cuda']]) {
      expect(await refusal(() => tm.claim('alice', 'gpu', { capabilities }))).toBeInstanceOf(PolicyError);
    }
    expect((await tm.getTask('gpu')).state).toBe('pending');
    expect((await tm.claim('alice', 'gpu', { capabilities: new Set(['cuda', 'gpu', 'ssd']) })).attempt).toBe(1);
    expect(tm.stats().refused).toBe(4);
  });

  it('a claim from the cached record (this manager submitted it) is checked too', async () => {
    const { tm } = await setup();
    await tm.submit({ id: 'c', objective: 'x', poolId: 'closed', requiredCapabilities: ['gpu'] }, { by: 'alice' });
    expect(await refusal(() => tm.claim('bob', 'c'))).toBeInstanceOf(PolicyError); // member, no gpu
    expect(await refusal(() => tm.claim('mallory', 'c', { capabilities: ['gpu'] }))).toBeInstanceOf(PolicyError); // gpu, no member
    expect((await tm.claim('bob', 'c', { capabilities: ['gpu'] })).agentId).toBe('bob');
  });

  it('a task whose pool is gone cannot be claimed (NotFoundError; with the pool cache off, at once)', async () => {
    const { store } = await setup();
    const tm = new TaskManager({ store, defaults: { poolCacheMs: 0 } });
    await tm.submit({ id: 'orphan', objective: 'x', poolId: 'open' });
    await store.delete('pool:open');
    expect(await refusal(() => tm.claim('alice', 'orphan'))).toBeInstanceOf(NotFoundError);
  });

  it('an agent that has just joined is let in at once, although its pool record was cached without it', async () => {
    const { tm, pools } = await setup();
    await pools.createPool({ id: 'late', admission: { type: 'whitelist', agents: ['alice', 'carol'] } });
    await pools.joinPool('alice', 'late');
    await tm.submit({ id: 'l', objective: 'x', poolId: 'late' }, { by: 'alice' }); // caches 'late' without carol
    expect(await refusal(() => tm.claim('carol', 'l'))).toBeInstanceOf(PolicyError);
    await pools.joinPool('carol', 'late');
    expect((await tm.claim('carol', 'l')).agentId).toBe('carol');
  });

  it("StoreTaskQueue with the application's pools: membership, existence and capabilities", async () => {
    const { store, pools } = await setup();
    const queue = new StoreTaskQueue({ store, pools });
    await queue.submit({ id: 'q1', objective: 'x', poolId: 'closed', requiredCapabilities: ['gpu'] });
    expect(await refusal(() => queue.submit({ id: 'q2', objective: 'x', poolId: 'ghost' }))).toBeInstanceOf(NotFoundError);
    expect(await refusal(() => queue.claim({ agentId: 'bob', poolId: 'ghost' }))).toBeInstanceOf(NotFoundError);
    expect(await refusal(() => queue.claim({ agentId: 'mallory', poolId: 'closed', capabilities: ['gpu'] }))).toBeInstanceOf(PolicyError);
    expect(await queue.claim({ agentId: 'bob', poolId: 'closed' })).toEqual([]); // no gpu: nothing for bob
    // The manager enforces capabilities even when called directly, past the queue's listing.
    expect(await refusal(() => queue.manager.claim('bob', 'q1'))).toBeInstanceOf(PolicyError);
    const [won] = await queue.claim({ agentId: 'bob', poolId: 'closed', capabilities: ['gpu'] });
    expect(won!.lease.agentId).toBe('bob');
    await queue.stop();
  });
});

describe('L6: the lease is mandatory on report, fail, extend, start and release', () => {
  it("a holder's call without its lease is ValidationError and changes nothing", async () => {
    const { tm } = await setup();
    await tm.submit({ id: 't', objective: 'x' });
    await tm.claim('alice', 't');
    const before = await tm.getTask('t');
    const calls: (() => Promise<unknown>)[] = [
      () => tm.report('alice', 't', 1, undefined as unknown as Lease),
      () => tm.fail('t', 'x', 'alice', undefined as unknown as Lease),
      () => tm.fail('t', 'x', undefined as unknown as string, undefined as unknown as Lease),
      () => tm.extendClaim(undefined as unknown as Lease),
      () => tm.start('alice', 't', undefined as unknown as Lease),
      () => tm.release('alice', 't', undefined as unknown as Lease),
      // A lease of another task or agent than the call names is malformed too.
      () => tm.report('alice', 't', 1, { taskId: 'other', agentId: 'alice', attempt: 1, expiresAt: 0 }),
      () => tm.report('alice', 't', 1, { taskId: 't', agentId: 'bob', attempt: 1, expiresAt: 0 }),
    ];
    for (const call of calls) expect(await refusal(call)).toBeInstanceOf(ValidationError);
    expect(await tm.getTask('t')).toEqual(before);
  });

  it("after a re-claim, the first attempt's worker cannot report into the second (fencing is not opt-in)", async () => {
    const { tm, clock } = await setup();
    await tm.submit({ id: 't', objective: 'x' });
    const first = await tm.claim('alice', 't');
    clock.now += 2_000; // the lease runs out; alice claims again (say, another of her workers)
    const second = await tm.claim('alice', 't');
    expect(second.attempt).toBe(2);
    // The first worker, late: without a lease it is refused, with its own lease it is stale.
    expect(await refusal(() => tm.report('alice', 't', 'late', undefined as unknown as Lease))).toBeInstanceOf(ValidationError);
    expect(await refusal(() => tm.report('alice', 't', 'late', first))).toBeInstanceOf(ConflictError);
    expect(await refusal(() => tm.fail('t', 'late', 'alice', first))).toBeInstanceOf(ConflictError);
    expect((await tm.report('alice', 't', 'ok', second)).result).toBe('ok');
  });
});

describe('passesSubmitNow: the submit check decided without waiting, only on a fresh cached pool', () => {
  it('is true only for a member of a pool read within the cache time; otherwise checkSubmit runs', async () => {
    const { pools } = await setup();
    let reads = 0;
    const directory = { getPool: (id: string) => (reads++, pools.getPool(id)) };
    const clock = { now: 5_000 };
    const access = new TaskAccess(
      directory,
      undefined,
      () => undefined,
      1_000,
      () => clock.now,
    );
    expect(access.passesSubmitNow({ poolId: null }, 'mallory')).toBe(true); // no pool: nothing to check
    expect(access.passesSubmitNow({ poolId: 'closed' }, 'alice')).toBe(false); // not read yet
    await access.checkSubmit({ id: 't', poolId: 'closed' }, 'alice', {});
    expect(reads).toBe(1);
    expect(access.passesSubmitNow({ poolId: 'closed' }, 'alice')).toBe(true);
    expect(access.passesSubmitNow({ poolId: 'closed' }, undefined)).toBe(true); // the application submits
    expect(access.passesSubmitNow({ poolId: 'closed' }, 'mallory')).toBe(false); // checkSubmit refuses it
    expect(await refusal(() => access.checkSubmit({ id: 'm', poolId: 'closed' }, 'mallory', {}))).toBeInstanceOf(PolicyError);
    expect(access.passesSubmitNow({ poolId: 'ghost' }, 'alice')).toBe(false); // never found, never cached
    clock.now += 1_000; // the cached read is stale: the check reads again
    expect(access.passesSubmitNow({ poolId: 'closed' }, 'alice')).toBe(false);
    const noPools = new TaskAccess(null, undefined, () => undefined);
    expect(noPools.passesSubmitNow({ poolId: 'closed' }, 'mallory')).toBe(true);
  });
});
