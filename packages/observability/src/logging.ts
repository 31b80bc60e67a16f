import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError } from '@converge/core';

export type { Logger } from 'pino';

/** The level names `logStruct` accepts. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Options of `createLogger`. */
export interface LoggerConfig {
  /** Lowest level written: `trace`…`fatal` or `silent` (default `info`). */
  level?: string;
  /** Logger name, written as the `name` field of every line. */
  name?: string;
  /**
   * Human-readable output through `pino-pretty` (for the CLI). Runs pino-pretty as a pino
   * transport (a worker thread) when writing to a file or stdout; default `false` (JSON lines).
   */
  pretty?: boolean;
  /** With `pretty`: one line per entry, fields inline (pino-pretty's `singleLine`); default `false`. */
  singleLine?: boolean;
  /**
   * Where lines go: a file path (appended, asynchronous, flushed on exit and by
   * `logger.flush()`), a file descriptor (1 = stdout, the default) or any writable stream.
   */
  destination?: string | number | NodeJS.WritableStream;
  /**
   * Redaction. By default (`undefined`), the values of `SECRET_KEYS` are replaced by
   * `[redacted]` at the top level and one level deep, by a key lookup that costs almost nothing
   * per line. A list of pino redaction paths (fast-redact syntax, e.g. `['req.headers.cookie',
   * '*.token']`) replaces that with pino's own redaction, which is slower (wildcards especially);
   * `[]` turns redaction off.
   */
  redact?: string[];
  /** Fields bound to every line (e.g. `{ service: 'worker' }`). */
  bindings?: Record<string, unknown>;
}

/** Keys whose values are secrets; redacted at the top level and one level deep by default. */
export const SECRET_KEYS: readonly string[] = Object.freeze([
  'secretKey',
  'privateKey',
  'secret',
  'token',
  'password',
  'passphrase',
  'apiKey',
  'authorization',
  'cookie',
  'encryptionKey',
]);

/**
 * The default redaction as pino paths (every `SECRET_KEYS` key at the top level and one level
 * deep), to extend it through the `redact` option: `[...DEFAULT_REDACT_PATHS, 'a.b.c']`.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = Object.freeze(SECRET_KEYS.flatMap((k) => [k, `*.${k}`]));

/** The value that replaces a redacted field. */
export const REDACTED = '[redacted]';

const SECRET_SET: ReadonlySet<string> = new Set(SECRET_KEYS);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function hasSecret(obj: Record<string, unknown>): boolean {
  for (const k in obj) if (SECRET_SET.has(k)) return true;
  return false;
}

function censored(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in obj) out[k] = SECRET_SET.has(k) ? REDACTED : obj[k];
  return out;
}

/**
 * The default redaction, as a pino `formatters.log` hook (and applied to child bindings): a key lookup per field,
 * and a copy only when a secret is present (the caller's object is never modified).
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    const v = obj[k];
    if (SECRET_SET.has(k)) {
      if (v !== undefined) (out ??= { ...obj })[k] = REDACTED;
    } else if (isPlainObject(v) && hasSecret(v)) {
      (out ??= { ...obj })[k] = censored(v);
    }
  }
  return out ?? obj;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

function destinationStream(dest: string | number | NodeJS.WritableStream | undefined): DestinationStream | NodeJS.WritableStream {
  if (dest === undefined) return pino.destination({ dest: 1, sync: true });
  if (typeof dest === 'number') return pino.destination({ dest, sync: true });
  // Asynchronous (buffered) file writes: pino flushes them on process exit and on `flush()`.
  if (typeof dest === 'string') return pino.destination({ dest, sync: false, mkdir: true, append: true });
  return dest;
}

/**
 * Creates a pino logger: JSON lines by default, secret-like keys redacted, `pretty` for
 * humans. Use `logger.child({ agentId, taskId })` to bind context. Nothing is added on the
 * logging hot path beyond pino's own redaction of the configured paths.
 */
