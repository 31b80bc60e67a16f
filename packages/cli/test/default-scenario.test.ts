// Which workload `converge run` runs (issue 17: market is the default): `market` without
// --scenario, `sum` (the classic workload) when a sum-only option or a distributed role is
// given, `--scenario sum` explicitly; a scenario other than sum refuses the sum-only options.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@converge/core';
import { resolveConfig } from '../src/config.js';
import { SUM_ONLY_SETTINGS, defaultScenario } from '../src/scenarios/names.js';
import { RUN_OPTIONS } from '../src/options.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'converge-default-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid value for each sum-only setting, as a flag argument. */
const VALUE: Record<(typeof SUM_ONLY_SETTINGS)[number], string> = {
  agent: './test/fixtures/double-agent.mjs',
  record: join(dir, 'r.ndjson'),
  a2a: '0',
  duration: '1',
  window: '8',
  otlp: 'http://127.0.0.1:4318',
  assignment: 'claim',
};
const flagOf = (key: string) => `--${RUN_OPTIONS.find((s) => s.key === key)!.flag}`;
const distributed = ['--store', 'file:/tmp/x', '--transport', 'tcp'];

async function scenarioOf(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return (await resolveConfig(argv, env)).config.scenario;
}

describe('the default of --scenario', () => {
  it('is market for a plain run and for options every scenario honours', async () => {
    expect(await scenarioOf([])).toBe('market');
    expect(await scenarioOf(['-t', '40', '-n', '4', '--json', '--transport', 'tcp', '--metrics-port', '0', '--role', 'all'])).toBe('market');
    expect(defaultScenario({})).toBe('market');
  });

  it.each(SUM_ONLY_SETTINGS.map((k) => [k]))('is sum when %s is given, as a flag, a variable or a file key', async (key) => {
    expect(await scenarioOf([flagOf(key), VALUE[key]])).toBe('sum');
    expect(await scenarioOf([], { [`CONVERGE_${flagOf(key).slice(2).replace(/-/g, '_').toUpperCase()}`]: VALUE[key] })).toBe('sum');
    const file = join(dir, `${key}.yaml`);
    writeFileSync(file, `${key}: ${JSON.stringify(key === 'a2a' || key === 'duration' || key === 'window' ? Number(VALUE[key]) : VALUE[key])}\n`);
    expect(await scenarioOf(['-c', file])).toBe('sum');
  });

  it('is sum for --role coordinator and --role worker, which accept --scenario sum and refuse the others', async () => {
    expect(await scenarioOf(['--role', 'coordinator', ...distributed])).toBe('sum');
    expect(await scenarioOf(['--role', 'worker', ...distributed])).toBe('sum');
    expect(await scenarioOf(['--role', 'worker', '--scenario', 'sum', ...distributed])).toBe('sum');
    await expect(scenarioOf(['--role', 'worker', '--scenario', 'market', ...distributed])).rejects.toThrow(/--scenario is only for --role all/);
  });

  it('gives way to --scenario, CONVERGE_SCENARIO and the file key', async () => {
    expect(await scenarioOf(['--scenario', 'sum'])).toBe('sum');
    expect(await scenarioOf(['--scenario', 'chaos'])).toBe('chaos');
    expect(await scenarioOf([], { CONVERGE_SCENARIO: 'sum' })).toBe('sum');
    const file = join(dir, 'scenario.toml');
    writeFileSync(file, 'scenario = "vote"\n');
    expect(await scenarioOf(['-c', file])).toBe('vote');
    expect(await scenarioOf(['-c', file, '--scenario', 'sum', '--record', VALUE.record])).toBe('sum');
  });

  it.each(SUM_ONLY_SETTINGS.map((k) => [k]))('a scenario other than sum refuses %s, naming it as given', async (key) => {
    const err = await resolveConfig(['--scenario', 'market', flagOf(key), VALUE[key]], {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(key);
    expect((err as Error).message).toContain(`${flagOf(key)} works on the sum workload only: --scenario market`);
    expect((err as Error).message).toContain('use --scenario sum');
    // The same setting from the environment is named as the variable.
    const env = `CONVERGE_${flagOf(key).slice(2).replace(/-/g, '_').toUpperCase()}`;
    await expect(resolveConfig(['--scenario', 'negotiation'], { [env]: VALUE[key] })).rejects.toThrow(`${env} works on the sum workload only`);
  });
});

describe('converge run without --scenario (subprocess)', () => {
  it('runs market: -t 40 -n 4 --json has the scenario, per-agent rows and auctions', async () => {
    const r = await runCli(['run', '-t', '40', '-n', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s).toMatchObject({ scenario: 'market', tasks: 40, completed: 40, lost: 0, wrong_results: 0, checks_passed: true });
    const workers = (s.per_agent as { role: string; tasks_done: number; auctions_won: number }[]).filter((a) => a.role !== 'coordinator');
    expect(workers).toHaveLength(4);
    expect(workers.reduce((n, a) => n + a.tasks_done, 0)).toBe(40);
    const auctions = s.details.auctions as Record<string, { opened: number; cleared: number }>;
    expect(Object.values(auctions).reduce((n, a) => n + a.opened, 0)).toBe(40);
    expect(s.auctioned).toBeGreaterThan(0);
    expect(workers.reduce((n, a) => n + a.auctions_won, 0)).toBe(s.auctioned);
  });

  it('--record FILE still records the sum workload', async () => {
    const file = join(dir, 'sum.ndjson');
    const r = await runCli(['run', '-t', '20', '-n', '2', '--json', '--no-progress', '--record', file]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s).toMatchObject({ tasks: 20, completed: 20, auctioned: 2, role: 'all' }); // mixed: every 10th auctioned
    expect(s.scenario).toBeUndefined();
    expect(s.per_agent).toBeUndefined();
    // Every task's submission and report is in the record (how many lines that takes depends
    // on how the agents' turns batch their inputs, so the line count is not checked).
    const decided = new Map<string, Set<string>>();
    for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
      const entry = JSON.parse(line) as { decisions?: { type: string; task?: { id: string }; taskId?: string }[] };
      for (const d of entry.decisions ?? []) {
        const id = d.task?.id ?? d.taskId;
        if (id !== undefined) decided.set(d.type, (decided.get(d.type) ?? new Set()).add(id));
      }
    }
    expect(decided.get('SubmitTask')?.size).toBe(20);
    expect(decided.get('ReportTask')).toEqual(decided.get('SubmitTask'));
    expect(existsSync(`${file}.agents.json`)).toBe(true);
  });

  it('--scenario market --record FILE is refused with exit 2, and nothing is written', async () => {
    const file = join(dir, 'market.ndjson');
    const r = await runCli(['run', '--scenario', 'market', '--record', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'converge: --record works on the sum workload only: --scenario market cannot be recorded for replay (drop --record, or use --scenario sum)',
    );
    expect(r.stdout).toBe('');
    expect(existsSync(file)).toBe(false);
  });

  it('--help says which workload runs', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Which workload runs');
    expect(r.stdout).toMatch(/ sum {10}the classic workload/);
    for (const key of SUM_ONLY_SETTINGS) expect(r.stdout).toContain(flagOf(key));
  });
});
