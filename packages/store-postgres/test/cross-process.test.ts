import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTable, eventually, makeStore, PG_URL, requirePostgres, uniqueTable } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));

/** Runs the child fixture; resolves with its JSON output, rejects on a non-zero exit. */
function runChild(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@converge/source', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`child exited with ${code}: ${err}`))));
  });
}

describe('PostgresStore across processes', () => {
  const table = uniqueTable('x');
  beforeAll(async () => {
    await requirePostgres();
    const s = makeStore(table); // creates the table before the children race on it
    await s.start();
    await s.stop();
  });
  afterAll(() => dropTable(table));

  it('two processes doing 200 compareAndSet increments each on one key end at exactly 400', async () => {
    const results = await Promise.all([runChild(['cas', PG_URL, table, 'counter', '200']), runChild(['cas', PG_URL, table, 'counter', '200'])]);
    expect(results.map((r) => r.done)).toEqual([200, 200]);
    const s = makeStore(table);
    await s.start();
    try {
      expect(await s.get('counter')).toBe(400);
    } finally {
      await s.stop();
    }
  });

  it('a write in another process wakes a watch listener here (LISTEN/NOTIFY)', async () => {
    const s = makeStore(table);
    await s.start();
    try {
      const seen: string[] = [];
      s.watch('jobs:', (k) => seen.push(k));
      const { revision } = await runChild(['put', PG_URL, table, 'jobs:42']);
      expect(await eventually(() => seen.length > 0)).toBe(true);
      expect(seen).toEqual(['jobs:42']);
      expect((await s.getEntry('jobs:42'))?.revision).toBe(revision);
      expect(s.stats.notifications).toBe(1);
    } finally {
      await s.stop();
    }
  });
});
