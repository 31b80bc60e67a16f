// Child process of the SIGKILL test: `child.ts <module> <options-json> <poolId> <count> <agentId>`
// claims `count` tasks of the pool with a queue made by `<module>`'s `createTaskQueue(options)`,
// prints its leases as one JSON line, then holds them until it is killed.
import type { TaskLease, TaskQueue } from '@converge/core';

async function main(): Promise<void> {
  const [modulePath, optionsJson, poolId, count, agentId] = process.argv.slice(2) as [string, string, string, string, string];
  const url = modulePath.startsWith('file:') ? modulePath : `file://${modulePath}`;
  const mod = (await import(url)) as { createTaskQueue(options: unknown): TaskQueue | Promise<TaskQueue> };
  const queue = await mod.createTaskQueue(JSON.parse(optionsJson));
  await queue.start();
  const leases: TaskLease[] = [];
  while (leases.length < Number(count)) {
    const got = await queue.claim({ agentId, poolId, max: Number(count) - leases.length, waitMs: 1_000 });
    leases.push(...got.map((c) => c.lease));
  }
  process.stdout.write(`${JSON.stringify({ leases })}\n`);
  // Hold the claims (never report) until the parent's SIGKILL; bounded so an orphan ends by itself.
  setTimeout(() => process.exit(3), 120_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(2);
});
