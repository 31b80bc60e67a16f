import { describe, expect, it } from 'vitest';
import { CORE_DECISION_TYPES, Decisions, createTopic, isCoreDecision, type Decision } from '@converge/core';

describe('Decisions helpers', () => {
  it('build each core decision with its type and fields', () => {
    const topic = createTopic('t');
    const cases: [Decision, Decision][] = [
      [
        Decisions.sendMessage('bob', { a: 1 }, { topics: [topic], taskId: 't1' }),
        { type: 'SendMessage', recipient: 'bob', payload: { a: 1 }, topics: [topic], taskId: 't1' },
      ],
      [Decisions.sendMessage(null, 'hi'), { type: 'SendMessage', recipient: null, payload: 'hi' }],
      [Decisions.joinPool('p'), { type: 'JoinPool', poolId: 'p' }],
      [Decisions.joinPool('p', { token: 'x' }), { type: 'JoinPool', poolId: 'p', context: { token: 'x' } }],
      [Decisions.leavePool('p'), { type: 'LeavePool', poolId: 'p' }],
      [Decisions.createPool({ id: 'p' }), { type: 'CreatePool', pool: { id: 'p' } }],
      [Decisions.submitTask({ objective: 'o' }), { type: 'SubmitTask', task: { objective: 'o' } }],
      [Decisions.claimTask('t'), { type: 'ClaimTask', taskId: 't' }],
      [Decisions.reportTask('t', 42), { type: 'ReportTask', taskId: 't', result: 42 }],
      [Decisions.failTask('t', 'why'), { type: 'FailTask', taskId: 't', reason: 'why' }],
      [Decisions.cancelTask('t'), { type: 'CancelTask', taskId: 't' }],
      [Decisions.submitBid('a', 3), { type: 'SubmitBid', auctionId: 'a', amount: 3 }],
      [Decisions.vote('b', 'yes'), { type: 'Vote', ballotId: 'b', choice: 'yes' }],
      [Decisions.vote('b', 'yes', 2), { type: 'Vote', ballotId: 'b', choice: 'yes', weight: 2 }],
      [Decisions.propose(['x'], { p: 1 }), { type: 'Propose', participants: ['x'], terms: { p: 1 } }],
      [Decisions.propose(['x'], 1, 's'), { type: 'Propose', participants: ['x'], terms: 1, sessionId: 's' }],
      [Decisions.acceptProposal('s'), { type: 'AcceptProposal', sessionId: 's' }],
      [Decisions.rejectProposal('s'), { type: 'RejectProposal', sessionId: 's' }],
      [Decisions.rejectProposal('s', 'no'), { type: 'RejectProposal', sessionId: 's', reason: 'no' }],
      [Decisions.delegate('d', ['a']), { type: 'Delegate', delegatee: 'd', actions: ['a'], expiresAt: null }],
      [Decisions.delegate('d', ['a'], 9), { type: 'Delegate', delegatee: 'd', actions: ['a'], expiresAt: 9 }],
      [Decisions.revokeDelegation('x'), { type: 'RevokeDelegation', delegationId: 'x' }],
      [Decisions.invokeTool('echo'), { type: 'InvokeTool', tool: 'echo', params: {} }],
      [Decisions.invokeTool('echo', { a: 1 }, 50), { type: 'InvokeTool', tool: 'echo', params: { a: 1 }, timeoutMs: 50 }],
    ];
    for (const [built, expected] of cases) expect(built).toStrictEqual(expected);
  });

  it('cover every core decision type', () => {
    const built = new Set(Object.values(Decisions).map((f) => (f as (...a: unknown[]) => Decision)('x', ['y'], 'z').type));
    expect([...built].sort()).toEqual([...CORE_DECISION_TYPES].sort());
  });

  it('delegate copies the actions array', () => {
    const actions = ['a'];
    const d = Decisions.delegate('d', actions);
    actions.push('b');
    expect(d.actions).toEqual(['a']);
  });
});

describe('isCoreDecision', () => {
  it('is true for the 17 core types and false for custom ones', () => {
    expect(CORE_DECISION_TYPES).toHaveLength(17);
    for (const type of CORE_DECISION_TYPES) expect(isCoreDecision({ type } as Decision)).toBe(true);
    expect(isCoreDecision({ type: 'Dance', steps: 3 })).toBe(false);
    expect(isCoreDecision({ type: 'sendmessage' })).toBe(false);
  });
});
