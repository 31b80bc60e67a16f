// The result of a pool question, as an outcome to every agent that took part: each voter (its
// `Vote` decision) and the asker of a join or a cancel (its `JoinPool` / `CancelTask`). The voter
// whose vote decided already had the result as that vote's outcome, so it is not told twice.
import { PolicyError, TimeoutError, errorOutcome, okOutcome, type Decision, type Outcome } from '@converge/core';
import type { PoolManagerPort, PoolQuestionView } from './ports.js';

/** The outcome `agentId` gets for the closed question `q`, or `undefined` if it took no part. */
export function questionOutcome(q: PoolQuestionView, agentId: string): Outcome | undefined {
  if (q.decidedBy === agentId) return undefined;
  const vote = q.votes.find((v) => v.voter === agentId);
  let decision: Decision | undefined;
  if (vote) decision = { type: 'Vote', ballotId: q.id, choice: vote.veto === true ? 'veto' : vote.approve ? 'yes' : 'no' };
  else if (q.proposer === agentId && q.kind === 'admit') decision = { type: 'JoinPool', poolId: q.poolId };
  else if (q.proposer === agentId && q.kind === 'cancel') decision = { type: 'CancelTask', taskId: q.subject };
  if (decision === undefined) return undefined;
  const result = { ...q, votes: q.votes.map((v) => ({ ...v })) };
  if (q.state === 'approved') return okOutcome(decision, result);
  const message = `pool question ${q.id} ${q.state}: ${q.reason}`;
  const out = errorOutcome(decision, q.state === 'expired' ? new TimeoutError(message) : new PolicyError(message), q.state === 'failed' ? 'failed' : undefined);
  out.result = result;
  return out;
}

/**
 * Subscribes `deliver` to the closed questions of `pools` that concern `agentId`; returns the
 * unsubscribe function (`undefined` when the pool manager announces no questions).
 */
export function watchPoolQuestions(pools: PoolManagerPort | undefined, agentId: string, deliver: (o: Outcome) => void): (() => void) | undefined {
  if (typeof pools?.on !== 'function') return undefined;
  return pools.on('decided', (q) => {
    const o = questionOutcome(q, agentId);
    if (o !== undefined) deliver(o);
  });
}
