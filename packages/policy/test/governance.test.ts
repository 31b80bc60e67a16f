import { describe, expect, it } from 'vitest';
import { ConfigError, ValidationError } from '@converge/core';
import {
  BicameralGovernance,
  DemocraticGovernance,
  DictatorialGovernance,
  EmpiricalGovernance,
  TrustModel,
  VetoGovernance,
  governanceFromSpec,
  type GovernanceVote,
} from '@converge/policy';

const members = ['a', 'b', 'c', 'd', 'e'];
const proposal = (votes: GovernanceVote[]) => ({ id: 'p1', action: 'pool.update', proposer: 'a', votes });
const yes = (voter: string, extra: Partial<GovernanceVote> = {}): GovernanceVote => ({ voter, approve: true, ...extra });
const no = (voter: string, extra: Partial<GovernanceVote> = {}): GovernanceVote => ({ voter, approve: false, ...extra });

describe('DemocraticGovernance', () => {
  const gov = new DemocraticGovernance();

  it('approves on a majority of votes cast, refuses a tie or a minority', () => {
    expect(gov.decide(proposal([yes('a'), yes('b'), no('c')]), members).approved).toBe(true);
    expect(gov.decide(proposal([yes('a'), no('b')]), members).approved).toBe(false);
    expect(gov.decide(proposal([yes('a'), no('b'), no('c')]), members).approved).toBe(false);
    expect(gov.decide(proposal([]), members)).toMatchObject({ approved: false, reason: 'no votes from members' });
  });

  it('one member, one vote: self-declared weights are ignored', () => {
    const r = gov.decide(proposal([yes('a', { weight: 100 }), no('b'), no('c')]), members);
    expect(r.approved).toBe(false);
    expect(r.tally).toEqual({ approve: 1, reject: 2, counted: 3 });
  });

  it('ignores and reports non-members; counts a double vote once (the first)', () => {
    const r = gov.decide(proposal([yes('a'), no('x'), no('y'), no('b'), yes('b'), no('b')]), members);
    expect(r.nonMemberVoters).toEqual(['x', 'y']);
    expect(r.duplicateVoters).toEqual(['b']);
    expect(r.tally).toEqual({ approve: 1, reject: 1, counted: 2 });
    expect(r.approved).toBe(false);
    // Double "yes" votes cannot outvote two members.
    const stuffed = gov.decide(proposal([yes('a'), yes('a'), yes('a'), no('b'), no('c')]), members);
    expect(stuffed.approved).toBe(false);
  });

  it('a chamber mark does not let a voter vote twice', () => {
    const r = gov.decide(proposal([yes('a', { chamber: 'upper' }), yes('a', { chamber: 'lower' }), no('b')]), members);
    expect(r.tally.counted).toBe(2);
    expect(r.approved).toBe(false);
  });

  it('applies the threshold and the quorum', () => {
    const twoThirds = new DemocraticGovernance({ threshold: 0.66 });
    expect(twoThirds.decide(proposal([yes('a'), yes('b'), no('c')]), members).approved).toBe(true);
    expect(twoThirds.decide(proposal([yes('a'), yes('b'), no('c'), no('d')]), members).approved).toBe(false);
    const quorum = new DemocraticGovernance({ quorum: 0.6 });
    const r = quorum.decide(proposal([yes('a'), yes('b')]), members);
    expect(r.approved).toBe(false);
    expect(r.reason).toMatch(/quorum/);
    expect(quorum.decide(proposal([yes('a'), yes('b'), no('c')]), members).approved).toBe(true);
    // Non-members do not help reach the quorum.
    expect(quorum.decide(proposal([yes('a'), yes('b'), yes('x')]), members).approved).toBe(false);
  });

  it('validates settings and input', () => {
    expect(() => new DemocraticGovernance({ threshold: 1 })).toThrow(ConfigError);
    expect(() => new DemocraticGovernance({ threshold: -0.1 })).toThrow(ConfigError);
    expect(() => new DemocraticGovernance({ quorum: 0 })).toThrow(ConfigError);
    expect(() => gov.decide(proposal([{ voter: 'a' } as never]), members)).toThrow(ValidationError);
    expect(() => gov.decide({ id: 'p' } as never, members)).toThrow(ValidationError);
    expect(() => gov.decide(proposal([]), 'abc' as never)).toThrow(ValidationError);
  });
});

