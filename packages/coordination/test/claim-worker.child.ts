// Child process of task-manager-processes.test.ts: races other processes to claim and
// complete tasks t0..t{n-1} on a shared FileStore directory, then prints the ids it completed.
import { ConflictError } from '@converge/core';
import { FileStore } from '@converge/extensions/storage';
import { TaskManager } from '../src/index.js';

const [dir, worker, count, concurrency] = process.argv.slice(2) as [string, string, string, string];
const store = new FileStore({ dir });
await store.start?.();
const tm = new TaskManager({ store });
const done: string[] = [];
let lost = 0;
// A few in-process loops share one cursor, so each process tries every task exactly once
// while the store's I/O overlaps; the other process walks the same order, so they race.
let next = 0;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < Number(count)) {
      const id = `t${next++}`;
      try {
        const lease = await tm.claim(worker, id);
        await tm.report(worker, id, worker, lease);
        done.push(id);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        lost++;
      }
    }
  }),
);
await store.stop?.();
process.stdout.write(JSON.stringify({ worker, done, lost }));
