// Removing what the split roles left on an engine under a namespace: how the tests and the
// benchmarks of `converge run` clean up after themselves.
import { engineNames, importAdapter } from '../stack.js';
import { queueNames } from './queue.js';

/**
 * Removes what `converge run` left under `namespace` on the engine that `spec` (a `--store` or
 * `--discovery-store` value) names: on PostgreSQL the store's table and revision sequence and
 * the queue table; on Redis every key under `converge:<namespace>:` (store and queue); on NATS
 * the JetStream queue and its streams. Any other value (memory, files) is left alone.
 */
export async function dropNamespace(spec: string, namespace: string): Promise<void> {
  const { table, redisPrefix } = engineNames(namespace);
  const queue = queueNames(namespace);
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const pg = (await importAdapter<typeof import('pg')>('pg', 'store')).default;
    const client = new pg.Client({ connectionString: spec });
    await client.connect();
    try {
      await client.query(`DROP TABLE IF EXISTS "${table}"`);
      await client.query(`DROP SEQUENCE IF EXISTS "${table}_revision_seq"`);
      await client.query(`DROP TABLE IF EXISTS "${queue.table}"`);
    } finally {
      await client.end();
    }
  } else if (/^rediss?:\/\//.test(spec)) {
    const { createClient } = await importAdapter<typeof import('redis')>('redis', 'store');
    const client = createClient({ url: spec });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 1000 })) keys.push(...batch);
      for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
    } finally {
      client.destroy();
    }
  } else if (/^nats:\/\//.test(spec)) {
    const mod = await importAdapter<typeof import('@converge/transport-nats/task-queue')>('@converge/transport-nats/task-queue', 'store');
    const q = new mod.JetStreamTaskQueue({ servers: spec, name: queue.jetstreamName });
    await q.start();
    await q.drop().finally(() => q.stop());
  }
}
