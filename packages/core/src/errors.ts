/**
 * Error classes shared by every Converge package.
 *
 * One class per condition, each with a stable `code` (for programs) and a `name`
 * (for people), and the standard `cause` (as nats.js v3 and libp2p do).
 */

/** Options accepted by every Converge error. */
export interface ConvergeErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Brand of every `ConvergeError`: its value is the list of class names from the error's own
 * class up to `ConvergeError`. `isConvergeError` reads it, so a check works on an error thrown
 * by another copy of the package (dual install, ESM and CJS), where `instanceof` fails.
 */
export const CONVERGE_ERROR_BRAND: unique symbol = Symbol.for('@converge/error') as never;

/** A `ConvergeError` class (or subclass), as `isConvergeError` and `ConvergeError.is` take it. */
export type ConvergeErrorClass<T extends ConvergeError = ConvergeError> = abstract new (...args: never[]) => T;

/** Base class of every error Converge throws on purpose. `code` is stable across releases. */
export class ConvergeError extends Error {
  /** Stable, machine-readable code, e.g. `ERR_DECODE`. */
  readonly code: string;
  /** Brand: the class names of this error, own class first (see `isConvergeError`). */
  declare readonly [CONVERGE_ERROR_BRAND]: readonly string[];
  constructor(message: string, code = 'ERR_CONVERGE', options?: ConvergeErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConvergeError';
    this.code = code;
    Object.defineProperty(this, CONVERGE_ERROR_BRAND, { value: classNames(new.target), enumerable: false });
  }

  /**
   * Whether `err` is an error of this class or a subclass, from any copy of the package:
   * `NotFoundError.is(err)`. The cross-copy form of `err instanceof NotFoundError`.
   */
  static is<T extends ConvergeError>(this: ConvergeErrorClass<T>, err: unknown): err is T {
    return isConvergeError(err, this);
  }
}

function classNames(leaf: ConvergeErrorClass): readonly string[] {
  const names: string[] = [];
  for (let c: unknown = leaf; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
    const name = (c as ConvergeErrorClass).name;
    if (names[names.length - 1] !== name) names.push(name);
  }
  return Object.freeze(names);
}

/**
 * Whether `err` is a Converge error, from any copy of the package (the cross-copy form of
 * `instanceof`). With `kind`, also that it is of that class or a subclass (a class, matched by
 * name), or that its `code` is `kind` (a string such as `'ERR_NOT_FOUND'`) or its class or a
 * parent class is named `kind` (`'PolicyError'`). A look-alike without the brand is refused.
 */
export function isConvergeError<T extends ConvergeError = ConvergeError>(err: unknown, kind?: string | ConvergeErrorClass<T>): err is T {
  if (typeof err !== 'object' || err === null) return false;
  const names = (err as Partial<Record<typeof CONVERGE_ERROR_BRAND, unknown>>)[CONVERGE_ERROR_BRAND];
  if (!Array.isArray(names)) return false;
  if (kind === undefined) return true;
  if (typeof kind === 'string') return (err as { code?: unknown }).code === kind || names.includes(kind);
  return names.includes(kind.name);
}

/** A parent class that takes its code in the options (`TransportError`, `PolicyError`, `StoreError`). */
export type ConvergeErrorFamily<T extends ConvergeError = ConvergeError> = abstract new (
  message: string,
  options?: ConvergeErrorOptions & { code?: string },
) => T;

/** A class made by `errorClass`: `new X(message?, { cause })`, `X.is(err)`. */
export interface ConvergeConditionClass<T extends ConvergeError = ConvergeError> {
  /** Makes the error; `message` defaults to the condition's default message (else its name). */
  new (message?: string, options?: ConvergeErrorOptions): T;
  /** The prototype of every instance. */
  readonly prototype: T;
  /** Whether `err` is of this class or a subclass, from any copy of the package (see `ConvergeError.is`). */
  is: typeof ConvergeError.is;
}

/**
 * The base of one error condition with a fixed `name` and `code`, as nats.js declares its
 * errors: `export class NotFoundError extends errorClass('NotFoundError', 'ERR_NOT_FOUND') {}`.
 * `family` is the parent (default `ConvergeError`); one that takes its code in the options
 * (`TransportError`, `PolicyError`, `StoreError`) is given this condition's `code`, and any other
 * (a condition such as `SignatureError`) has its code replaced by this condition's. A condition
 * with details of its own extends the result with a constructor that only stores them.
 */
export function errorClass(name: string, code: string, defaultMessage?: string): ConvergeConditionClass;
/** A condition under a family (`TransportError`, `PolicyError`, `StoreError`). */
export function errorClass<T extends ConvergeError>(
  name: string,
  code: string,
  defaultMessage: string | undefined,
  family: ConvergeErrorFamily<T>,
): ConvergeConditionClass<T>;
/** The implementation of both forms. */
export function errorClass(name: string, code: string, defaultMessage?: string, family?: ConvergeErrorFamily): ConvergeConditionClass {
  const fallback = defaultMessage ?? name;
  const made =
    family === undefined
      ? class extends ConvergeError {
          constructor(message: string = fallback, options?: ConvergeErrorOptions) {
            super(message, code, options);
            this.name = name;
          }
        }
      : class extends (family as unknown as new (message: string, options?: ConvergeErrorOptions & { code?: string }) => ConvergeError) {
          constructor(message: string = fallback, options?: ConvergeErrorOptions) {
            super(message, { ...options, code });
            this.name = name;
            (this as { code: string }).code = code;
          }
        };
  Object.defineProperty(made, 'name', { value: name });
  return made as unknown as ConvergeConditionClass;
}

