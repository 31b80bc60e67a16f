/** Table, sequence and statements of a `PostgresStore`, built once from validated identifiers. */
import { ConfigError } from '@converge/core';
import pg from 'pg';

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,46}$/;
const CHANNEL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The SQL of one store, for one table. */
export interface Statements {
  /** Creates the sequence and table if absent (run under an advisory lock). */
  ddl: string[];
  /** Checks that the table has the columns the store needs. */
  columns: string;
  /** Reads one row: $1 key. */
  get: string;
  /** Upsert: $1 key, $2 value, $3 float paths, $4 channel. */
  put: string;
  /** Insert if absent: same parameters as `put`. */
  insert: string;
  /** Conditional update: as `put`, plus $5 expected revision. */
  update: string;
  /** Delete: $1 key, $2 channel. */
  delete: string;
  /** Every key. */
  listAll: string;
  /** Keys in [$1, $2). */
  listRange: string;
  /** Keys starting with $1 (when the prefix has no finite upper bound). */
  listOpen: string;
}

/** Checks the table and channel names; throws `ConfigError`. */
export function checkNames(table: string, channel: string): void {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new ConfigError(`table must be 1-47 letters, digits or underscores, not starting with a digit; got ${JSON.stringify(table)}`, { key: 'table' });
  }
  if (typeof channel !== 'string' || !CHANNEL_NAME.test(channel)) {
    throw new ConfigError(`channel must be 1-63 letters, digits or underscores, not starting with a digit; got ${JSON.stringify(channel)}`, { key: 'channel' });
  }
}

/**
 * Builds the statements. Every write takes its revision from one sequence (`nextval`), so
 * revisions keep growing across delete and re-create and a stale compareAndSet can never
 * succeed; `ON CONFLICT DO UPDATE` calls `nextval` again after it holds the row lock, so a key's
 * revision also grows in commit order. Each write notifies `channel` with the key in the same
 * statement (delivered on commit, only when a row was written), unless `notify` is false.
 */
export function buildStatements(table: string, notify = true): Statements {
  const t = pg.escapeIdentifier(table);
  const seq = pg.escapeIdentifier(`${table}_revision_seq`);
  const seqText = pg.escapeLiteral(pg.escapeIdentifier(`${table}_revision_seq`));
  const next = `nextval(${seqText}::regclass)`;
  // Without notify the channel parameter is still read, so every statement keeps its parameters.
  const note = notify ? 'pg_notify($4::text, $1::text)' : '$4::text AS channel';
  const noteDelete = notify ? 'pg_notify($2::text, $1::text)' : '$2::text AS channel';
  return {
    ddl: [
      `CREATE SEQUENCE IF NOT EXISTS ${seq} AS bigint`,
      // COLLATE "C": the primary-key btree is then in code-point order, so prefix listing is an
      // index range scan (what a text_pattern_ops index would give) and no second index is kept.
      `CREATE TABLE IF NOT EXISTS ${t} (
        key text COLLATE "C" PRIMARY KEY,
        revision bigint NOT NULL,
        value bytea NOT NULL,
        float_paths bytea,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
    columns: `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
    get: `SELECT revision::text AS revision, value, float_paths FROM ${t} WHERE key = $1`,
    put: `WITH w AS (
        INSERT INTO ${t} AS cur (key, revision, value, float_paths, updated_at) VALUES ($1, ${next}, $2, $3, now())
        ON CONFLICT (key) DO UPDATE SET revision = ${next}, value = EXCLUDED.value, float_paths = EXCLUDED.float_paths, updated_at = now()
        RETURNING revision)
      SELECT revision::text AS revision, ${note} FROM w`,
    insert: `WITH w AS (
        INSERT INTO ${t} (key, revision, value, float_paths, updated_at) VALUES ($1, ${next}, $2, $3, now())
        ON CONFLICT (key) DO NOTHING
        RETURNING revision)
      SELECT revision::text AS revision, ${note} FROM w`,
    update: `WITH w AS (
        UPDATE ${t} SET revision = ${next}, value = $2, float_paths = $3, updated_at = now()
        WHERE key = $1 AND revision = $5::bigint
        RETURNING revision)
      SELECT revision::text AS revision, ${note} FROM w`,
    delete: `WITH w AS (DELETE FROM ${t} WHERE key = $1 RETURNING revision)
      SELECT revision::text AS revision, ${noteDelete} FROM w`,
    listAll: `SELECT key FROM ${t}`,
    listRange: `SELECT key FROM ${t} WHERE key >= $1 AND key < $2`,
    listOpen: `SELECT key FROM ${t} WHERE key >= $1 AND starts_with(key, $1)`,
  };
}
