import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, PolicyError, ValidationError, type PolicySpec } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { PoolManager, type AdmissionPolicy } from '../src/index.js';

describe('PoolManager', () => {
  it('creates, persists and lists pools; a second manager on the store sees them', async () => {
    const store = new MemoryStore();
    const pm = new PoolManager({ store });
    await pm.createPool({ id: 'p1' });
    await pm.createPool({ id: 'p2', agents: ['a'] });
    await expect(pm.createPool({ id: 'p1' })).rejects.toBeInstanceOf(ConflictError);
    const pm2 = new PoolManager({ store });
    expect((await pm2.listPools()).map((p) => p.id)).toEqual(['p1', 'p2']);
    expect((await pm2.getPoolsForAgent('a')).map((p) => p.id)).toEqual(['p2']);
    await expect(pm2.getPool('zz')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('open pools admit anyone; join is idempotent; leave removes', async () => {
    const pm = new PoolManager({ store: new MemoryStore() });
    await pm.createPool({ id: 'p', admission: { type: 'open' } });
    await pm.createPool({ id: 'q' });
    await pm.joinPool('a', 'p');
    await pm.joinPool('a', 'p');
    await pm.joinPool('a', 'q');
    expect((await pm.getPool('p')).agents).toEqual(['a']);
    expect((await pm.getPoolsForAgent('a')).map((p) => p.id)).toEqual(['p', 'q']);
    expect(await pm.leavePool('a', 'p')).toBe(true);
    expect(await pm.leavePool('a', 'p')).toBe(false);
    expect((await pm.getPoolsForAgent('a')).map((p) => p.id)).toEqual(['q']);
    await expect(pm.joinPool('a', 'nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('whitelist admits listed agents only; a refusal is PolicyError and changes nothing', async () => {
    const store = new MemoryStore();
    const pm = new PoolManager({ store });
    await pm.createPool({ id: 'w', admission: { type: 'whitelist', agents: ['alice'] } });
    await pm.joinPool('alice', 'w');
    const before = await store.getEntry('pool:w');
    await expect(pm.joinPool('mallory', 'w')).rejects.toBeInstanceOf(PolicyError);
    expect(await store.getEntry('pool:w')).toEqual(before);
    expect(await pm.getPoolsForAgent('mallory')).toEqual([]);
    expect(pm.stats().refused).toBe(1);
    await expect(pm.createPool({ id: 'bad', admission: { type: 'whitelist' } })).rejects.toBeInstanceOf(ValidationError);
  });

  it('other admission types need a resolver (never silently admitted); the context reaches the policy', async () => {
    const store = new MemoryStore();
    await new PoolManager({ store }).createPool({ id: 't', admission: { type: 'token', token: 's3cret' } });
    await expect(new PoolManager({ store }).joinPool('a', 't', { token: 's3cret' })).rejects.toBeInstanceOf(PolicyError);
    const seen: unknown[] = [];
    const resolver = (spec: PolicySpec): AdmissionPolicy => ({
      admit: async (agentId, context, pool) => {
        seen.push([agentId, context, pool.id]);
        return context?.token === spec.token;
      },
    });
    const pm = new PoolManager({ store, admission: resolver });
    await expect(pm.joinPool('b', 't', { token: 'wrong' })).rejects.toBeInstanceOf(PolicyError);
    await pm.joinPool('a', 't', { token: 's3cret' });
    expect((await pm.getPool('t')).agents).toEqual(['a']);
    expect(seen).toEqual([
      ['b', { token: 'wrong' }, 't'],
      ['a', { token: 's3cret' }, 't'],
    ]);
  });

  it('concurrent joins and leaves from two managers lose no update', async () => {
    const store = new MemoryStore();
    const m1 = new PoolManager({ store });
    const m2 = new PoolManager({ store });
    await m1.createPool({ id: 'p' });
    const agents = Array.from({ length: 60 }, (_, i) => `a${i}`);
    await Promise.all(agents.map((a, i) => (i % 2 ? m1 : m2).joinPool(a, 'p')));
    expect((await m1.getPool('p')).agents.sort()).toEqual([...agents].sort());
    await Promise.all(agents.slice(0, 30).map((a, i) => (i % 2 ? m2 : m1).leavePool(a, 'p')));
    expect((await m2.getPool('p')).agents.sort()).toEqual(agents.slice(30).sort());
    expect((await m1.getPoolsForAgent('a40')).map((p) => p.id)).toEqual(['p']);
    expect(await m1.getPoolsForAgent('a3')).toEqual([]);
    expect(m1.stats().casRetries + m2.stats().casRetries).toBeGreaterThan(0);
  });

  it('ids with ":" do not alias in the membership index', async () => {
    const pm = new PoolManager({ store: new MemoryStore() });
    await pm.createPool({ id: 'x' });
    await pm.joinPool('a:b', 'x');
    expect(await pm.getPoolsForAgent('a')).toEqual([]);
    expect((await pm.getPoolsForAgent('a:b')).map((p) => p.id)).toEqual(['x']);
  });
});
