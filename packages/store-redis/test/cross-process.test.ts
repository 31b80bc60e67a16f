import { fileURLToPath } from 'node:url';
import { beforeAll, expect } from 'vitest';
import { backendCrossProcessTests } from '@converge/compliance/store';
import { REDIS_URL, redisBackend, requireRedis } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/store.child.ts', import.meta.url));

beforeAll(requireRedis);
backendCrossProcessTests(redisBackend, {
  notifiedBy: 'PUBLISH from the write script',
  child: (prefix) => ({ module: CHILD, options: { url: REDIS_URL, prefix } }),
  afterRemoteWrite: (s) => {
    expect(s.stats.notifications).toBe(1);
  },
});
