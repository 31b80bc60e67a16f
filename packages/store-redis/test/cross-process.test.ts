import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrefix, eventually, makeStore, REDIS_URL, requireRedis, uniquePrefix } from './helpers.js';

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

describe('RedisStore across processes', () => {
  const prefix = uniquePrefix('x');
  beforeAll(requireRedis);
  afterAll(() => dropPrefix(prefix));

  it('two processes doing 200 compareAndSet increments each on one key end at exactly 400', async () => {
    const results = await Promise.all([runChild(['cas', REDIS_URL, prefix, 'counter', '200']), runChild(['cas', REDIS_URL, prefix, 'counter', '200'])]);
    expect(results.map((r) => r.done)).toEqual([200, 200]);
    const s = makeStore(prefix);
    await s.start();
    try {
      expect(await s.get('counter')).toBe(400);
    } finally {
      await s.stop();
    }
  });

  it('a write in another process wakes a watch listener here (PUBLISH from the write script)', async () => {
    const s = makeStore(prefix);
    await s.start();
    try {
      const seen: string[] = [];
      s.watch('jobs:', (k) => seen.push(k));
      const { revision } = await runChild(['put', REDIS_URL, prefix, 'jobs:42']);
      expect(await eventually(() => seen.length > 0)).toBe(true);
      expect(seen).toEqual(['jobs:42']);
      expect((await s.getEntry('jobs:42'))?.revision).toBe(revision);
      expect(s.stats.notifications).toBe(1);
    } finally {
      await s.stop();
    }
  });
});
