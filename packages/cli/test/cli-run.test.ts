// The CLI end to end, as a subprocess: defaults, scale, transports, config sources, invalid
// config, SIGTERM mid-run, restart on a file store, a user's agent module.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'converge-cli-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function summaryOf(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('converge run', () => {
  it('runs the sum workload on its defaults (--scenario sum) and prints a summary', async () => {
    const r = await runCli(['run', '--scenario', 'sum']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('converge run: summary');
    expect(r.stdout).toMatch(/completed\s+200\b/);
    expect(r.stdout).toMatch(/lost\s+0\b/);
    expect(r.stdout).toMatch(/won by auction\s+20\b/);
  });

  it('completes 5,000 tasks with 8 agents and prints the summary as JSON', async () => {
    const r = await runCli(['run', '--scenario', 'sum', '--agents', '8', '--tasks', '5000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s).toMatchObject({ tasks: 5000, completed: 5000, failed: 0, lost: 0, wrong_results: 0, rejected_messages: 0, agents: 8 });
    for (const k of ['duration_ms', 'tasks_per_s', 'messages_per_s']) expect(s[k]).toBeGreaterThan(0);
    expect(s.latency_ms.p99).toBeGreaterThanOrEqual(s.latency_ms.p50);
  });

  it.each(['tcp', 'ws'])('puts each agent on its own real socket with --transport %s', async (transport) => {
    const r = await runCli(['run', '--scenario', 'sum', '--transport', transport, '--tasks', '300', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ transport, completed: 300, lost: 0, rejected_messages: 0 });
    expect(summaryOf(r.stdout).auctioned).toBe(30);
  });

  it('takes settings from a YAML file, CONVERGE_* variables and flags, in that order of precedence', async () => {
    const dir = tempDir();
    const file = join(dir, 'converge.yaml');
    writeFileSync(file, 'agents: 2\ntasks: 50\nassignment: claim\n');
    // file alone
    let s = summaryOf((await runCli(['run', '-c', file, '--json'])).stdout);
    expect(s).toMatchObject({ agents: 2, tasks: 50, auctioned: 0 });
    // env beats file
    s = summaryOf((await runCli(['run', '-c', file, '--json'], { env: { CONVERGE_TASKS: '70' } })).stdout);
    expect(s).toMatchObject({ agents: 2, tasks: 70 });
    // flags beat env
    s = summaryOf((await runCli(['run', '-c', file, '--tasks', '90', '--json'], { env: { CONVERGE_TASKS: '70', CONVERGE_AGENTS: '3' } })).stdout);
    expect(s).toMatchObject({ agents: 3, tasks: 90, completed: 90 });
  });

  it('reads TOML config files', async () => {
    const file = join(tempDir(), 'converge.toml');
    writeFileSync(file, 'agents = 2\ntasks = 40\nassignment = "auction"\n');
    const s = summaryOf((await runCli(['run', '--config', file, '--json'])).stdout);
    expect(s).toMatchObject({ agents: 2, tasks: 40, completed: 40, auctioned: 40 });
  });

  it.each([
    [['run', '--agents', 'many'], /--agents: expected an integer/],
    [['run', '--agents', '0'], /agents/],
    [['run', '--transport', 'carrier-pigeon'], /transport/],
    [['run', '--bogus'], /bogus/],
  ])('exits 2 naming the key for invalid config %j', async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('exits 2 naming the key for an invalid value in a config file or the environment', async () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'agents: lots\n');
    const r1 = await runCli(['run', '-c', file]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/agents/);
    writeFileSync(file, 'agents: !!foo 3\n');
    const r3 = await runCli(['run', '-c', file]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/not valid YAML: Unresolved tag/);
    const r2 = await runCli(['run'], { env: { CONVERGE_CLAIM_TTL_MS: 'soon' } });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/CONVERGE_CLAIM_TTL_MS/);
  });

  it('documents every option in --help', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--agents',
      '--tasks',
      '--transport',
      '--store',
      '--pool-id',
      '--discovery-store',
      '--agent',
      '--duration',
      '--json',
      'CONVERGE_AGENTS',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('stops gracefully on SIGTERM mid-run and still prints the summary', async () => {
    let sent = false;
    const r = await runCli(['run', '--duration', '0', '--json'], {
      onStderr: (text, child) => {
        if (!sent && /progress: [1-9]/.test(text)) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.stderr).toContain('SIGTERM received, stopping gracefully');
    const s = summaryOf(r.stdout);
    expect(s.interrupted).toBe(true);
    expect(s.completed).toBeGreaterThan(0);
    expect(s.wrong_results).toBe(0);
    expect(r.code).toBe(0); // with --duration a signal is the normal end
  });

  it('resumes on a file store after the process is killed midway', async () => {
    const dir = tempDir();
    let killed = false;
    const args = ['run', '--store', `file:${dir}`, '--tasks', '300', '--json', '--assignment', 'claim', '--claim-ttl-ms', '1000'];
    const first = await runCli(args, {
      onStderr: (text, child) => {
        if (!killed && /progress: [1-9]\d*\/300/.test(text)) {
          killed = true;
          child.kill('SIGKILL'); // a crash: no graceful stop, claims left held
        }
      },
    });
    expect(killed).toBe(true);
    expect(first.signal).toBe('SIGKILL');
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    // What the first run completed is still completed; the rest (including the tasks the dead
    // process held, once their leases expired) was finished, nothing lost, nothing wrong.
    expect(summaryOf(second.stdout)).toMatchObject({ tasks: 300, completed: 300, lost: 0, failed: 0, wrong_results: 0 });
  });

  it("loads a user's Agent subclass with --agent", async () => {
    const countFile = join(tempDir(), 'count');
    writeFileSync(countFile, '');
    const r = await runCli(['run', '--agent', './test/fixtures/double-agent.mjs', '--tasks', '60', '--json'], { env: { COUNT_FILE: countFile } });
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ completed: 60 });
    expect(readFileSync(countFile, 'utf8').length).toBeGreaterThanOrEqual(60);
  });
});
