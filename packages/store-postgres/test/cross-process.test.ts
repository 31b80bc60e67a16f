import { fileURLToPath } from 'node:url';
import { beforeAll, expect } from 'vitest';
import { backendCrossProcessTests } from '@converge/compliance/store';
import { makeStore, PG_URL, postgresBackend, requirePostgres } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/store.child.ts', import.meta.url));

beforeAll(requirePostgres);
backendCrossProcessTests(postgresBackend, {
  notifiedBy: 'LISTEN/NOTIFY',
  // Creates the table before the children race on it.
  prepare: async (table) => {
    const s = makeStore(table);
    await s.start();
    await s.stop();
  },
  child: (table) => ({ module: CHILD, options: { url: PG_URL, table } }),
  afterRemoteWrite: (s) => {
    expect(s.stats.notifications).toBe(1);
  },
});
