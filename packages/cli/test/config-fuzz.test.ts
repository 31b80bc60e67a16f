// Property-based tests of `converge run` configuration: arbitrary YAML/TOML files, flags and
// CONVERGE_* values either resolve to a config the schema accepts or throw ConfigError; never
// another exception. Runs: CONVERGE_FUZZ_RUNS (default 300; file cases a third of that).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '@converge/core';
import { RunConfigSchema, readConfigFile, resolveConfig } from '../src/config.js';
import { RUN_OPTIONS, envName } from '../src/options.js';

const RUNS = Number(process.env.CONVERGE_FUZZ_RUNS ?? 300);
const FILE_RUNS = Math.max(20, Math.round(RUNS / 3));
const dir = mkdtempSync(join(tmpdir(), 'converge-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    const r = await p;
    return r;
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBeTypeOf('string');
    return undefined;
  }
}

const keys = [...RUN_OPTIONS.map((s) => s.key), ...RUN_OPTIONS.map((s) => s.flag), 'unknown', '__proto__', 'constructor'];
const value = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 12 }),
  fc.constant(null),
  fc.constantFrom('local', 'tcp', 'ws', 'nats://x', 'memory', 'file:/tmp/x', 'claim', 'auction', 'mixed', 'warn', '127.0.0.1'),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const settings = fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 });

function yamlScalar(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}
function tomlValue(v: unknown): string {
  if (v === null) return '""';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if (typeof v === 'object')
    return `{ ${Object.entries(v as object)
      .map(([k, x]) => `${JSON.stringify(k)} = ${x}`)
      .join(', ')} }`;
  return JSON.stringify(v);
}

describe('converge run configuration (property-based)', () => {
  it('YAML/TOML files: structured settings resolve or throw ConfigError', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(settings, fc.constantFrom('.yaml', '.yml', '.toml'), async (s, ext) => {
        const path = join(dir, `c${n++}${ext}`);
        const text =
          ext === '.toml'
            ? Object.entries(s)
                .map(([k, v]) => `${JSON.stringify(k)} = ${tomlValue(v)}`)
                .join('\n')
            : Object.entries(s)
                .map(([k, v]) => `${JSON.stringify(k)}: ${yamlScalar(v)}`)
                .join('\n');
        writeFileSync(path, text);
        await outcome(readConfigFile(path));
        const r = await outcome(resolveConfig(['--config', path], {}));
        if (r !== undefined) expect(RunConfigSchema.safeParse((r as { config: unknown }).config).success).toBe(true);
      }),
      { numRuns: FILE_RUNS },
    );
  });

  it('YAML/TOML files: arbitrary text (anchors, aliases, tags, junk) resolves or throws ConfigError', async () => {
    let n = 0;
    const junk = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({
        unit: fc.constantFrom('a', ':', ' ', '\n', '-', '&x', '*x', '!!str', '[', ']', '{', '}', '=', '"', '#', 'agents', '1', '<<'),
        maxLength: 60,
      }),
    );
    await fc.assert(
      fc.asyncProperty(junk, fc.constantFrom('.yaml', '.toml', '.conf'), async (text, ext) => {
        const path = join(dir, `j${n++}${ext}`);
        writeFileSync(path, text);
        await outcome(readConfigFile(path));
      }),
      { numRuns: FILE_RUNS },
    );
    await expect(readConfigFile(join(dir, 'missing.yaml'))).rejects.toBeInstanceOf(ConfigError);
  });

  it('flags and CONVERGE_* variables: arbitrary values resolve or throw ConfigError', async () => {
    const flagName = fc.oneof(
      fc.constantFrom(...RUN_OPTIONS.map((s) => `--${s.flag}`), ...RUN_OPTIONS.map((s) => `--no-${s.flag}`), '-n', '-t', '-v', '-x', '--', '--bogus'),
      fc.string({ maxLength: 6 }),
    );
    const text = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('0', '-1', '1e400', '0x10', ' 7 ', 'NaN', 'true', 'off', '512', '513', 'tcp', 'nats://h'),
    );
    const argv = fc.array(fc.oneof(flagName, text), { maxLength: 8 });
    const env = fc.dictionary(fc.constantFrom(...RUN_OPTIONS.filter((s) => s.key !== 'config').map(envName)), text, { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(argv, env, async (a, e) => {
        const r = await outcome(resolveConfig(a, e));
        if (r !== undefined) expect(RunConfigSchema.safeParse((r as { config: unknown }).config).success).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
