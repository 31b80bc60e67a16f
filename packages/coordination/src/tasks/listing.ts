// Read-only listings of a TaskManager: pending tasks (through the PendingIndex cache) and
// dead letters. None of them writes a record; the pending index repairs its own entries.
import { positiveIntOption } from '@converge/core';
import { requireId, type CallOptions } from '../common.js';
import { TASK_KEYS, parseIdKey, pastDeadline, pendingPoolPrefix, recordKey, type TaskRecord } from './records.js';
import type { ListOptions } from './options.js';
import type { TaskCore } from './core.js';

/** `TaskManager.listPendingTasks`: see there. */
export async function listPending(core: TaskCore, options: CallOptions): Promise<TaskRecord[]> {
  return core.index.list([TASK_KEYS.pending], core.sweepLimit, options, () => true);
}

/** `TaskManager.listPendingTasksForAgent`: see there. */
export async function listPendingForAgent(
  core: TaskCore,
  agentId: string,
  poolIds: readonly string[],
  capabilities: Iterable<string>,
  options: ListOptions,
): Promise<TaskRecord[]> {
  requireId(agentId, 'agentId');
  const caps = capabilities instanceof Set ? (capabilities as Set<string>) : new Set(capabilities);
  const prefixes = [pendingPoolPrefix(null)];
  for (const p of poolIds) prefixes.push(pendingPoolPrefix(p));
  const now = core.clock();
  const limit = options.limit === undefined ? core.agentListLimit : Math.min(core.sweepLimit, positiveIntOption(options.limit, 1, 'limit', 'validation'));
  return core.index.list(prefixes, limit, options, (r) => {
    if ((r.notBefore !== null && r.notBefore > now) || pastDeadline(r, now)) return false;
    const need = r.requiredCapabilities;
    for (let i = 0; i < need.length; i++) if (!caps.has(need[i]!)) return false;
    return true;
  });
}

/** `TaskManager.listDeadLetters`: see there. */
export async function listDeadLetters(core: TaskCore, options: CallOptions): Promise<TaskRecord[]> {
  const keys = await core.store.list(TASK_KEYS.dead, { signal: options.signal });
  const out: TaskRecord[] = [];
  for (const k of keys) {
    if (out.length >= core.sweepLimit) break;
    const id = parseIdKey(TASK_KEYS.dead, k);
    if (id === null) continue;
    const rec = await core.store.get<TaskRecord>(recordKey(id), { signal: options.signal });
    if (rec?.deadLettered) out.push(rec);
  }
  return out;
}
