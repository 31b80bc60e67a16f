// The synchronous fast paths of the TaskManager's hot path: the frozen copy a manager remembers
// of what it wrote, and the claim access check decided on a cached pool without an await.
import { describe, expect, it } from 'vitest';
import { Float64, cloneWireValue, type Pool } from '@converge/core';
import { deepFreeze, frozenCopy, type TaskRecord } from '../src/tasks/records.js';
import { TaskAccess } from '../src/tasks/access.js';

describe('frozenCopy', () => {
  it('equals deepFreeze(cloneWireValue(x)): plain parts copied and frozen, the rest copied', () => {
    const src = {
      id: 't',
      inputs: { n: 1, deep: { list: [1, { x: 2 }] } },
      caps: ['a'],
      f: new Float64(2),
      b: new Uint8Array([1]),
      m: new Map([['k', { v: 1 }]]),
      none: null,
    };
    const out = frozenCopy(src);
    expect(out).toEqual(src);
    for (const o of [out, out.inputs, out.inputs.deep, out.inputs.deep.list, out.inputs.deep.list[1], out.caps]) expect(Object.isFrozen(o)).toBe(true);
    expect(out.inputs).not.toBe(src.inputs);
    expect(out.inputs.deep.list).not.toBe(src.inputs.deep.list);
    expect(out.b).not.toBe(src.b);
    expect(out.m).not.toBe(src.m);
    expect(Object.isFrozen(src)).toBe(false);
    expect(Object.isFrozen(src.inputs)).toBe(false);
    const ref = deepFreeze(cloneWireValue(src));
    expect(out).toEqual(ref);
    expect(Object.isFrozen(out.m)).toBe(Object.isFrozen(ref.m));
    expect(Object.isFrozen(out.b)).toBe(Object.isFrozen(ref.b));
  });

  it('copies already-frozen members instead of sharing them, and keeps key order', () => {
    const shared = Object.freeze({ n: 1 });
    const out = frozenCopy({ z: 1, a: shared, m: 2 });
    expect(out.a).not.toBe(shared);
    expect(Object.keys(out)).toEqual(['z', 'a', 'm']);
  });
});

describe('TaskAccess.passesClaimNow', () => {
  const rec = (poolId: string | null, requiredCapabilities: string[] = []): TaskRecord => ({ id: 't', poolId, requiredCapabilities }) as unknown as TaskRecord;
  const closed: Pool = { id: 'p', owner: 'olga', agents: ['alice'], admission: { type: 'whitelist', agents: ['alice'] } } as unknown as Pool;

  it('passes on a cached pool the claimer is a member of, and only then', async () => {
    let reads = 0;
    const access = new TaskAccess({ getPool: async () => (reads++, closed) }, undefined, () => {});
    // Nothing cached yet: undecided (the caller then runs checkClaim, which reads the pool).
    expect(access.passesClaimNow(rec('p'), 'alice', new Set())).toBe(false);
    await access.checkClaim(rec('p'), 'alice', new Set(), {});
    expect(reads).toBe(1);
    expect(access.passesClaimNow(rec('p'), 'alice', new Set())).toBe(true);
    expect(access.passesClaimNow(rec('p'), 'mallory', new Set())).toBe(false);
    expect(access.passesClaimNow(rec('p', ['gpu']), 'alice', new Set())).toBe(false);
    expect(access.passesClaimNow(rec('p', ['gpu']), 'alice', new Set(['gpu']))).toBe(true);
    expect(reads).toBe(1);
  });

  it('passes a task in no pool, or with no pools checked, on capabilities alone', () => {
    const access = new TaskAccess(null, undefined, () => {});
    expect(access.passesClaimNow(rec('p'), 'anyone', new Set())).toBe(true);
    expect(access.passesClaimNow(rec(null, ['x']), 'anyone', new Set())).toBe(false);
    const checked = new TaskAccess({ getPool: async () => closed }, undefined, () => {});
    expect(checked.passesClaimNow(rec(null), 'anyone', new Set())).toBe(true);
  });

  it('never passes on a stale cache entry', async () => {
    let now = 0;
    const access = new TaskAccess(
      { getPool: async () => closed },
      undefined,
      () => {},
      1_000,
      () => now,
    );
    await access.checkClaim(rec('p'), 'alice', new Set(), {});
    expect(access.passesClaimNow(rec('p'), 'alice', new Set())).toBe(true);
    now = 1_000;
    expect(access.passesClaimNow(rec('p'), 'alice', new Set())).toBe(false);
  });
});
