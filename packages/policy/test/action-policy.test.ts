import { describe, expect, it } from 'vitest';
import { ConfigError, Decisions, PolicyError, type Decision, type DecisionPolicy } from '@converge/core';
import { ActionPolicy } from '@converge/policy';

const send = Decisions.sendMessage('bob', 'hi');
const claim = Decisions.claimTask('t1');
const tool = (name: string) => Decisions.invokeTool(name, {});

describe('ActionPolicy', () => {
  it('is a core DecisionPolicy', () => {
    const p: DecisionPolicy = new ActionPolicy({ allow: ['*'] });
    expect(p.check(claim).allowed).toBe(true);
  });

  it('an empty allowlist allows nothing', () => {
    const p = new ActionPolicy({ allow: [] });
    for (const d of [send, claim, tool('x'), { type: 'Custom' }]) {
      const v = p.check(d);
      expect(v.allowed).toBe(false);
      expect(v.reason).toMatch(/not allowed/);
    }
  });

  it('allows only listed types; * allows every type', () => {
    const p = new ActionPolicy({ allow: ['ClaimTask'] });
    expect(p.check(claim).allowed).toBe(true);
    expect(p.check(send).allowed).toBe(false);
    const all = new ActionPolicy({ allow: ['*'] });
    expect(all.check(send).allowed).toBe(true);
    expect(all.check({ type: 'AnythingAtAll' }).allowed).toBe(true);
  });

  it('deny wins over allow (including over *)', () => {
    const p = new ActionPolicy({ allow: ['*'], deny: ['SendMessage'] });
    expect(p.check(send)).toEqual({ allowed: false, reason: 'decision type SendMessage is denied' });
    expect(p.check(claim).allowed).toBe(true);
    const both = new ActionPolicy({ allow: ['ClaimTask'], deny: ['ClaimTask'] });
    expect(both.check(claim).allowed).toBe(false);
    const denyAll = new ActionPolicy({ allow: ['ClaimTask'], deny: ['*'] });
    expect(denyAll.check(claim).allowed).toBe(false);
  });

  it('InvokeTool needs the tool to be listed in allowTools', () => {
    const none = new ActionPolicy({ allow: ['InvokeTool'] });
    expect(none.check(tool('calc')).allowed).toBe(false);
    const p = new ActionPolicy({ allow: ['InvokeTool'], allowTools: ['calc'] });
    expect(p.check(tool('calc')).allowed).toBe(true);
    expect(p.check(tool('shell'))).toEqual({ allowed: false, reason: 'tool shell is not allowed' });
    expect(p.check({ type: 'InvokeTool', params: {} } as Decision).allowed).toBe(false);
    const any = new ActionPolicy({ allow: ['InvokeTool'], allowTools: ['*'] });
    expect(any.check(tool('shell')).allowed).toBe(true);
  });

  it('allowRecipients restricts SendMessage; null in the list allows broadcast', () => {
    const p = new ActionPolicy({ allow: ['SendMessage'], allowRecipients: ['bob'] });
    expect(p.check(send).allowed).toBe(true);
    expect(p.check(Decisions.sendMessage('eve', 'x')).allowed).toBe(false);
    expect(p.check(Decisions.sendMessage(null, 'x'))).toEqual({ allowed: false, reason: 'broadcast is not allowed' });
    const bc = new ActionPolicy({ allow: ['SendMessage'], allowRecipients: [null] });
    expect(bc.check(Decisions.sendMessage(null, 'x')).allowed).toBe(true);
    expect(bc.check(send).allowed).toBe(false);
    const open = new ActionPolicy({ allow: ['SendMessage'] });
    expect(open.check(Decisions.sendMessage('anyone', 'x')).allowed).toBe(true);
  });

  it('checks custom types by type, with per-type rules', () => {
    const p = new ActionPolicy({
      allow: ['Transfer', 'SubmitBid'],
      rules: {
        Transfer: (d) => ((d as { amount: number }).amount <= 100 ? true : { allowed: false, reason: 'too much' }),
        SubmitBid: (d) => (d as { amount: number }).amount > 0,
      },
    });
    expect(p.check({ type: 'Transfer', amount: 50 }).allowed).toBe(true);
    expect(p.check({ type: 'Transfer', amount: 500 })).toEqual({ allowed: false, reason: 'too much' });
    expect(p.check(Decisions.submitBid('a', 5)).allowed).toBe(true);
    expect(p.check(Decisions.submitBid('a', -1))).toEqual({ allowed: false, reason: 'refused by the rule for SubmitBid' });
    expect(p.check({ type: 'Other' }).allowed).toBe(false);
  });

  it('a rule that throws or returns nonsense refuses, never crashes', () => {
    const p = new ActionPolicy({
      allow: ['*'],
      rules: {
        A: () => {
          throw new Error('boom');
        },
        B: () => 'yes' as never,
      },
    });
    expect(p.check({ type: 'A' })).toEqual({ allowed: false, reason: 'rule for A failed: boom' });
    expect(p.check({ type: 'B' }).allowed).toBe(false);
  });

  it('refuses malformed decisions', () => {
    const p = new ActionPolicy({ allow: ['*'] });
    expect(p.check(null as never).allowed).toBe(false);
    expect(p.check({ type: 3 } as never).allowed).toBe(false);
  });

  it('counts checks and refusals; enforce throws PolicyError', () => {
    const p = new ActionPolicy({ allow: ['ClaimTask'] });
    p.check(claim);
    p.check(send);
    expect(p.stats()).toEqual({ checked: 2, refused: 1 });
    expect(() => p.enforce(send)).toThrow(PolicyError);
    expect(() => p.enforce(claim)).not.toThrow();
  });

  it('validates its options', () => {
    expect(() => new ActionPolicy({} as never)).toThrow(ConfigError);
    expect(() => new ActionPolicy({ allow: 'ClaimTask' } as never)).toThrow(ConfigError);
    expect(() => new ActionPolicy({ allow: [], rules: { A: 1 as never } })).toThrow(ConfigError);
    expect(() => new ActionPolicy({ allow: [], allowRecipients: [''] })).toThrow(ConfigError);
  });
});