export function createLogger(options: LoggerConfig = {}): Logger {
  const level = options.level ?? 'info';
  if (!LEVELS.has(level)) throw new ConfigError(`unknown log level ${JSON.stringify(level)}`, { key: 'level' });
  const paths = options.redact;
  const config: LoggerOptions = {
    level,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(paths === undefined ? { formatters: { log: redactSecrets } } : paths.length === 0 ? {} : { redact: { paths: [...paths], censor: REDACTED } }),
  };
  let logger: Logger;
  let owned: Closable | undefined;
  if (options.pretty) {
    const dest = options.destination;
    if (dest !== undefined && typeof dest !== 'string' && typeof dest !== 'number') {
      // A caller-provided stream: pino-pretty as a stream in this thread.
      logger = pino(config, pretty({ destination: dest, colorize: false, sync: true, translateTime: 'SYS:standard', singleLine: options.singleLine === true }));
    } else {
      const transport = pino.transport({
        target: 'pino-pretty',
        options: { destination: dest ?? 1, colorize: false, mkdir: true, translateTime: 'SYS:standard', singleLine: options.singleLine === true },
      }) as DestinationStream & Closable;
      owned = transport;
      logger = pino(config, transport);
    }
  } else {
    const stream = destinationStream(options.destination);
    if (typeof options.destination === 'string') owned = stream as unknown as Closable;
    logger = pino(config, stream as DestinationStream);
  }
  // pino applies `formatters.log` to logged objects only; child bindings are redacted here.
  // Children are created with Object.create(parent), so every descendant inherits this.
  if (options.redact === undefined) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
    const child = logger.child;
    logger.child = function redactedChild(this: Logger, bindings: Record<string, unknown>, opts?: unknown) {
      return child.call(this, redactSecrets(bindings), opts as never);
    } as Logger['child'];
  }
  if (options.bindings) logger = logger.child(options.bindings);
  if (owned) ownedStreams.set(logger, owned);
  return logger;
}

interface Closable {
  end(): void;
  once(event: 'close' | 'error', fn: (err?: Error) => void): unknown;
}

// Streams that `createLogger` opened itself (file or pretty transport), so `closeLogger` may end them.
const ownedStreams = new WeakMap<Logger, Closable>();

/**
 * Flushes and closes what `createLogger` opened for `logger` (a file destination or the
 * pretty-printing worker); resolves once every line is written. Caller-provided streams and
 * stdout are left open (only flushed). Call it on shutdown; the logger must not be used after.
 */
export function closeLogger(logger: Logger): Promise<void> {
  const stream = ownedStreams.get(logger);
  if (!stream) {
    return new Promise((resolve) => logger.flush(() => resolve()));
  }
  ownedStreams.delete(logger);
  return new Promise<void>((resolve, reject) => {
    stream.once('close', () => resolve());
    stream.once('error', (err) => reject(err ?? new Error('the log stream failed')));
    stream.end();
  });
}

/**
 * Logs `msg` at `level` with structured `fields` (merged into the JSON line). The same as
 * `logger[level](fields, msg)`, for callers that pick the level at run time.
 */
export function logStruct(logger: Logger, level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  const fn = logger[level];
  if (typeof fn !== 'function') throw new ConfigError(`unknown log level ${JSON.stringify(level)}`, { key: 'level' });
  if (fields === undefined) fn.call(logger, msg);
  else fn.call(logger, fields, msg);
}

const nullStream: DestinationStream = { write: () => undefined };

/**
 * A new logger that writes nothing (for defaults). Each call returns a fresh instance, so no
 * state is shared between components.
 */
export function createSilentLogger(): Logger {
  // `enabled: false` pins the level to silent; the null stream drops anything regardless.
  return pino({ level: 'silent', enabled: false }, nullStream);
}

/**
 * A logger that writes nothing. Its output goes to a null stream and it is disabled, so even
 * a caller that changes its level cannot make it write; prefer `createSilentLogger()` where
 * a component keeps its own instance.
 */
export const silentLogger: Logger = createSilentLogger();

/**
 * The pino implementation of core's `Logger` contract (the same as `createLogger`): pass the
 * result as the `logger` of any component.
 */
export function pinoLogger(options: LoggerConfig = {}): Logger {
  return createLogger(options);
}
