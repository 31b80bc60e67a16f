import { fileURLToPath } from 'node:url';
import { beforeAll, expect } from 'vitest';
import { storeCrossProcessTests } from '@converge/compliance/store';
import { dropPrefix, makeStore, REDIS_URL, requireRedis, uniquePrefix } from './helpers.js';

beforeAll(requireRedis);
storeCrossProcessTests({
  name: 'RedisStore',
  notifiedBy: 'PUBLISH from the write script',
  setup: async () => {
    const prefix = uniquePrefix('x');
    return {
      open: () => makeStore(prefix),
      child: { module: fileURLToPath(new URL('./fixtures/store.child.ts', import.meta.url)), options: { url: REDIS_URL, prefix } },
      teardown: () => dropPrefix(prefix),
    };
  },
  afterRemoteWrite: (s) => {
    expect(s.stats.notifications).toBe(1);
  },
});
