import { beforeAll } from 'vitest';
import { storeComplianceTests } from '@converge/compliance/store';
import type { Store } from '@converge/core';
import { PostgresStore } from '@converge/store-postgres';
import { dropTable, makeStore, requirePostgres, uniqueTable } from './helpers.js';

beforeAll(requirePostgres);
storeComplianceTests({
  name: 'PostgresStore',
  create: async () => makeStore(uniqueTable('c')),
  teardown: async (s: Store) => {
    await s.stop?.();
    await dropTable((s as PostgresStore).table);
  },
});
