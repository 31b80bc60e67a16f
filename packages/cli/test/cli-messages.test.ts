// What `converge run` says about bad input, as a subprocess: the CLI's own words (not
// parseArgs' or zod's), the closest flag for a typo, the file and key of a bad file value,
// the boolean words of the docs; and `--help` agrees with the table in docs/getting-started.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helpText, resolveConfig } from '../src/config.js';
import { RUN_OPTIONS, envName } from '../src/options.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'converge-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `converge run <args>` and expects exit code 2; returns stderr. */
async function refused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await runCli(['run', ...args], { env });
  expect(r.code, r.stderr).toBe(2);
  return r.stderr;
}

describe('converge run: messages for bad input', () => {
  it('an unknown flag suggests the closest one and points to --help', async () => {
    const err = await refused(['--agnets', '3']);
    expect(err).toContain('unknown option --agnets (did you mean --agents?)');
    expect(err).toContain('converge run --help');
  });

  it('a value out of range is said in the CLI words, naming the flag and the value', async () => {
    const err = await refused(['--agents', '0']);
    expect(err).toContain('--agents must be at least 1 (got 0)');
    expect(err).not.toMatch(/Too small|expected number to be/);
  });

  it('-t -5 is read as a value and refused for what it is', async () => {
    expect(await refused(['-t', '-5'])).toContain('--tasks must be at least 0 (got -5)');
  });

  it('a bad value from a config file names the file and the key', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'agents: 600\n');
    expect(await refused(['-c', file])).toContain(`${file}: agents must be at most 512 (got 600)`);
  });

  it('a bad value from the environment names the variable', async () => {
    expect(await refused([], { CONVERGE_ASSIGNMENT: 'fifo' })).toContain('CONVERGE_ASSIGNMENT must be one of claim, auction, mixed (got "fifo")');
  });
});

describe('boolean settings accept the documented words', () => {
  it('1/yes/on and 0/no/off in CONVERGE_* variables and in files; anything else is refused', async () => {
    for (const [text, want] of [
      ['1', true],
      ['yes', true],
      ['ON', true],
      ['true', true],
      ['0', false],
      ['no', false],
      ['off', false],
      ['False', false],
    ] as const) {
      expect((await resolveConfig([], { CONVERGE_JSON: text })).config.json, text).toBe(want);
      const file = join(dir, `b-${text}.yaml`);
      writeFileSync(file, `json: "${text}"\n`);
      expect((await resolveConfig(['-c', file], {})).config.json, `file ${text}`).toBe(want);
    }
    await expect(resolveConfig([], { CONVERGE_JSON: 'maybe' })).rejects.toThrow('CONVERGE_JSON: expected true or false, got "maybe"');
  });
});

describe('--help and docs/getting-started.md', () => {
  const docs = readFileSync(new URL('../../../docs/getting-started.md', import.meta.url), 'utf8');
  const rows = docs.split('\n').filter((l) => l.startsWith('| `-'));
  const help = helpText();

  it('list the same options, defaults, ranges and choices', () => {
    expect(rows).toHaveLength(RUN_OPTIONS.length);
    for (const s of RUN_OPTIONS) {
      const row = rows.find((r) => new RegExp(`--${s.flag}(?![\\w-])`).test(r.split('|')[1]!));
      expect(row, `docs row for --${s.flag}`).toBeDefined();
      const [, , variable, def, meaning] = row!.split('|').map((c) => c.trim().replace(/`/g, ''));
      expect(variable).toBe(envName(s));
      expect(help).toContain(`env ${envName(s)}`);
      if (s.defaultText) {
        expect(def, `default of --${s.flag}`).toBe(s.defaultText);
        expect(help).toContain(`(default ${s.defaultText})`);
      }
      // Every "(a … b)" range of the docs is in --help, and the other way round.
      const docRange = /\((\d[\d,]* … [\d,]+)\)/.exec(meaning!)?.[1];
      expect(docRange, `range of --${s.flag}`).toBe(s.range);
      if (s.range) expect(help).toContain(`(${s.range})`);
      // A plain list of choices in --help ("trace | debug | …") is the list in the docs.
      if (/^[\w-]+( \| [\w-]+)+$/.test(s.help)) for (const choice of s.help.split(' | ')) expect(meaning, `--${s.flag} ${choice}`).toContain(choice);
    }
    expect(help).toContain('fatal');
  });
});
