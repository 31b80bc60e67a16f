// Maintenance passes over the claim and pending indexes: take back expired leases, fail tasks
// past their deadline, and repair index entries the record (the source of truth) contradicts.
import { throwIfAborted, type StoreEntry } from '@converge/core';
import type { CallOptions } from '../common.js';
import {
  TASK_KEYS,
  isClaimed,
  isTerminal,
  parseClaimedKey,
  parsePendingKey,
  pastDeadline,
  pendingKey,
  recordKey,
  type ReleasedClaim,
  type TaskRecord,
} from './records.js';
import type { TaskCore } from './core.js';
import { expire, releaseExpired } from './retry.js';

/**
 * Walks the index under `prefix` until `out` holds `core.sweepLimit` claims: each entry whose
 * key `parse` reads is handed to `visit` with its task record's key and entry (`undefined` when
 * the record is gone). Checks `options.signal` before each entry.
 */
async function walkIndex<P extends { taskId: string }>(
  core: TaskCore,
  prefix: string,
  parse: (indexKey: string) => P | null,
  out: readonly ReleasedClaim[],
  options: CallOptions,
  visit: (indexKey: string, parsed: P, key: string, entry: StoreEntry<TaskRecord> | undefined) => Promise<void>,
): Promise<void> {
  const sig: CallOptions = options; // the store reads `signal` only
  const keys = await core.store.list(prefix, sig);
  for (const ik of keys) {
    if (out.length >= core.sweepLimit) break;
    throwIfAborted(options.signal);
    const parsed = parse(ik);
    if (!parsed) continue;
    const key = recordKey(parsed.taskId);
    await visit(ik, parsed, key, await core.store.getEntry<TaskRecord>(key, sig));
  }
}

/** `TaskManager.releaseExpiredClaims`: see there. */
export async function releaseExpiredClaims(core: TaskCore, now: number | undefined, options: CallOptions): Promise<ReleasedClaim[]> {
  const sig: CallOptions = options; // the store reads `signal` only
  const released: ReleasedClaim[] = [];
  await walkIndex(core, TASK_KEYS.claimed, parseClaimedKey, released, options, async (ik, parsed, key, entry) => {
    if (!entry) {
      await core.repairDelete(ik, options);
      return;
    }
    const rec = entry.value;
    const t = now ?? core.clock();
    if (rec.attempts === parsed.attempt && pastDeadline(rec, t)) {
      if (await expire(core, key, entry, t, options, false)) {
        released.push({ taskId: rec.id, agentId: rec.assignedTo, attempt: rec.attempts, outcome: 'expired' });
      }
    } else if (isClaimed(rec) && rec.attempts === parsed.attempt) {
      if (rec.leaseExpiresAt !== null && rec.leaseExpiresAt <= t) {
        const r = await releaseExpired(core, key, entry, t, options);
        if (r) released.push(r);
      }
    } else if (rec.state === 'pending' && rec.attempts === parsed.attempt) {
      // A release that stopped between its CAS and its index writes: finish them.
      await core.store.put(pendingKey(rec.poolId, rec.id), 1, sig);
      await core.repairDelete(ik, options);
    } else if (isTerminal(rec) || rec.attempts > parsed.attempt) {
      await core.repairDelete(ik, options);
    }
    // attempts < entry's attempt on a live task: a claim in flight wrote the entry; keep it.
  });
  return released;
}

/** `TaskManager.sweep`: see there. */
export async function sweep(core: TaskCore, now: number | undefined, options: CallOptions): Promise<ReleasedClaim[]> {
  const out = await releaseExpiredClaims(core, now, options);
  await walkIndex(core, TASK_KEYS.pending, parsePendingKey, out, options, async (_ik, _parsed, key, entry) => {
    const t = now ?? core.clock();
    if (entry && entry.value.state === 'pending' && pastDeadline(entry.value, t)) {
      if (await expire(core, key, entry, t, options, false)) {
        out.push({ taskId: entry.value.id, agentId: null, attempt: entry.value.attempts, outcome: 'expired' });
      }
    }
  });
  return out;
}
