import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { taskQueueComplianceTests } from '@converge/compliance/task-queue';
import { createTask, isTaskQueue } from '@converge/core';
import { FileStore, MemoryStore } from '@converge/extensions/storage';
import { StoreTaskQueue } from '../src/index.js';

const CHILD = fileURLToPath(new URL('./fixtures/store-task-queue.child.ts', import.meta.url));

taskQueueComplianceTests({
  name: 'StoreTaskQueue',
  setup: async ({ clock, defaults, crossProcess }) => {
    if (!crossProcess) {
      const store = new MemoryStore();
      return { open: async () => new StoreTaskQueue({ store, clock, defaults, pollMs: 20 }), teardown: async () => undefined };
    }
    // The SIGKILL test needs a store another process can share.
    const dir = await mkdtemp(join(tmpdir(), 'cvt-tq-'));
    return {
      open: async () => new StoreTaskQueue({ store: new FileStore({ dir }), clock, defaults, pollMs: 20, ownsStore: true }),
      teardown: () => rm(dir, { recursive: true, force: true }),
      child: { module: CHILD, options: { dir, defaults } },
    };
  },
});

describe('StoreTaskQueue', () => {
  it('is branded as a task queue and needs a store', () => {
    expect(isTaskQueue(new StoreTaskQueue({ store: new MemoryStore() }))).toBe(true);
    expect(() => new StoreTaskQueue({} as never)).toThrow(/needs a store/);
  });

  it('finishes an idempotent submit whose first submitter stopped between its two writes', async () => {
    const store = new MemoryStore();
    const q = new StoreTaskQueue({ store });
    // What a crashed first submit leaves: the key's entry, no task.
    await store.put('task-queue-idem:k', createTask({ id: 'first', objective: 'o', poolId: 'p' }));
    const t = await q.submit({ id: 'second', objective: 'o', poolId: 'p' }, { idempotencyKey: 'k' });
    expect(t.id).toBe('first');
    expect((await q.list()).tasks.map((x) => x.id)).toEqual(['first']);
  });
});