describe('DictatorialGovernance', () => {
  const gov = new DictatorialGovernance({ dictator: 'a' });

  it("only the dictator's vote counts", () => {
    expect(gov.decide(proposal([yes('a'), no('b'), no('c'), no('d')]), members).approved).toBe(true);
    const r = gov.decide(proposal([no('a'), yes('b'), yes('c')]), members);
    expect(r.approved).toBe(false);
    expect(r.uncountedVoters).toEqual(['b', 'c']);
    expect(gov.decide(proposal([yes('b')]), members)).toMatchObject({ approved: false, reason: 'the dictator has not voted' });
  });

  it('counts the first of a double vote; needs the dictator to be a member', () => {
    expect(gov.decide(proposal([no('a'), yes('a')]), members).approved).toBe(false);
    const r = gov.decide(proposal([yes('a')]), ['b', 'c']);
    expect(r.approved).toBe(false);
    expect(r.nonMemberVoters).toEqual(['a']);
    expect(() => new DictatorialGovernance({ dictator: '' })).toThrow(ConfigError);
  });
});

describe('BicameralGovernance', () => {
  const gov = new BicameralGovernance({ chambers: { upper: ['a', 'b'], lower: ['c', 'd', 'e'] }, threshold: 0.5 });

  it('passes only when both chambers approve', () => {
    expect(gov.decide(proposal([yes('a'), yes('c'), yes('d'), no('e')]), members).approved).toBe(true);
    const upperNo = gov.decide(proposal([no('a'), yes('c'), yes('d')]), members);
    expect(upperNo.approved).toBe(false);
    expect(upperNo.reason).toMatch(/upper 0\/1 does not approve/);
    expect(gov.decide(proposal([yes('a'), yes('b'), no('c')]), members).approved).toBe(false);
    expect(gov.decide(proposal([yes('a'), yes('b')]), members).approved).toBe(false); // lower did not vote
  });

  it('a member of both chambers votes in each; an explicit chamber limits the vote', () => {
    const both = new BicameralGovernance({ chambers: { upper: ['a'], lower: ['a', 'b'] }, threshold: 0.5 });
    expect(both.decide(proposal([yes('a'), no('b')]), ['a', 'b']).approved).toBe(false); // lower tie
    const r = both.decide(proposal([yes('a', { chamber: 'upper' }), no('a', { chamber: 'lower' }), yes('b')]), ['a', 'b']);
    expect(r.approved).toBe(false);
    expect(r.tally).toEqual({ approve: 2, reject: 1, counted: 3 });
    const r2 = both.decide(proposal([yes('a', { chamber: 'upper' }), yes('a', { chamber: 'lower' }), yes('b')]), ['a', 'b']);
    expect(r2.approved).toBe(true);
  });

  it('ignores seats of non-members, double votes and members of no chamber', () => {
    const r = gov.decide(proposal([yes('a'), yes('c'), no('x'), no('c'), no('f')]), [...members, 'f']);
    expect(r.approved).toBe(true);
    expect(r.nonMemberVoters).toEqual(['x']);
    expect(r.duplicateVoters).toEqual(['c']);
    expect(r.uncountedVoters).toEqual(['f']);
    // 'a' holds an upper seat but is not a pool member.
    expect(gov.decide(proposal([yes('a'), yes('c')]), ['c', 'd']).approved).toBe(false);
  });

  it('validates settings', () => {
    expect(() => new BicameralGovernance({} as never)).toThrow(ConfigError);
    expect(() => new BicameralGovernance({ chambers: { upper: ['a'] } } as never)).toThrow(ConfigError);
  });
});

