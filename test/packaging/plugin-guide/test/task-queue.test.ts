import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
import { FileStore } from '@converge/extensions/storage';
import { MapStore } from '../src/map-store.js';
import { createTaskQueue } from '../src/task-queue.js';

taskQueueComplianceTests({
  name: 'GuideTaskQueue',
  setup: async ({ clock, defaults, crossProcess }) => {
    if (!crossProcess) {
      // Every client of one namespace shares the store, as processes would share a server.
      const store = new MapStore();
      return { open: async () => createTaskQueue(store, { clock, defaults }), teardown: async () => undefined };
    }
    // The SIGKILL test runs a second process on the same queue: that needs a store both can open.
    const dir = await mkdtemp(join(tmpdir(), 'guide-tq-'));
    return {
      open: async () => createTaskQueue(new FileStore({ dir }), { clock, defaults, ownsStore: true }),
      teardown: () => rm(dir, { recursive: true, force: true }),
      // The child imports src/task-queue-child.ts: tsx (a devDependency) lets Node load TypeScript.
      child: { module: fileURLToPath(new URL('../src/task-queue-child.ts', import.meta.url)), options: { dir, defaults }, execArgv: ['--import', 'tsx'] },
    };
  },
});
