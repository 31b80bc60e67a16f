import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigError,
  ConflictError,
  ConvergeError,
  CryptoError,
  DecodeError,
  EncodeError,
  FrameTooLargeError,
  InvalidKeyError,
  KeyError,
  LimitExceededError,
  NotFoundError,
  NotStartedError,
  PolicyError,
  QueueFullError,
  SignatureError,
  StoreError,
  TimeoutError,
  TransportError,
  ValidationError,
  errorClass,
  errors,
  isConvergeError,
  throwIfAborted,
} from '@converge/core';

const cases: [string, () => ConvergeError, string, (new (...a: never[]) => Error)[]][] = [
  ['DecodeError', () => new DecodeError('m'), 'ERR_DECODE', []],
  ['EncodeError', () => new EncodeError('m'), 'ERR_ENCODE', []],
  ['SignatureError', () => new SignatureError('m'), 'ERR_SIGNATURE', []],
  ['KeyError', () => new KeyError('m'), 'ERR_KEY', []],
  ['TransportError', () => new TransportError('m'), 'ERR_TRANSPORT', []],
  ['FrameTooLargeError', () => new FrameTooLargeError(11, 10), 'ERR_FRAME_TOO_LARGE', [TransportError]],
  ['QueueFullError', () => new QueueFullError('m'), 'ERR_QUEUE_FULL', [TransportError]],
  ['NotStartedError', () => new NotStartedError(), 'ERR_NOT_STARTED', []],
  ['AbortError', () => new AbortError(), 'ERR_ABORTED', []],
  ['TimeoutError', () => new TimeoutError(), 'ERR_TIMEOUT', []],
  ['ConflictError', () => new ConflictError('m'), 'ERR_CONFLICT', []],
  ['NotFoundError', () => new NotFoundError('m'), 'ERR_NOT_FOUND', []],
  ['PolicyError', () => new PolicyError('m'), 'ERR_POLICY', []],
  ['LimitExceededError', () => new LimitExceededError('m'), 'ERR_LIMIT_EXCEEDED', [PolicyError]],
  ['ConfigError', () => new ConfigError('m'), 'ERR_CONFIG', []],
  ['StoreError', () => new StoreError('m'), 'ERR_STORE', []],
  ['InvalidKeyError', () => new InvalidKeyError('../x', 'traversal'), 'ERR_INVALID_KEY', [StoreError]],
  ['ValidationError', () => new ValidationError('m'), 'ERR_VALIDATION', []],
  ['CryptoError', () => new CryptoError('m'), 'ERR_CRYPTO', []],
];

describe('error classes', () => {
  it.each(cases)('%s has its name, stable code, and is a ConvergeError and an Error', (name, make, code, parents) => {
    const e = make();
    expect(e.name).toBe(name);
    expect(e.code).toBe(code);
    expect(e).toBeInstanceOf(ConvergeError);
    expect(e).toBeInstanceOf(Error);
    for (const p of parents) expect(e).toBeInstanceOf(p);
    expect(String(e)).toContain(name);
    expect(e.stack).toBeTruthy();
  });

  it('every code is distinct', () => {
    const codes = cases.map(([, , code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('carries the cause when given, and has none otherwise', () => {
    const cause = new RangeError('inner');
    expect(new DecodeError('outer', { cause }).cause).toBe(cause);
    expect(new DecodeError('outer').cause).toBeUndefined();
    expect('cause' in new DecodeError('outer')).toBe(false);
    expect(new FrameTooLargeError(5, 4, { cause }).cause).toBe(cause);
  });

  it('keeps the extra context of the errors that have some', () => {
    const f = new FrameTooLargeError(11, 10);
    expect([f.size, f.limit]).toEqual([11, 10]);
    expect(f.message).toMatch(/11.*10/);
    expect(new ConflictError('m', { currentState: 'running' }).currentState).toBe('running');
    expect(new ConfigError('m', { key: 'port' }).key).toBe('port');
    expect(new InvalidKeyError('a/../b', 'traversal').key).toBe('a/../b');
    expect(new TransportError('m', { code: 'ERR_CUSTOM' }).code).toBe('ERR_CUSTOM');
  });

  it('base ConvergeError defaults to ERR_CONVERGE', () => {
    expect(new ConvergeError('m').code).toBe('ERR_CONVERGE');
    expect(new ConvergeError('m', 'ERR_X').code).toBe('ERR_X');
  });
});

describe('throwIfAborted', () => {
  it("throws AbortError with the signal's reason as cause once aborted, nothing before", () => {
    const c = new AbortController();
    expect(() => throwIfAborted(c.signal)).not.toThrow();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    c.abort(new Error('stop'));
    let err: unknown;
    try {
      throwIfAborted(c.signal);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toBe(c.signal.reason);
  });
});

describe('errorClass and errors', () => {
  class Unplugged extends errorClass('Unplugged', 'ERR_UNPLUGGED', 'the cable is out') {}
  class Jammed extends errorClass('Jammed', 'ERR_JAMMED', undefined, TransportError) {}

  it('makes a condition with its name, code, default message and cause', () => {
    const cause = new Error('root');
    const e = new Unplugged(undefined, { cause });
    expect(e).toBeInstanceOf(ConvergeError);
    expect([e.name, e.code, e.message, e.cause]).toEqual(['Unplugged', 'ERR_UNPLUGGED', 'the cable is out', cause]);
    expect(new Unplugged('other').message).toBe('other');
    expect(Unplugged.is(e)).toBe(true);
    expect(Unplugged.is(new NotFoundError('x'))).toBe(false);
  });

  it('a condition under a family keeps the family as parent and takes its own code', () => {
    const e = new Jammed('stuck');
    expect([e.name, e.code]).toEqual(['Jammed', 'ERR_JAMMED']);
    expect(e).toBeInstanceOf(TransportError);
    expect(TransportError.is(e)).toBe(true);
    expect(QueueFullError.is(e)).toBe(false);
  });

  it('a condition under a fixed-code condition (no code option) still takes its own code', () => {
    class Forged extends errorClass('Forged', 'ERR_FORGED', undefined, SignatureError) {}
    const e = new Forged('bad card');
    expect([e.name, e.code, e.message]).toEqual(['Forged', 'ERR_FORGED', 'bad card']);
    expect(SignatureError.is(e)).toBe(true);
    expect(isConvergeError(e, 'ERR_SIGNATURE')).toBe(false);
  });

  it('errors lists every core class, each recognising its own instances', () => {
    expect(Object.keys(errors).sort()).toEqual([...new Set(cases.map(([name]) => name)), 'ConvergeError'].sort());
    for (const [name, make] of cases) expect(errors[name as keyof typeof errors].is(make())).toBe(true);
  });
});
