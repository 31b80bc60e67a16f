// describeValue: messages about a bad value never say `[object Object]`.
import { describe, expect, it } from 'vitest';
import { ConfigError, HealthChecks, overflowPolicy } from '../src/index.js';
import { describeValue } from '../src/describe-value.js';

describe('describeValue', () => {
  it('quotes strings, writes scalars as they are, names anything else by its kind', () => {
    expect(describeValue('drop-all')).toBe('"drop-all"');
    expect([describeValue(5), describeValue(true), describeValue(7n), describeValue(null), describeValue(undefined)]).toEqual([
      '5',
      'true',
      '7',
      'null',
      'undefined',
    ]);
    expect(describeValue(new RangeError('too big'))).toBe('RangeError: too big');
    expect([describeValue({ a: 1 }), describeValue([1]), describeValue(() => 1), describeValue(Symbol('s'))]).toEqual([
      'an object',
      'an array',
      'a function',
      'a symbol',
    ]);
  });

  it('is what overflowPolicy and a health check report for a value of the wrong type', async () => {
    expect(() => overflowPolicy({ policy: 'throw' }, 'throw', 'inbox.overflow')).toThrow(ConfigError);
    expect(() => overflowPolicy({ policy: 'throw' }, 'throw', 'inbox.overflow')).toThrow(/got an object$/);
    expect(() => overflowPolicy('drop-all', 'throw')).toThrow(/got "drop-all"$/);
    const h = new HealthChecks();
    h.addHealthCheck('odd', () => ({ ok: false, detail: { reason: 'x' } as unknown as string }));
    h.addHealthCheck('plain', () => ({ ok: true, detail: '3 waiting' }));
    const report = await h.health();
    expect(report.checks.odd).toEqual({ ok: false, detail: 'an object' });
    expect(report.checks.plain).toEqual({ ok: true, detail: '3 waiting' });
  });
});
