// The tasks table of a PostgresTaskQueue and every statement on it. One statement per
// transition: claim is an UPDATE over a `FOR UPDATE SKIP LOCKED` pick (a batch at once),
// report/fail/extend are UPDATEs fenced by attempt, holder, lease expiry and deadline; the
// batch forms of submit, report and get take arrays (`unnest`), each row fenced as alone.
// Each transition NOTIFYs the queue's channel with the event (a wake-up for waiting claims
// and the feed of `watch`).
import pg from 'pg';

/** Columns every RETURNING gives back (the full record). */
const ROW =
  'id, pool, state, caps, attempts, failures, assigned_to, claimed_at, lease_expires_at, not_before, deadline, dead_lettered, failure_reason, submitted_at, updated_at, body, result';

/** {@link ROW} with every column qualified by `alias`. */
function qualified(alias: string): string {
  return ROW.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

/** The fence of report/fail/extend: $1 id, $2 attempt, $3 agent, $4 now. */
const FENCE = `id = $1 AND attempts = $2 AND assigned_to = $3 AND state IN ('assigned', 'running') AND lease_expires_at > $4 AND (deadline IS NULL OR deadline > $4)`;

/** Which transitions NOTIFY (see `PostgresTaskQueueOptions.notify`). */
export type NotifyMode = 'all' | 'wake-ups' | 'outcomes';

/** The states each {@link NotifyMode} but `all` notifies. */
const NOTIFIED: Record<Exclude<NotifyMode, 'all'>, string> = {
  'wake-ups': `('pending')`,
  outcomes: `('pending', 'completed', 'failed', 'cancelled')`,
};

/** The event NOTIFY of a changed row `r` on `channel`: every row, or only those whose new state `mode` names. */
function notifyOf(channel: string, mode: NotifyMode): (r: string) => string {
  return (r) => {
    const call = `pg_notify(${pg.escapeLiteral(channel)}, json_build_array(${r}.state, ${r}.attempts, ${r}.pool, ${r}.id)::text)`;
    return mode === 'all' ? call : `CASE WHEN ${r}.state IN ${NOTIFIED[mode]} THEN ${call} END`;
  };
}

/** The statements of one queue table. */
export interface QueueStatements {
  schema: string[];
  submit: string;
  byId: string;
  byIdempotencyKey: string;
  claim: string;
  report: string;
  /** `submit` of a batch: $1 ids, $2 pools, $3 capabilities (JSON arrays), $4 max retries, $5 lease ms, $6 nows, $7 deadlines, $8 idempotency keys, $9 bodies. */
  submitMany: string;
  /** `report` of a batch (each row fenced as `report` is): $1 ids, $2 attempts, $3 agents, $4 nows, $5 results. */
  reportMany: string;
  /** The rows of $1 ids. */
  byIds: string;
  fail: string;
  extend: string;
  cancel: string;
  expireClaimed: string;
  expirePending: string;
  list: string;
}

/** The statements of the coalesced calls (see `batched.ts`) on the escaped table name `t`. */
function batchStatements(t: string, notify: (r: string) => string): Pick<QueueStatements, 'submitMany' | 'reportMany' | 'byIds'> {
  return {
    submitMany: `WITH i AS (INSERT INTO ${t} (id, pool, state, caps, max_retries, lease_ms, due, deadline, submitted_at, updated_at, idem_key, body)
      SELECT v.id, v.pool, 'pending', ARRAY(SELECT jsonb_array_elements_text(v.caps::jsonb)), v.max_retries, v.lease_ms, v.now, v.deadline, v.now, v.now, v.idem, v.body
      FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::bytea[])
        WITH ORDINALITY AS v(id, pool, caps, max_retries, lease_ms, now, deadline, idem, body, n)
      ORDER BY v.n ON CONFLICT DO NOTHING RETURNING ${ROW}) SELECT i.*, ${notify('i')} FROM i`,
    reportMany: `WITH v AS (SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bytea[]) AS v(id, attempt, agent, now, result)),
      u AS (UPDATE ${t} q SET state = 'completed', result = v.result, lease_expires_at = NULL, updated_at = v.now FROM v
        WHERE q.id = ANY($1::text[]) AND q.id = v.id AND q.attempts = v.attempt AND q.assigned_to = v.agent AND q.state IN ('assigned', 'running')
          AND q.lease_expires_at > v.now AND (q.deadline IS NULL OR q.deadline > v.now)
        RETURNING ${qualified('q')})
      SELECT u.*, ${notify('u')} FROM u`,
    byIds: `SELECT ${ROW} FROM ${t} WHERE id = ANY($1::text[])`,
  };
}

/** Builds the DDL and statements of table `table`, notifying on `channel` the transitions `mode` names. */
export function queueStatements(table: string, channel: string, mode: NotifyMode = 'all'): QueueStatements {
  const notify = notifyOf(channel, mode);
  const t = pg.escapeIdentifier(table);
  const idx = (name: string): string => pg.escapeIdentifier(`${table}_${name}`);
  const upd = (set: string, where: string): string => `WITH u AS (UPDATE ${t} SET ${set} WHERE ${where} RETURNING ${ROW}) SELECT u.*, ${notify('u')} FROM u`;
  // After a failed attempt ($5 reason): over maxRetries → dead letter; else back to pending after the backoff ($6 base, $7 cap).
  const over = 'failures + 1 > max_retries';
  const failSet = `failures = failures + 1, failure_reason = $5, lease_expires_at = NULL, updated_at = $4,
    state = CASE WHEN ${over} THEN 'failed' ELSE 'pending' END, dead_lettered = ${over},
    assigned_to = CASE WHEN ${over} THEN assigned_to END, claimed_at = CASE WHEN ${over} THEN claimed_at END,
    not_before = CASE WHEN ${over} THEN NULL ELSE $4 + LEAST($7::bigint, $6::bigint * power(2, failures)::bigint) END,
    due = CASE WHEN ${over} THEN due ELSE $4 + LEAST($7::bigint, $6::bigint * power(2, failures)::bigint) END`;
  return {
    ...batchStatements(t, notify),
    schema: [
      `CREATE TABLE IF NOT EXISTS ${t} (
        id text COLLATE "C" PRIMARY KEY, pool text NOT NULL, state text NOT NULL, caps text[] NOT NULL,
        attempts integer NOT NULL DEFAULT 0, failures integer NOT NULL DEFAULT 0, max_retries integer NOT NULL, lease_ms bigint NOT NULL,
        assigned_to text, claimed_at bigint, lease_expires_at bigint, not_before bigint, due bigint NOT NULL, deadline bigint,
        dead_lettered boolean NOT NULL DEFAULT false, failure_reason text, submitted_at bigint NOT NULL, updated_at bigint NOT NULL,
        seq bigserial, idem_key text UNIQUE, body bytea NOT NULL, result bytea)`,
      `CREATE INDEX IF NOT EXISTS ${idx('ready')} ON ${t} (pool, due, seq) WHERE state = 'pending'`,
      `CREATE INDEX IF NOT EXISTS ${idx('leases')} ON ${t} (lease_expires_at) WHERE state IN ('assigned', 'running')`,
      `CREATE INDEX IF NOT EXISTS ${idx('deadlines')} ON ${t} (deadline) WHERE deadline IS NOT NULL AND state IN ('pending', 'assigned', 'running')`,
    ],
    submit: `WITH i AS (INSERT INTO ${t} (id, pool, state, caps, max_retries, lease_ms, due, deadline, submitted_at, updated_at, idem_key, body)
      VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $6, $6, $8, $9) ON CONFLICT DO NOTHING RETURNING ${ROW}) SELECT i.*, ${notify('i')} FROM i`,
    byId: `SELECT ${ROW} FROM ${t} WHERE id = $1`,
    byIdempotencyKey: `SELECT ${ROW} FROM ${t} WHERE idem_key = $1`,
    // $1 pool, $2 now, $3 capabilities, $4 max, $5 agent.
    claim: `WITH c AS (SELECT id FROM ${t} WHERE state = 'pending' AND pool = $1 AND due <= $2 AND caps <@ $3::text[] AND (deadline IS NULL OR deadline > $2)
        ORDER BY due, seq LIMIT $4 FOR UPDATE SKIP LOCKED),
      u AS (UPDATE ${t} q SET state = 'assigned', assigned_to = $5, attempts = q.attempts + 1, claimed_at = $2, lease_expires_at = $2 + q.lease_ms,
        not_before = NULL, updated_at = $2 FROM c WHERE q.id = c.id RETURNING ${qualified('q')})
      SELECT u.*, ${notify('u')} FROM u`,
    report: upd(`state = 'completed', result = $5, lease_expires_at = NULL, updated_at = $4`, FENCE),
    fail: upd(failSet, FENCE),
    extend: `UPDATE ${t} SET lease_expires_at = $4 + lease_ms, updated_at = $4 WHERE ${FENCE} RETURNING lease_expires_at`,
    cancel: upd(`state = 'cancelled', lease_expires_at = NULL, updated_at = $2`, `id = $1 AND state IN ('pending', 'assigned', 'running')`),
    // $1 now, $2 limit. A claim past its deadline fails; an expired lease is a failed attempt retried at once.
    expireClaimed: `WITH c AS (SELECT id, assigned_to FROM ${t} WHERE state IN ('assigned', 'running') AND (lease_expires_at <= $1 OR deadline <= $1)
        ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
      u AS (UPDATE ${t} q SET lease_expires_at = NULL, updated_at = $1,
        failures = CASE WHEN q.deadline <= $1 THEN q.failures ELSE q.failures + 1 END,
        failure_reason = CASE WHEN q.deadline <= $1 THEN 'deadline' ELSE 'lease-expired' END,
        state = CASE WHEN q.deadline <= $1 OR q.failures + 1 > q.max_retries THEN 'failed' ELSE 'pending' END,
        dead_lettered = (q.deadline IS NULL OR q.deadline > $1) AND q.failures + 1 > q.max_retries,
        assigned_to = CASE WHEN q.deadline <= $1 OR q.failures + 1 > q.max_retries THEN q.assigned_to END,
        claimed_at = CASE WHEN q.deadline <= $1 OR q.failures + 1 > q.max_retries THEN q.claimed_at END,
        not_before = NULL, due = $1
        FROM c WHERE q.id = c.id RETURNING q.id, q.pool, q.state, q.attempts, q.dead_lettered, q.failure_reason, c.assigned_to AS agent)
      SELECT u.*, ${notify('u')} FROM u`,
    expirePending: `WITH c AS (SELECT id FROM ${t} WHERE state = 'pending' AND deadline <= $1 ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED),
      u AS (UPDATE ${t} q SET state = 'failed', failure_reason = 'deadline', updated_at = $1 FROM c WHERE q.id = c.id
        RETURNING q.id, q.pool, q.state, q.attempts, q.dead_lettered, q.failure_reason, NULL::text AS agent)
      SELECT u.*, ${notify('u')} FROM u`,
    // $1 cursor ('' = start), $2 state or NULL, $3 pool or NULL, $4 limit + 1.
    list: `SELECT ${ROW} FROM ${t} WHERE id > $1 AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR pool = $3) ORDER BY id LIMIT $4`,
  };
}
