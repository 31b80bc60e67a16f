import { describe, expect, it } from 'vitest';
import { ConflictError, PolicyError, ValidationError } from '@converge/core';
import { Ballot, BallotBox, Consensus, majorityVote, pluralityVote, weightedMajorityVote, weightedPluralityVote } from '../src/index.js';

const v = (voter: string, choice: string, weight?: number) => (weight === undefined ? { voter, choice } : { voter, choice, weight });

describe('Consensus', () => {
  it('majority: more than half wins; otherwise an explicit tie or no-majority', () => {
    expect(majorityVote([v('a', 'x'), v('b', 'x'), v('c', 'y')])).toEqual({ outcome: 'winner', winner: 'x', tally: { x: 2, y: 1 } });
    expect(majorityVote([v('a', 'x'), v('b', 'y')])).toEqual({ outcome: 'tie', tied: ['x', 'y'], tally: { x: 1, y: 1 } });
    expect(majorityVote([v('a', 'x'), v('b', 'x'), v('c', 'y'), v('d', 'z')]).outcome).toBe('no-majority');
    expect(majorityVote([]).outcome).toBe('no-quorum');
    expect(majorityVote([v('a', 'x')], { quorum: 2 }).outcome).toBe('no-quorum');
  });

  it('majority refuses non-members and double votes', () => {
    expect(() => majorityVote([v('a', 'x'), v('z', 'x')], { members: ['a', 'b'] })).toThrow(PolicyError);
    expect(() => majorityVote([v('a', 'x'), v('a', 'y')])).toThrow(ValidationError);
  });

  it('plurality: the highest tally wins; ties are explicit and sorted', () => {
    expect(pluralityVote([v('a', 'x'), v('b', 'x'), v('c', 'y'), v('d', 'z')])).toMatchObject({ outcome: 'winner', winner: 'x' });
    expect(pluralityVote([v('a', 'z'), v('b', 'x'), v('c', 'y')])).toMatchObject({ outcome: 'tie', tied: ['x', 'y', 'z'] });
    expect(Consensus.pluralityVote([]).outcome).toBe('no-quorum');
  });

  it("weighted rules use the table (missing voters weigh 0) or the votes' own weights", () => {
    const votes = [v('a', 'x'), v('b', 'y'), v('c', 'y')];
    expect(weightedMajorityVote(votes, { a: 5, b: 1, c: 1 })).toMatchObject({ outcome: 'winner', winner: 'x', tally: { x: 5, y: 2 } });
    expect(weightedMajorityVote(votes, { a: 2, b: 1, c: 1 })).toMatchObject({ outcome: 'tie', tied: ['x', 'y'] });
    expect(weightedPluralityVote(votes, new Map([['b', 1]]))).toMatchObject({ outcome: 'winner', winner: 'y', tally: { x: 0, y: 1 } });
    expect(weightedPluralityVote([v('a', 'x'), v('b', 'y')], (voter) => (voter === 'a' ? 3 : 2))).toMatchObject({ outcome: 'winner', winner: 'x' });
    expect(weightedMajorityVote([v('a', 'x'), v('b', 'y'), v('c', 'z')], () => 1).outcome).toBe('tie');
    expect(() => weightedMajorityVote([v('a', 'x')], () => -1)).toThrow(ValidationError);
    expect(() => weightedMajorityVote([v('a', 'x')], { a: Number.NaN })).toThrow(ValidationError);
  });

  // Issue 21 L1: a voter's own weight used to count when no table was given (1e300 beat three honest votes).
  it("never counts a voter's own claimed weight (L1)", () => {
    const votes = [v('mallory', 'evil', 1e300), v('a', 'good', 1), v('b', 'good', 1), v('c', 'good', 1)];
    const table = { mallory: 1, a: 1, b: 1, c: 1 };
    expect(weightedMajorityVote(votes, table)).toMatchObject({ outcome: 'winner', winner: 'good', tally: { evil: 1, good: 3 } });
    expect(weightedPluralityVote(votes, table)).toMatchObject({ outcome: 'winner', winner: 'good' });
    // A trust score as the source: mallory's claim changes nothing.
    const trust = (voter: string) => (voter === 'mallory' ? 0.1 : 0.5);
    expect(weightedMajorityVote(votes, trust)).toMatchObject({ outcome: 'winner', winner: 'good' });
    // No source at all: refused, never a fallback to the claims.
    expect(() => weightedMajorityVote(votes, undefined as never)).toThrow(ValidationError);
    expect(() => weightedPluralityVote(votes, undefined as never)).toThrow(ValidationError);
    // A ballot: the weighted rules need a source; claimed weights are recorded, not counted.
    expect(() => new Ballot({ rule: 'weighted-majority' })).toThrow(ValidationError);
    const b = new Ballot({ rule: 'weighted-majority', weights: table });
    for (const x of votes) b.vote(x.voter, x.choice, x.weight);
    expect(b.close()).toMatchObject({ outcome: 'winner', winner: 'good', tally: { evil: 1, good: 3 } });
    expect(b.votes[0]).toEqual({ voter: 'mallory', choice: 'evil', weight: 1e300 });
  });

  it('handles choices named like Object.prototype members', () => {
    expect(pluralityVote([v('a', '__proto__'), v('b', 'constructor'), v('c', '__proto__')])).toMatchObject({ outcome: 'winner', winner: '__proto__' });
  });
});

describe('Ballot', () => {
  it('refuses non-members, double votes and votes after close with typed errors; the ballot is unchanged', () => {
    const b = new Ballot({ id: 'b1', members: ['a', 'b', 'c'], choices: ['x', 'y'] });
    b.vote('a', 'x');
    expect(() => b.vote('z', 'x')).toThrow(PolicyError);
    expect(() => b.vote('z', 'x')).toThrow(/open/);
    expect(() => b.vote('a', 'y')).toThrow(ConflictError);
    expect(() => b.vote('b', 'nope')).toThrow(ValidationError);
    expect(b.votes).toEqual([{ voter: 'a', choice: 'x' }]);
    b.vote('b', 'x');
    expect(b.close()).toMatchObject({ outcome: 'winner', winner: 'x' });
    try {
      b.vote('c', 'y');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).currentState).toBe('closed');
    }
    expect(b.votes).toHaveLength(2);
    expect(b.state).toBe('closed');
  });

  it('BallotBox routes votes by ballot id', () => {
    const box = new BallotBox();
    box.open({ id: 'q', rule: 'plurality' });
    box.vote('q', 'a', 'x');
    box.vote('q', 'b', 'y');
    expect(box.close('q')).toMatchObject({ outcome: 'tie', tied: ['x', 'y'] });
  });
});
