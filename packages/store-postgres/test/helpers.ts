import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoreBackend } from '@converge/compliance/store';
import { PostgresStore, type PostgresStoreOptions } from '@converge/store-postgres';

/** The test server (override with CONVERGE_TEST_POSTGRES_URL). */
export const PG_URL = process.env.CONVERGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A table name no other run uses. */
export function uniqueTable(tag = 't'): string {
  return `cvt_${tag}_${randomBytes(5).toString('hex')}`;
}

/** Fails (never skips) with a clear message when the server is not reachable. */
export async function requirePostgres(): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(err as Error).message}); start it (check: pg_isready -h 127.0.0.1). These tests need the real server.`,
      { cause: err },
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Runs `fn` with a plain admin connection (for setup, cleanup and fault injection). */
export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops a store's table and sequence. */
export async function dropTable(table: string): Promise<void> {
  await withAdmin((c) =>
    c.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(table)}; DROP SEQUENCE IF EXISTS ${pg.escapeIdentifier(`${table}_revision_seq`)}`),
  );
}

/** A store on a fresh table. */
export function makeStore(table: string, options: Partial<PostgresStoreOptions> = {}): PostgresStore {
  return new PostgresStore({ connectionString: PG_URL, table, maxConnections: 4, ...options });
}

/** PostgresStore as the shared backend suites take it: one table a store. */
export const postgresBackend: StoreBackend<PostgresStore, Partial<PostgresStoreOptions>> = {
  name: 'PostgresStore',
  unique: uniqueTable,
  make: makeStore,
  ready: requirePostgres,
  drop: dropTable,
};
