import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
import { RedisTaskQueue } from '@converge/store-redis/task-queue';
import { REDIS_URL, dropPrefix, requireRedis, uniquePrefix } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/task-queue.child.ts', import.meta.url));

beforeAll(requireRedis);

taskQueueComplianceTests({
  name: 'RedisTaskQueue',
  setup: async ({ clock, defaults }) => {
    const prefix = uniquePrefix('q');
    return {
      open: async () => new RedisTaskQueue({ url: REDIS_URL, prefix, clock, defaults, pollMs: 50 }),
      teardown: () => dropPrefix(prefix),
      child: { module: CHILD, options: { url: REDIS_URL, prefix, defaults } },
    };
  },
});
