import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
import { FileStore } from '@converge/extensions/storage';
import { MapStore } from '../src/map-store.js';
import { createTaskQueue } from '../src/task-queue.js';

taskQueueComplianceTests({
  name: 'StoreTaskQueue over MapStore',
  setup: async ({ clock, defaults, crossProcess }) => {
    if (!crossProcess) {
      const store = new MapStore();
      return { open: async () => createTaskQueue(store, { clock, defaults }), teardown: async () => undefined };
    }
    // The SIGKILL test runs a second process on the same queue: that needs a store both can open.
    const dir = await mkdtemp(join(tmpdir(), 'guide-tq-'));
    return {
      open: async () => createTaskQueue(new FileStore({ dir }), { clock, defaults }),
      teardown: () => rm(dir, { recursive: true, force: true }),
      child: { module: fileURLToPath(new URL('../src/task-queue-child.mjs', import.meta.url)), options: { dir, defaults }, execArgv: [] },
    };
  },
});
