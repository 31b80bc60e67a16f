// The push-notification config store of the A2A router: bounded per task and in tasks, and
// only to URLs the operator allows, never to internal addresses unless allowed.
import type { TaskPushNotificationConfig } from '@a2a-js/sdk';
import { InMemoryPushNotificationStore, type ServerCallContext } from '@a2a-js/sdk/server';
import { LimitExceededError, ValidationError } from '@converge/core';
import { checkPushTarget, type PushTargetPolicy } from './push.js';
import type { Refusals } from './server-guards.js';

/** The bounds and checks of `guardedPushStore`. */
export interface PushConfigPolicy {
  /** Which URLs are accepted at all (scheme, host...), before the target check. */
  allowPushUrl: (url: URL) => boolean;
  /** The target check (internal addresses, allowed hosts, resolver). */
  target: PushTargetPolicy;
  /** Most configs per task. */
  maxPerTask: number;
  /** Most tasks with configs; past it the oldest task's configs go (counted in `dropped`). */
  maxTasks: number;
  /** Where dropped configs are logged. */
  logger?: { warn(obj: object, msg: string): void };
}

/** The SDK's push config store with every `save` checked and bounded; `dropped()` counts the tasks whose configs went. */
export function guardedPushStore(policy: PushConfigPolicy, r: Refusals): { store: InMemoryPushNotificationStore; dropped: () => number } {
  const store = new InMemoryPushNotificationStore();
  const save = store.save.bind(store);
  const tasks = new Map<string, ServerCallContext>();
  let dropped = 0;
  store.save = async (taskId: string, ctx: ServerCallContext, config: TaskPushNotificationConfig): Promise<void> => {
    await checkConfig(policy, r, taskId, config);
    const existing = await store.load(taskId, ctx);
    if (existing.length >= policy.maxPerTask && !existing.some((c) => c.id === config.id)) {
      r.refuse('push-configs', { taskId });
      throw new LimitExceededError(`task ${taskId} has ${policy.maxPerTask} push notification configs already`);
    }
    await save(taskId, ctx, config);
    // Bounded: the tasks with configs, oldest first; past the bound the oldest one's go.
    tasks.delete(taskId);
    tasks.set(taskId, ctx);
    if (tasks.size > policy.maxTasks) {
      const [oldest, oldCtx] = tasks.entries().next().value!;
      tasks.delete(oldest);
      dropped++;
      policy.logger?.warn({ taskId: oldest, maxPushTasks: policy.maxTasks }, 'a2a push configs dropped');
      await store.delete(oldest, oldCtx);
    }
  };
  return { store, dropped: () => dropped };
}

/** Refuses (counted) a config whose URL does not parse, is not allowed, or aims at an internal address. */
async function checkConfig(policy: PushConfigPolicy, r: Refusals, taskId: string, config: TaskPushNotificationConfig): Promise<void> {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch (err) {
    r.refuse('push-url', { taskId });
    throw new ValidationError(`push notification url ${JSON.stringify(config.url)} is not a URL`, { cause: err });
  }
  if (!policy.allowPushUrl(url)) {
    r.refuse('push-url', { taskId, url: url.origin });
    throw new ValidationError(`push notification url ${url.origin} is not allowed`);
  }
  try {
    await checkPushTarget(url, policy.target);
  } catch (err) {
    r.refuse('push-target', { taskId, url: url.origin, err: (err as Error).message });
    throw err;
  }
}
