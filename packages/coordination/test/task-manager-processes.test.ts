import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Store } from '@converge/core';
import { TaskManager } from '../src/index.js';
import { runChildJson } from '../../../test/support/run-child.js';

const storage = (await import('@converge/extensions/storage')) as Record<string, unknown>;
const FileStore = storage.FileStore as (new (o: { dir: string }) => Store) | undefined;
const child = fileURLToPath(new URL('./claim-worker.child.ts', import.meta.url));
const TASKS = 2_000;

function run(dir: string, worker: string): Promise<{ worker: string; done: string[]; lost: number }> {
  return runChildJson(child, [dir, worker, String(TASKS), '8'], `worker ${worker}`);
}

// Skipped only while FileStore has not landed in @converge/extensions/storage.
describe.skipIf(!FileStore)('TaskManager across OS processes (FileStore)', () => {
  it(`two processes race to claim ${TASKS} tasks: each is completed exactly once, none lost`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'converge-claims-'));
    try {
      const store = new FileStore!({ dir });
      await store.start?.();
      const tm = new TaskManager({ store });
      for (let i = 0; i < TASKS; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => tm.submit({ id: `t${i + j}`, objective: 'race' })));
      }
      const [a, b] = await Promise.all([run(dir, 'A'), run(dir, 'B')]);
      const all = [...a.done, ...b.done];
      expect(new Set(all).size).toBe(all.length); // nobody completed a task twice
      expect(all.length).toBe(TASKS); // and none was lost
      expect(a.lost + b.lost).toBe(TASKS); // every other attempt was a refused claim
      const byA = new Set(a.done);
      for (let i = 0; i < TASKS; i++) {
        const rec = await tm.getTask(`t${i}`);
        expect(rec.state).toBe('completed');
        expect(rec.attempts).toBe(1);
        expect(byA.has(rec.id) ? 'A' : 'B').toBe(rec.result);
      }
      expect(await tm.listPendingTasks()).toEqual([]);
      await store.stop?.();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
