import { describe, expect, it } from 'vitest';
import { ConfigError, ValidationError, type Store } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { TrustModel, DEFAULT_MAX_TRUST_AGENTS } from '@converge/policy';

function manualClock(start = 1_000_000) {
  let now = start;
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('TrustModel scores', () => {
  it('unknown agents start at initial; success raises, failure lowers, within [min, max]', async () => {
    const t = new TrustModel();
    expect(t.score('a')).toBe(0.5);
    const up = await t.recordOutcome('a', 'success');
    expect(up).toBeCloseTo(0.55);
    expect(t.score('a')).toBe(up);
    const down = await t.recordOutcome('a', 'failure');
    expect(down).toBeLessThan(up);
    for (let i = 0; i < 500; i++) await t.recordOutcome('b', 'success', 5);
    expect(t.score('b')).toBeLessThanOrEqual(1);
    expect(t.score('b')).toBeGreaterThan(0.99);
    for (let i = 0; i < 500; i++) await t.recordOutcome('c', 'failure', 5);
    expect(t.score('c')).toBeGreaterThanOrEqual(0);
    expect(t.score('c')).toBeLessThan(0.01);
  });

  it('weight scales the step and a huge weight jumps at most to the bound', async () => {
    const t = new TrustModel();
    const small = await t.recordOutcome('a', 'success', 0.5);
    const big = await t.recordOutcome('b', 'success', 2);
    expect(small - 0.5).toBeLessThan(big - 0.5);
    expect(await t.recordOutcome('c', 'success', 1e9)).toBe(1);
    expect(await t.recordOutcome('d', 'failure', 0)).toBe(0.5);
  });

  it('honours custom min, max and initial', async () => {
    const t = new TrustModel({ min: -1, max: 2, initial: 0 });
    expect(t.score('x')).toBe(0);
    expect(await t.recordOutcome('x', 'success', 100)).toBe(2);
    expect(await t.recordOutcome('x', 'failure', 100)).toBe(-1);
  });

  it('isTrusted compares with the threshold', async () => {
    const t = new TrustModel();
    expect(t.isTrusted('a', 0.5)).toBe(true);
    await t.recordOutcome('a', 'failure');
    expect(t.isTrusted('a', 0.5)).toBe(false);
    expect(() => t.isTrusted('a', Number.NaN)).toThrow(ValidationError);
  });

  it('decays toward initial with the configured half-life', async () => {
    const c = manualClock();
    const t = new TrustModel({ decayHalfLifeMs: 1000, clock: c.clock, learningRate: 1 });
    expect(await t.recordOutcome('a', 'success')).toBe(1);
    c.advance(1000);
    expect(t.score('a')).toBeCloseTo(0.75);
    c.advance(1000);
    expect(t.score('a')).toBeCloseTo(0.625);
    // The next outcome starts from the decayed score.
    const next = await t.recordOutcome('a', 'failure', 0.5);
    expect(next).toBeCloseTo(0.3125);
  });

  it('does not decay without a half-life', async () => {
    const c = manualClock();
    const t = new TrustModel({ clock: c.clock });
    const s = await t.recordOutcome('a', 'success');
    c.advance(1e9);
    expect(t.score('a')).toBe(s);
  });

  it('rejects bad input and bad settings', async () => {
    const t = new TrustModel();
    await expect(t.recordOutcome('', 'success')).rejects.toBeInstanceOf(ValidationError);
    await expect(t.recordOutcome('a', 'meh' as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(t.recordOutcome('a', 'success', -1)).rejects.toBeInstanceOf(ValidationError);
    await expect(t.recordOutcome('a', 'success', Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(ValidationError);
    expect(t.stats().agents).toBe(0);
    expect(() => new TrustModel({ min: 1, max: 0 })).toThrow(ConfigError);
    expect(() => new TrustModel({ initial: 2 })).toThrow(ConfigError);
    expect(() => new TrustModel({ maxAgents: 0 })).toThrow(ConfigError);
    expect(() => new TrustModel({ decayHalfLifeMs: 0 })).toThrow(ConfigError);
    expect(() => new TrustModel({ learningRate: 1.5 })).toThrow(ConfigError);
  });
});

describe('TrustModel bounds', () => {
  it('defaults to 10 000 agents', () => {
    expect(DEFAULT_MAX_TRUST_AGENTS).toBe(10_000);
  });

  it('evicts the least recently updated agent beyond maxAgents', async () => {
    const t = new TrustModel({ maxAgents: 2 });
    await t.recordOutcome('a', 'success');
    await t.recordOutcome('b', 'success');
    await t.recordOutcome('a', 'success'); // a is now the most recently updated
    t.score('b'); // reading does not refresh
    await t.recordOutcome('c', 'success');
    expect(t.agents()).toEqual(['a', 'c']);
    expect(t.score('b')).toBe(0.5);
    expect(t.stats()).toMatchObject({ agents: 2, evictions: 1, outcomes: 4 });
  });
});

describe('TrustModel persistence', () => {
  it('writes trust:<agentId> and a new model reloads it with load() or start()', async () => {
    const store = new MemoryStore();
    const c = manualClock();
    const t = new TrustModel({ store, clock: c.clock });
    const s = await t.recordOutcome('agent-1', 'success');
    expect(await store.get('trust:agent-1')).toEqual({ score: s, updatedAt: 1_000_000 });
    const t2 = new TrustModel({ store, clock: c.clock });
    expect(t2.score('agent-1')).toBe(0.5);
    await t2.start();
    expect(t2.score('agent-1')).toBe(s);
    const t3 = new TrustModel({ store, clock: c.clock });
    await t3.load();
    expect(t3.score('agent-1')).toBe(s);
    await t3.stop();
  });

  it('decay continues across a reload (wall-clock timestamps)', async () => {
    const store = new MemoryStore();
    const c = manualClock();
    const t = new TrustModel({ store, clock: c.clock, decayHalfLifeMs: 1000, learningRate: 1 });
    await t.recordOutcome('a', 'success');
    c.advance(1000);
    const t2 = new TrustModel({ store, clock: c.clock, decayHalfLifeMs: 1000 });
    await t2.load();
    expect(t2.score('a')).toBeCloseTo(0.75);
  });

  it('eviction deletes the evicted record from the store', async () => {
    const store = new MemoryStore();
    const t = new TrustModel({ store, maxAgents: 2 });
    await t.recordOutcome('a', 'success');
    await t.recordOutcome('b', 'success');
    await t.recordOutcome('c', 'success');
    await t.flush();
    expect(await store.list('trust:')).toEqual(['trust:b', 'trust:c']);
  });

  it('forget removes an agent from memory and store', async () => {
    const store = new MemoryStore();
    const t = new TrustModel({ store });
    await t.recordOutcome('a', 'failure');
    await t.forget('a');
    expect(t.score('a')).toBe(0.5);
    expect(await store.get('trust:a')).toBeUndefined();
  });

  it('load keeps the newest maxAgents records, deletes the rest, and skips malformed ones', async () => {
    const store = new MemoryStore();
    await store.put('trust:old', { score: 0.9, updatedAt: 1 });
    await store.put('trust:mid', { score: 0.8, updatedAt: 2 });
    await store.put('trust:new', { score: 0.7, updatedAt: 3 });
    await store.put('trust:bad', { score: 'high' });
    await store.put('trust:junk', 'not an object');
    await store.put('trust:wild', { score: 42, updatedAt: 4 }); // clamped to max
    const t = new TrustModel({ store, maxAgents: 3 });
    await t.load();
    expect(t.agents()).toEqual(['mid', 'new', 'wild']);
    expect(t.score('wild')).toBe(1);
    expect(t.score('old')).toBe(0.5);
    expect(await store.get('trust:old')).toBeUndefined();
    expect(t.stats()).toMatchObject({ rejectedRecords: 2, evictions: 1 });
  });

  it('concurrent updates of one agent lose nothing and the store ends with the latest score', async () => {
    const store = new MemoryStore();
    const t = new TrustModel({ store });
    await Promise.all(Array.from({ length: 20 }, () => t.recordOutcome('a', 'success')));
    expect(t.score('a')).toBeCloseTo(1 - 0.5 * 0.9 ** 20);
    expect((await store.get<{ score: number }>('trust:a'))?.score).toBe(t.score('a'));
  });

  it('reports a failed write to the caller', async () => {
    const store = new MemoryStore();
    const failing: Store = Object.assign(Object.create(store), {
      put: async () => {
        throw new Error('disk full');
      },
    });
    const t = new TrustModel({ store: failing });
    await expect(t.recordOutcome('a', 'success')).rejects.toThrow('disk full');
  });
});
