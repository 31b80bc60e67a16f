import { ConfigError } from '@converge/core';
import pg from 'pg';

/** The pool a PostgreSQL store or queue runs on. */
export interface PoolUse {
  /** The connections. */
  readonly pool: pg.Pool;
  /** Whether it was made here from a connection string (and so is ended on `stop()`); a given pool never is. */
  readonly owned: boolean;
  /** Its connection settings (a copy of a given pool's options), for the LISTEN connection. */
  readonly config: pg.ClientConfig;
}

/**
 * The caller's pool when `given`, or else a new one on `config()` with `max()` connections, for
 * which `connectionString` must be a string (`ConfigError`). `config` and `max` are only read
 * (and checked) when a pool is made.
 */
export function usePool(given: pg.Pool | undefined, connectionString: unknown, config: () => pg.ClientConfig, max: () => number): PoolUse {
  if (given) return { pool: given, owned: false, config: { ...(given.options as pg.ClientConfig) } };
  if (typeof connectionString !== 'string') throw new ConfigError('connectionString must be a string', { key: 'connectionString' });
  const c = config();
  return { pool: new pg.Pool({ ...c, max: max() }), owned: true, config: c };
}
