/**
 * The shapes of the coordination services the runtime drives. `@converge/coordination`'s
 * classes satisfy them; declaring only what the runtime calls keeps the executor testable
 * and lets users plug in their own implementations. Contracts shared by several packages
 * (`TaskLease`, `Pool`, `Task`) come from `@converge/core`.
 */
import type { Pool, Task, TaskInit, TaskLease, WireRecord, WireValue } from '@converge/core';

/** A failed attempt, as `TaskManager` reports it: `retryAt` is when the task is claimable again. */
export interface TaskFailedEvent {
  task: Task;
  retryAt: number | null;
}

/**
 * What the runtime needs of a task manager (`TaskManager` from `@converge/coordination`).
 * The optional members make the runtime better, not possible: `release` hands claims back on
 * stop without counting a failure, `on`/`off` wake the loop at once on task events, `stats`
 * is exported as metrics.
 */
export interface TaskManagerPort {
  /** Submits a task; `by` is the deciding agent (checked against the pool, recorded as submitter). */
  submit(task: TaskInit | Task, options?: { by?: string }): Promise<Task>;
  /** Claims a task for `agentId`, which holds `capabilities` (checked against the task's required ones). */
  claim(agentId: string, taskId: string, options?: { capabilities?: Iterable<string> }): Promise<TaskLease>;
  extendClaim(lease: TaskLease): Promise<TaskLease>;
  /** Completes a claimed task; the holder's lease is required (fencing). */
  report(agentId: string, taskId: string, result: WireValue, lease: TaskLease): Promise<unknown>;
  /** Fails a claimed attempt; the holder and its lease are required (fencing). */
  fail(taskId: string, reason: string, agentId: string, lease: TaskLease): Promise<unknown>;
  /** Cancels a task; `by` is the deciding agent (it must have the right to). */
  cancel(taskId: string, options?: { by?: string }): Promise<unknown>;
  releaseExpiredClaims(now?: number): Promise<unknown>;
  listPendingTasksForAgent(agentId: string, poolIds: readonly string[], capabilities: readonly string[]): Promise<Task[]>;
  /** Reads a task (the executor checks a task's resource constraints with it before a claim). */
  getTask?(taskId: string): Promise<Task>;
  /** Hands a claimed task back to pending without counting a failure (graceful stop). */
  release?(agentId: string, taskId: string, lease: TaskLease): Promise<unknown>;
  /** Subscribes to task events: submissions and released claims (a task claimable now). */
  on?(event: 'submitted' | 'released', listener: (task: Task) => void): unknown;
  /** Subscribes to failed attempts (a task claimable again at `retryAt`). */
  on?(event: 'failed', listener: (event: TaskFailedEvent) => void): unknown;
  /** Removes a listener added with `on`. */
  off?(event: 'submitted' | 'released', listener: (task: Task) => void): unknown;
  /** Removes a listener added with `on`. */
  off?(event: 'failed', listener: (event: TaskFailedEvent) => void): unknown;
  /** Counters of this task manager (exported as `converge_taskmanager_events_total{event}`). */
  stats?(): object;
}

/** What the runtime needs of a pool manager. */
export interface PoolManagerPort {
  createPool(spec: Partial<Pool>): Promise<Pool>;
  joinPool(agentId: string, poolId: string, context?: WireRecord): Promise<unknown>;
  leavePool(agentId: string, poolId: string): Promise<unknown>;
  getPoolsForAgent(agentId: string): Promise<Pool[]>;
  /** Whether `ballotId` names an open or decided question of a pool's governance (`PoolManager`). */
  hasQuestion?(ballotId: string): boolean;
  /** Casts a vote on a pool question (a `Vote` decision whose `ballotId` passes `hasQuestion`). */
  vote?(ballotId: string, voter: string, choice: string, weight?: number): unknown;
  /** Subscribes to closed pool questions (the runtime tells each voter the result); returns the unsubscribe function. */
  on?(event: 'decided', listener: (question: PoolQuestionView) => void): () => void;
}

/** What the runtime reads of a closed pool question (`PoolQuestion` of `@converge/coordination`). */
export interface PoolQuestionView {
  /** The question id (the `ballotId` voters voted on). */
  id: string;
  /** `admit`, `remove` or `cancel`. */
  kind: string;
  /** The pool asked. */
  poolId: string;
  /** The agent to admit or remove, or the task to cancel. */
  subject: string;
  /** Who asked. */
  proposer: string;
  /** `approved`, `rejected`, `expired` or `failed`. */
  state: string;
  /** The governance's word. */
  reason: string;
  /** The counted votes. */
  votes: readonly { voter: string; approve: boolean; veto?: boolean }[];
  /** The voter whose vote decided it (its `Vote` outcome already carried the result). */
  decidedBy?: string;
}

/** What the executor needs of a negotiation protocol. */
export interface NegotiationPort {
  propose(from: string, participants: string[], terms: WireValue): unknown;
  counter(sessionId: string, from: string, terms: WireValue): unknown;
  accept(sessionId: string, by: string): unknown;
  reject(sessionId: string, by: string, reason?: string): unknown;
}

/** What the executor needs of an auction house. */
export interface BiddingPort {
  bid(auctionId: string, agentId: string, amount: number): unknown;
}

/** What the executor needs to cast votes: ballots by id. */
export interface BallotsPort {
  vote(ballotId: string, voter: string, choice: string, weight?: number): unknown;
}

/** What the executor needs of a delegation registry. */
export interface DelegationPort {
  delegate(delegator: string, delegatee: string, scope: { actions: string[]; expiresAt?: number | null }): unknown;
  revoke(delegationId: string, by: string): unknown;
}
