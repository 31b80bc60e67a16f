import { beforeAll } from 'vitest';
import { storeComplianceTests } from '@converge/compliance/store';
import type { Store } from '@converge/core';
import { RedisStore } from '@converge/store-redis';
import { dropPrefix, makeStore, requireRedis, uniquePrefix } from './helpers.js';

beforeAll(requireRedis);
storeComplianceTests({
  name: 'RedisStore',
  create: async () => makeStore(uniquePrefix('c')),
  teardown: async (s: Store) => {
    await s.stop?.();
    await dropPrefix((s as RedisStore).prefix);
  },
});
