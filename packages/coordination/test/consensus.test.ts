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

  it('weighted rules use the table (missing voters weigh 0) or the votes\' own weights', () => {
    const votes = [v('a', 'x'), v('b', 'y'), v('c', 'y')];
    expect(weightedMajorityVote(votes, { a: 5, b: 1, c: 1 })).toMatchObject({ outcome: 'winner', winner: 'x', tally: { x: 5, y: 2 } });
    expect(weightedMajorityVote(votes, { a: 2, b: 1, c: 1 })).toMatchObject({ outcome: 'tie', tied: ['x', 'y'] });
    expect(weightedPluralityVote(votes, new Map([['b', 1]]))).toMatchObject({ outcome: 'winner', winner: 'y', tally: { x: 0, y: 1 } });
    expect(weightedPluralityVote([v('a', 'x', 3), v('b', 'y', 2)])).toMatchObject({ outcome: 'winner', winner: 'x' });
    expect(weightedMajorityVote([v('a', 'x', 1), v('b', 'y', 1), v('c', 'z', 1)]).outcome).toBe('tie');
    expect(() => weightedMajorityVote([v('a', 'x', -1)])).toThrow(ValidationError);
    expect(() => weightedMajorityVote([v('a', 'x')], { a: Number.NaN })).toThrow(ValidationError);
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
