import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { StoreBackend } from '@converge/compliance/store';
import { RedisStore, type RedisStoreOptions } from '@converge/store-redis';

/** The test server (override with CONVERGE_TEST_REDIS_URL). */
export const REDIS_URL = process.env.CONVERGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run uses. */
export function uniquePrefix(tag = 't'): string {
  return `cvt:${tag}:${randomBytes(5).toString('hex')}:`;
}

type Admin = ReturnType<typeof createClient>;

/** Runs `fn` with a plain admin connection (setup, cleanup, fault injection). */
export async function withAdmin<T>(fn: (c: Admin) => Promise<T>): Promise<T> {
  const c = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false, connectTimeout: 3000 } });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    c.destroy();
  }
}

/** Fails (never skips) with a clear message when the server is not reachable. */
export async function requireRedis(): Promise<void> {
  try {
    await withAdmin((c) => c.ping());
  } catch (err) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(err as Error).message}); start it (check: redis-cli ping). These tests need the real server.`, {
      cause: err,
    });
  }
}

/** Deletes every key under `prefix`. */
export async function dropPrefix(prefix: string): Promise<void> {
  await withAdmin(async (c) => {
    const keys: string[] = [];
    for await (const batch of c.scanIterator({ MATCH: `${prefix.replace(/[\\*?[\]^]/g, '\\$&')}*`, COUNT: 1000 })) keys.push(...batch);
    if (keys.length > 0) await c.del(keys);
  });
}

/** A store under a fresh prefix. */
export function makeStore(prefix: string, options: Partial<RedisStoreOptions> = {}): RedisStore {
  return new RedisStore({ url: REDIS_URL, prefix, ...options });
}

/** RedisStore as the shared backend suites take it: one key prefix a store. */
export const redisBackend: StoreBackend<RedisStore, Partial<RedisStoreOptions>> = {
  name: 'RedisStore',
  unique: uniquePrefix,
  make: makeStore,
  ready: requireRedis,
  drop: dropPrefix,
};
