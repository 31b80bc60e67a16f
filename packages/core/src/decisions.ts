import type { Pool } from './pool.js';
import type { TaskInit } from './task.js';
import type { Topic } from './topic.js';
import type { WireRecord, WireValue } from './value.js';

/** Send a message; the executor fills `sender`, signs with the agent's identity and sends. */
export interface SendMessage {
  type: 'SendMessage';
  /** Fingerprint of the recipient; `null` broadcasts (or routes by topic). */
  recipient: string | null;
  payload: WireValue;
  topics?: Topic[];
  taskId?: string | null;
}
/** Join a pool; `context` is passed to its admission policy (e.g. `{ token }`). */
export interface JoinPool {
  type: 'JoinPool';
  poolId: string;
  context?: WireRecord;
}
/** Leave a pool. */
export interface LeavePool {
  type: 'LeavePool';
  poolId: string;
}
/** Create a pool (the creator joins it). */
export interface CreatePool {
  type: 'CreatePool';
  pool: Partial<Pool>;
}
/** Submit a task to a pool. */
export interface SubmitTask {
  type: 'SubmitTask';
  task: TaskInit;
}
/** Claim a pending task (exactly once, leased). */
export interface ClaimTask {
  type: 'ClaimTask';
  taskId: string;
}
/** Report a claimed task's result. */
export interface ReportTask {
  type: 'ReportTask';
  taskId: string;
  result: WireValue;
}
/** Report that a claimed task failed (it is retried until its `maxRetries`). */
export interface FailTask {
  type: 'FailTask';
  taskId: string;
  reason: string;
}
/** Cancel a task from any non-terminal state. */
export interface CancelTask {
  type: 'CancelTask';
  taskId: string;
}
/** Bid in an auction. */
export interface SubmitBid {
  type: 'SubmitBid';
  auctionId: string;
  amount: number;
}
/** Vote in a ballot. */
export interface Vote {
  type: 'Vote';
  ballotId: string;
  choice: string;
  weight?: number;
}
/** Open a negotiation (or counter within one, when `sessionId` names an open session). */
export interface Propose {
  type: 'Propose';
  sessionId?: string;
  participants: string[];
  terms: WireValue;
}
/** Accept the proposal currently on the table in a negotiation. */
export interface AcceptProposal {
  type: 'AcceptProposal';
  sessionId: string;
}
/** Reject the proposal on the table, ending the negotiation. */
export interface RejectProposal {
  type: 'RejectProposal';
  sessionId: string;
  reason?: string;
}
/** Delegate a scope of actions to another agent, optionally until `expiresAt` (Unix ms). */
export interface Delegate {
  type: 'Delegate';
  delegatee: string;
  actions: string[];
  expiresAt?: number | null;
}
/** Revoke a delegation (only its delegator may). */
export interface RevokeDelegation {
  type: 'RevokeDelegation';
  delegationId: string;
}
/** Run a tool from the registry (subject to the allowlist and a timeout). */
export interface InvokeTool {
  type: 'InvokeTool';
  tool: string;
  params: WireRecord;
  timeoutMs?: number;
}

/** The decision types every executor understands. */
export type CoreDecision =
  | SendMessage
  | JoinPool
  | LeavePool
  | CreatePool
  | SubmitTask
  | ClaimTask
  | ReportTask
  | FailTask
  | CancelTask
  | SubmitBid
  | Vote
  | Propose
  | AcceptProposal
  | RejectProposal
  | Delegate
  | RevokeDelegation
  | InvokeTool;

/** A decision of a type this package does not define (legal data: executors log and count it). */
export interface CustomDecision {
  type: string;
  [field: string]: unknown;
}

/** What an agent's `decide` returns: core decisions or custom ones. */
export type Decision = CoreDecision | CustomDecision;

/** Names of the core decision types. */
export const CORE_DECISION_TYPES = [
  'SendMessage',
  'JoinPool',
  'LeavePool',
  'CreatePool',
  'SubmitTask',
  'ClaimTask',
  'ReportTask',
  'FailTask',
  'CancelTask',
  'SubmitBid',
  'Vote',
  'Propose',
  'AcceptProposal',
  'RejectProposal',
  'Delegate',
  'RevokeDelegation',
  'InvokeTool',
] as const satisfies readonly CoreDecision['type'][];

/** Whether `d` is one of the core decision types. */
export function isCoreDecision(d: Decision): d is CoreDecision {
  return (CORE_DECISION_TYPES as readonly string[]).includes(d.type);
}

/** Constructor helpers for every core decision type. */
export const Decisions = {
  sendMessage: (recipient: string | null, payload: WireValue, extra: { topics?: Topic[]; taskId?: string | null } = {}): SendMessage => ({
    type: 'SendMessage',
    recipient,
    payload,
    ...extra,
  }),
  joinPool: (poolId: string, context?: WireRecord): JoinPool => (context ? { type: 'JoinPool', poolId, context } : { type: 'JoinPool', poolId }),
  leavePool: (poolId: string): LeavePool => ({ type: 'LeavePool', poolId }),
  createPool: (pool: Partial<Pool>): CreatePool => ({ type: 'CreatePool', pool }),
  submitTask: (task: TaskInit): SubmitTask => ({ type: 'SubmitTask', task }),
  claimTask: (taskId: string): ClaimTask => ({ type: 'ClaimTask', taskId }),
  reportTask: (taskId: string, result: WireValue): ReportTask => ({ type: 'ReportTask', taskId, result }),
  failTask: (taskId: string, reason: string): FailTask => ({ type: 'FailTask', taskId, reason }),
  cancelTask: (taskId: string): CancelTask => ({ type: 'CancelTask', taskId }),
  submitBid: (auctionId: string, amount: number): SubmitBid => ({ type: 'SubmitBid', auctionId, amount }),
  vote: (ballotId: string, choice: string, weight?: number): Vote =>
    weight === undefined ? { type: 'Vote', ballotId, choice } : { type: 'Vote', ballotId, choice, weight },
  propose: (participants: string[], terms: WireValue, sessionId?: string): Propose =>
    sessionId ? { type: 'Propose', participants, terms, sessionId } : { type: 'Propose', participants, terms },
  acceptProposal: (sessionId: string): AcceptProposal => ({ type: 'AcceptProposal', sessionId }),
  rejectProposal: (sessionId: string, reason?: string): RejectProposal =>
    reason === undefined ? { type: 'RejectProposal', sessionId } : { type: 'RejectProposal', sessionId, reason },
  delegate: (delegatee: string, actions: string[], expiresAt?: number | null): Delegate => ({
    type: 'Delegate',
    delegatee,
    actions: [...actions],
    expiresAt: expiresAt ?? null,
  }),
  revokeDelegation: (delegationId: string): RevokeDelegation => ({ type: 'RevokeDelegation', delegationId }),
  invokeTool: (tool: string, params: WireRecord = {}, timeoutMs?: number): InvokeTool =>
    timeoutMs === undefined ? { type: 'InvokeTool', tool, params } : { type: 'InvokeTool', tool, params, timeoutMs },
} as const;

/** The verdict of a policy on one decision. */
export interface PolicyVerdict {
  allowed: boolean;
  /** Why it was refused (for logs and rejection counters). */
  reason?: string;
}

/**
 * Anything that can vet a decision before it is executed (an `ActionPolicy` from
 * `@converge/policy`, a governance check, a test double). Declared here so that packages that
 * only need to ask the question (extensions/llm, runtime) do not depend on one implementation.
 */
export interface DecisionPolicy {
  check(decision: Decision): PolicyVerdict;
}
