/**
 * @converge/coordination: pools, leased exactly-once tasks, negotiation, voting, auctions and
 * delegation.
 * @packageDocumentation
 */
export * from './common.js';
// (`poolSegment` stays internal: the pool index's keys are the TaskManager's own.)
export {
  TASK_KEYS,
  claimedKey,
  deadKey,
  deepFreeze,
  isClaimed,
  isTerminal,
  parseClaimedKey,
  parseIdKey,
  parsePendingKey,
  pastDeadline,
  pendingKey,
  pendingPoolPrefix,
  recordKey,
  validateConstraints,
  type Lease,
  type ReleasedClaim,
  type TaskRecord,
} from './tasks/records.js';
export * from './tasks/manager.js';
export { PendingIndex, DEFAULT_CACHE_SIZE, DEFAULT_CACHED_PREFIXES, DEFAULT_MAX_DIRTY_KEYS, DEFAULT_RESYNC_MS } from './tasks/pending-index.js';
export * from './pool-manager.js';
export * from './negotiation.js';
export * from './consensus.js';
export * from './bidding.js';
export * from './delegation.js';
export * from './store-task-queue.js';
export * from './trust-feed.js';
export { TaskMeters, TASK_LATENCY_BUCKETS } from './tasks/metrics.js';