/** Bytes that are not a valid message, frame or record. */
export class DecodeError extends errorClass('DecodeError', 'ERR_DECODE') {}

/** A value that cannot be encoded (unsupported type, too deep, too large). */
export class EncodeError extends errorClass('EncodeError', 'ERR_ENCODE') {}

/** A signature that is missing, malformed or does not verify. */
export class SignatureError extends errorClass('SignatureError', 'ERR_SIGNATURE') {}

/** A key of the wrong length or form, or an identity without the secret key it needs. */
export class KeyError extends errorClass('KeyError', 'ERR_KEY') {}

/** A message could not be sent or received. */
export class TransportError extends ConvergeError {
  constructor(message: string, options?: ConvergeErrorOptions & { code?: string }) {
    super(message, options?.code ?? 'ERR_TRANSPORT', options);
    this.name = 'TransportError';
  }
}

/** A frame or message larger than the configured limit. */
export class FrameTooLargeError extends TransportError {
  /** Size of the refused frame in bytes. */
  readonly size: number;
  /** The limit in force. */
  readonly limit: number;
  constructor(size: number, limit: number, options?: ConvergeErrorOptions) {
    super(`frame of ${size} bytes exceeds the limit of ${limit} bytes`, { ...options, code: 'ERR_FRAME_TOO_LARGE' });
    this.name = 'FrameTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** A bounded queue is full and the caller asked to be told rather than wait. */
export class QueueFullError extends errorClass('QueueFullError', 'ERR_QUEUE_FULL', undefined, TransportError) {}

/** A component was used before `start()` or after `stop()`. */
export class NotStartedError extends errorClass('NotStartedError', 'ERR_NOT_STARTED', 'not started') {}

/** An operation was cancelled through its `AbortSignal`. */
export class AbortError extends errorClass('AbortError', 'ERR_ABORTED', 'the operation was aborted') {}

/** An operation did not finish in the time it was given. */
export class TimeoutError extends errorClass('TimeoutError', 'ERR_TIMEOUT', 'the operation timed out') {}

/** A state change that lost a race or is not legal from the current state. */
export class ConflictError extends ConvergeError {
  /** The state the record was in when the change was refused, where there is one. */
  readonly currentState?: string;
  constructor(message: string, options?: ConvergeErrorOptions & { currentState?: string }) {
    super(message, 'ERR_CONFLICT', options);
    this.name = 'ConflictError';
    this.currentState = options?.currentState;
  }
}

/** A task, pool, session, key or agent that does not exist. */
export class NotFoundError extends errorClass('NotFoundError', 'ERR_NOT_FOUND') {}

/** An action refused by a policy (admission, governance, allowlist, limits). */
export class PolicyError extends ConvergeError {
  constructor(message: string, options?: ConvergeErrorOptions & { code?: string }) {
    super(message, options?.code ?? 'ERR_POLICY', options);
    this.name = 'PolicyError';
  }
}

/** A rate or resource limit was hit. */
export class LimitExceededError extends errorClass('LimitExceededError', 'ERR_LIMIT_EXCEEDED', undefined, PolicyError) {}

/** An invalid configuration value. `key` names the offending setting. */
export class ConfigError extends errorClass('ConfigError', 'ERR_CONFIG') {
  /** The configuration key that was invalid, where known. */
  readonly key?: string;
  constructor(message: string, options?: ConvergeErrorOptions & { key?: string }) {
    super(message, options);
    this.key = options?.key;
  }
}

/** A store failed to read or write, or holds a record it cannot read. */
export class StoreError extends ConvergeError {
  /** The key involved, where known. */
  readonly key?: string;
  constructor(message: string, options?: ConvergeErrorOptions & { key?: string; code?: string }) {
    super(message, options?.code ?? 'ERR_STORE', options);
    this.name = 'StoreError';
    this.key = options?.key;
  }
}

/** A store key that is not allowed (empty, too long, path traversal, control characters). */
export class InvalidKeyError extends StoreError {
  constructor(key: string, reason: string, options?: ConvergeErrorOptions) {
    super(`invalid store key ${JSON.stringify(key)}: ${reason}`, { ...options, key, code: 'ERR_INVALID_KEY' });
    this.name = 'InvalidKeyError';
  }
}

/** Invalid input to an API call (wrong type, out of range). */
export class ValidationError extends errorClass('ValidationError', 'ERR_VALIDATION') {}

/** Encryption or decryption failed (wrong key, tampered data, wrong associated data). */
export class CryptoError extends errorClass('CryptoError', 'ERR_CRYPTO') {}

/** Throws `AbortError` if the signal is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError('the operation was aborted', { cause: signal.reason });
}

/**
 * Every error class of core in one object (as nats.js exports `errors`): for code that matches
 * errors generically, e.g. `Object.values(errors).find((E) => E.is(err))`.
 */
export const errors = Object.freeze({
  ConvergeError,
  DecodeError,
  EncodeError,
  SignatureError,
  KeyError,
  TransportError,
  FrameTooLargeError,
  QueueFullError,
  NotStartedError,
  AbortError,
  TimeoutError,
  ConflictError,
  NotFoundError,
  PolicyError,
  LimitExceededError,
  ConfigError,
  StoreError,
  InvalidKeyError,
  ValidationError,
  CryptoError,
});