describe('VetoGovernance', () => {
  const gov = new VetoGovernance({ vetoHolders: ['a'], base: new DemocraticGovernance() });

  it('a holder veto rejects whatever the base says', () => {
    const r = gov.decide(proposal([no('a', { veto: true }), yes('b'), yes('c'), yes('d')]), members);
    expect(r.approved).toBe(false);
    expect(r.reason).toBe('vetoed by a');
  });

  it("others' vetoes are ignored as vetoes, counted, and still count as votes against", () => {
    const r = gov.decide(proposal([no('b', { veto: true }), yes('c'), yes('d')]), members);
    expect(r.approved).toBe(true);
    expect(r.ignoredVetoes).toEqual(['b']);
    expect(r.tally).toEqual({ approve: 2, reject: 1, counted: 3 });
    const nonMember = gov.decide(proposal([no('x', { veto: true }), yes('c')]), members);
    expect(nonMember.approved).toBe(true);
    expect(nonMember.ignoredVetoes).toEqual(['x']);
    expect(nonMember.nonMemberVoters).toEqual(['x']);
  });

  it('a veto marked approve: true is still a veto; a holder not in the pool cannot veto', () => {
    expect(gov.decide(proposal([yes('a', { veto: true }), yes('b')]), members).approved).toBe(false);
    expect(gov.decide(proposal([no('a', { veto: true }), yes('b')]), ['b']).approved).toBe(true);
  });

  it('without a veto, the base decides', () => {
    expect(gov.decide(proposal([no('a'), no('b'), yes('c')]), members).approved).toBe(false);
    expect(gov.decide(proposal([yes('a'), yes('b'), no('c')]), members).approved).toBe(true);
  });
});

describe('EmpiricalGovernance', () => {
  it('weights votes by trust score', async () => {
    const trust = new TrustModel({ learningRate: 1 });
    await trust.recordOutcome('a', 'success'); // 1
    await trust.recordOutcome('b', 'failure'); // 0
    await trust.recordOutcome('c', 'failure', 0.5); // 0.25
    const gov = new EmpiricalGovernance({ trust, threshold: 0.5 });
    // One trusted yes beats two distrusted noes.
    const r = gov.decide(proposal([yes('a'), no('b'), no('c')]), members);
    expect(r.approved).toBe(true);
    expect(r.tally.approve).toBe(1);
    expect(r.tally.reject).toBeCloseTo(0.25);
    expect(gov.decide(proposal([no('a'), yes('b'), yes('c')]), members).approved).toBe(false);
  });

  it('ignores self-declared weights, non-members and double votes; no trust means no approval', async () => {
    const trust = new TrustModel({ learningRate: 1 });
    await trust.recordOutcome('b', 'failure');
    const gov = new EmpiricalGovernance({ trust, threshold: 0.5 });
    const r = gov.decide(proposal([yes('b', { weight: 1e6 }), yes('b'), no('c'), yes('x')]), members);
    expect(r.approved).toBe(false);
    expect(r.duplicateVoters).toEqual(['b']);
    expect(r.nonMemberVoters).toEqual(['x']);
    expect(gov.decide(proposal([yes('b')]), members)).toMatchObject({ approved: false, reason: 'no trust behind any counted vote' });
    expect(() => new EmpiricalGovernance({} as never)).toThrow(ConfigError);
  });
});

describe('governanceFromSpec', () => {
  it('builds every model from plain data', () => {
    const dem = governanceFromSpec({ type: 'democratic', quorum: 0.5 });
    expect(dem.decide(proposal([yes('a')]), members).approved).toBe(false);
    const dict = governanceFromSpec({ type: 'dictatorial', dictator: 'e' });
    expect(dict.decide(proposal([yes('e'), no('a')]), members).approved).toBe(true);
    const bi = governanceFromSpec({ type: 'bicameral', chambers: { upper: ['a'], lower: ['b'] } });
    expect(bi.decide(proposal([yes('a'), no('b')]), members).approved).toBe(false);
    const veto = governanceFromSpec({ type: 'veto', vetoHolders: ['c'], base: { type: 'democratic' } });
    expect(veto.decide(proposal([yes('a'), yes('b'), no('c', { veto: true })]), members).approved).toBe(false);
    const emp = governanceFromSpec({ type: 'empirical' }, { trust: new TrustModel() });
    expect(emp.decide(proposal([yes('a')]), members).approved).toBe(true);
  });

  it('throws ConfigError on unknown or incomplete specs', () => {
    expect(() => governanceFromSpec({ type: 'anarchy' })).toThrow(ConfigError);
    expect(() => governanceFromSpec({ type: 'empirical' })).toThrow(ConfigError);
    expect(() => governanceFromSpec({ type: 'democratic', threshold: 'half' })).toThrow(ConfigError);
    expect(() => governanceFromSpec({ type: 'veto', vetoHolders: ['a'] })).toThrow(ConfigError);
    let spec: Record<string, unknown> = { type: 'democratic' };
    for (let i = 0; i < 10; i++) spec = { type: 'veto', vetoHolders: ['a'], base: spec };
    expect(() => governanceFromSpec(spec as never)).toThrow(ConfigError);
  });
});
