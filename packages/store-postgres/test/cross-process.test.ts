import { fileURLToPath } from 'node:url';
import { beforeAll, expect } from 'vitest';
import { storeCrossProcessTests } from '@converge/compliance/store';
import { dropTable, makeStore, PG_URL, requirePostgres, uniqueTable } from './helpers.js';

beforeAll(requirePostgres);
storeCrossProcessTests({
  name: 'PostgresStore',
  notifiedBy: 'LISTEN/NOTIFY',
  setup: async () => {
    const table = uniqueTable('x');
    const s = makeStore(table); // creates the table before the children race on it
    await s.start();
    await s.stop();
    return {
      open: () => makeStore(table),
      child: { module: fileURLToPath(new URL('./fixtures/store.child.ts', import.meta.url)), options: { url: PG_URL, table } },
      teardown: () => dropTable(table),
    };
  },
  afterRemoteWrite: (s) => {
    expect(s.stats.notifications).toBe(1);
  },
});
