import type { Topic } from './topic.js';
import type { WireRecord } from './value.js';
import { uuid4 } from './uuid.js';

/**
 * Admission and governance are named policies with plain-data settings, so that a pool can be
 * stored and reloaded; `@converge/policy` turns them into behaviour.
 */
export interface PolicySpec {
  /** e.g. `open`, `whitelist`, `token`. */
  type: string;
  /** Settings of the policy, e.g. `{ agents: [...] }` for a whitelist. */
  [setting: string]: unknown;
}

/** A group of agents sharing topics and tasks. */
export interface Pool {
  id: string;
  topics: Topic[];
  /** Fingerprints of member agents. */
  agents: string[];
  /**
   * The agent that created the pool, where one did (a `CreatePool` decision sets it to the
   * deciding agent). It counts as a member for submitting and claiming tasks, and may cancel
   * any task of the pool.
   */
  owner?: string;
  admission?: PolicySpec;
  governance?: PolicySpec;
  metadata?: WireRecord;
}

/** Builds a pool with defaults: a UUID id, no topics, no members. */
export function createPool(fields: Partial<Pool> = {}): Pool {
  const pool: Pool = {
    id: fields.id ?? uuid4(),
    topics: [...(fields.topics ?? [])],
    agents: [...(fields.agents ?? [])],
  };
  if (fields.owner !== undefined) pool.owner = fields.owner;
  if (fields.admission) pool.admission = { ...fields.admission };
  if (fields.governance) pool.governance = { ...fields.governance };
  if (fields.metadata) pool.metadata = { ...fields.metadata };
  return pool;
}
