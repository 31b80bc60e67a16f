import { describe, expect, it } from 'vitest';
import { ConflictError, LimitExceededError, NotFoundError, PolicyError } from '@converge/core';
import { NegotiationProtocol } from '../src/index.js';

function setup(opts: { maxSessions?: number; ttlMs?: number } = {}) {
  const clock = { now: 0 };
  return { clock, np: new NegotiationProtocol({ clock: () => clock.now, ...opts }) };
}

describe('NegotiationProtocol', () => {
  it('propose → counter → accept', () => {
    const { np } = setup();
    const s = np.propose('a', ['b'], { price: 10 });
    expect(s).toMatchObject({ state: 'proposed', participants: ['a', 'b'], current: { by: 'a', terms: { price: 10 } } });
    expect(np.counter(s.id, 'b', { price: 8 }).state).toBe('countered');
    const done = np.accept(s.id, 'a');
    expect(done).toMatchObject({ state: 'accepted', acceptedBy: ['a'], current: { by: 'b', terms: { price: 8 } } });
    expect(done.history).toHaveLength(2);
  });

  it('nobody accepts or counters their own latest offer; non-participants cannot act', () => {
    const { np } = setup();
    const s = np.propose('a', ['b'], 1);
    expect(() => np.accept(s.id, 'a')).toThrow(ConflictError);
    expect(() => np.counter(s.id, 'a', 2)).toThrow(ConflictError);
    for (const f of [() => np.accept(s.id, 'c'), () => np.counter(s.id, 'c', 3), () => np.reject(s.id, 'c')]) expect(f).toThrow(PolicyError);
    np.counter(s.id, 'b', 2);
    expect(() => np.accept(s.id, 'b')).toThrow(ConflictError);
    expect(np.getSession(s.id).state).toBe('countered');
    expect(np.stats().refused).toBe(6);
  });

  it('with three parties, every non-author must accept; a counter resets acceptances', () => {
    const { np } = setup();
    const s = np.propose('a', ['b', 'c'], 1);
    expect(np.accept(s.id, 'b').state).toBe('proposed');
    np.counter(s.id, 'c', 2);
    expect(np.accept(s.id, 'a').state).toBe('countered');
    expect(np.accept(s.id, 'b').state).toBe('accepted');
  });

  it('nothing happens after a terminal state; the error names the state and the session is unchanged', () => {
    const { np } = setup();
    const s = np.propose('a', ['b'], 1);
    np.reject(s.id, 'b', 'too low');
    const before = np.getSession(s.id);
    expect(before).toMatchObject({ state: 'rejected', rejectedBy: 'b', reason: 'too low' });
    for (const f of [() => np.accept(s.id, 'b'), () => np.counter(s.id, 'b', 2), () => np.reject(s.id, 'a')]) {
      try {
        f();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).currentState).toBe('rejected');
        expect((err as Error).message).toContain('rejected');
      }
    }
    expect(np.getSession(s.id)).toEqual(before);
    expect(() => np.getSession('nope')).toThrow(NotFoundError);
  });

  it('sessions expire after the ttl (renewed by counters)', () => {
    const { np, clock } = setup({ ttlMs: 100 });
    const s = np.propose('a', ['b'], 1);
    clock.now = 90;
    np.counter(s.id, 'b', 2);
    clock.now = 180;
    expect(np.getSession(s.id).state).toBe('countered');
    clock.now = 190;
    expect(() => np.accept(s.id, 'a')).toThrow(ConflictError);
    expect(np.getSession(s.id).state).toBe('expired');
    expect(np.stats().expired).toBe(1);
  });

  it('is bounded: the oldest finished session is evicted first; live sessions are never dropped', () => {
    const { np, clock } = setup({ maxSessions: 3, ttlMs: 100 });
    const s1 = np.propose('a', ['b'], 1);
    const s2 = np.propose('a', ['b'], 2);
    const s3 = np.propose('a', ['b'], 3);
    np.reject(s3.id, 'b');
    np.reject(s2.id, 'b');
    np.propose('a', ['b'], 4); // evicts s3 (finished first), keeps live s1
    expect(() => np.getSession(s3.id)).toThrow(NotFoundError);
    expect(np.getSession(s1.id).state).toBe('proposed');
    np.propose('a', ['b'], 5); // evicts s2
    expect(np.stats().evicted).toBe(2);
    expect(() => np.propose('a', ['b'], 6)).toThrow(LimitExceededError);
    clock.now = 100; // everything expires: room again
    np.propose('a', ['b'], 7);
    expect(np.size).toBe(3);
  });
});
