import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ValidationError,
  intOption,
  nonNegativeIntOption,
  nonNegativeOption,
  positiveIntOption,
  positiveIntOptions,
  requireInt,
} from '@converge/core';

const NOT_INTS = [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '3' as unknown as number, null as unknown as number];

describe('option checks (one module for every package)', () => {
  it('positiveIntOption: undefined is the fallback, anything but an integer >= 1 is ConfigError naming the option', () => {
    expect(positiveIntOption(undefined, 7, 'n')).toBe(7);
    expect(positiveIntOption(3, 7, 'n')).toBe(3);
    for (const bad of [0, -1, ...NOT_INTS]) {
      expect(() => positiveIntOption(bad, 7, 'n')).toThrow(ConfigError);
      expect(() => positiveIntOption(bad, 7, 'n')).toThrow(
        expect.objectContaining({ key: 'n', message: expect.stringContaining('n must be an integer >= 1') }),
      );
    }
  });

  it('positiveIntOptions resolves every key of a defaults table, each checked as positiveIntOption, in the table order', () => {
    const defaults = Object.freeze({ ttlMs: 300, maxRounds: 10 });
    expect(positiveIntOptions({}, defaults)).toEqual({ ttlMs: 300, maxRounds: 10 });
    expect(positiveIntOptions({ maxRounds: 3, ttlMs: undefined }, defaults)).toEqual({ ttlMs: 300, maxRounds: 3 });
    const withOthers: { ttlMs?: number; clock?: () => number } = { ttlMs: 5, clock: Date.now };
    expect(positiveIntOptions(withOthers, defaults)).toEqual({ ttlMs: 5, maxRounds: 10 });
    expect(() => positiveIntOptions({ maxRounds: 0 }, defaults)).toThrow(
      expect.objectContaining({ key: 'maxRounds', message: expect.stringContaining('maxRounds must be an integer >= 1') }),
    );
    expect(() => positiveIntOptions({ ttlMs: 1.5, maxRounds: 0 }, defaults, 'validation')).toThrow(ValidationError);
    expect(() => positiveIntOptions({ ttlMs: 1.5, maxRounds: 0 }, defaults, 'validation')).toThrow(/^ttlMs must be/);
  });

  it("error 'validation' throws ValidationError instead (call arguments, coordination's options)", () => {
    expect(() => positiveIntOption(0, 7, 'limit', 'validation')).toThrow(ValidationError);
    expect(() => positiveIntOption(0, 7, 'limit', 'validation')).not.toThrow(ConfigError);
    expect(() => nonNegativeOption(-1, 0, 'w', 'validation')).toThrow(ValidationError);
    expect(() => requireInt(0, 'x', { error: 'validation' })).toThrow(ValidationError);
  });

  it('requireInt and intOption hold min and max, and say the bounds', () => {
    expect(requireInt(0, 'n', { min: 0 })).toBe(0);
    expect(requireInt(1024, 'r', { min: 1, max: 1024 })).toBe(1024);
    expect(() => requireInt(1025, 'r', { min: 1, max: 1024 })).toThrow(/r must be an integer in \[1, 1024\], got 1025/);
    expect(() => requireInt(3, 'n', { min: 4 })).toThrow(/n must be an integer >= 4, got 3/);
    expect(intOption(undefined, 9, 'n', { min: 4 })).toBe(9);
    expect(() => intOption(3, 9, 'n', { min: 4 })).toThrow(ConfigError);
    for (const bad of NOT_INTS) expect(() => requireInt(bad, 'n', { min: 0 })).toThrow(ConfigError);
  });

  it('nonNegativeIntOption takes 0; nonNegativeOption takes finite fractions but not -0.1, NaN or Infinity', () => {
    expect(nonNegativeIntOption(0, 5, 'retries')).toBe(0);
    expect(nonNegativeIntOption(undefined, 5, 'retries')).toBe(5);
    expect(() => nonNegativeIntOption(-1, 5, 'retries')).toThrow(ConfigError);
    expect(() => nonNegativeIntOption(0.5, 5, 'retries')).toThrow(ConfigError);
    expect(nonNegativeOption(0.5, 1, 'ms')).toBe(0.5);
    expect(nonNegativeOption(undefined, 1, 'ms')).toBe(1);
    for (const bad of [-0.1, Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      expect(() => nonNegativeOption(bad, 1, 'ms')).toThrow(
        expect.objectContaining({ key: 'ms', message: expect.stringContaining('ms must be a finite number >= 0') }),
      );
    }
  });
});
