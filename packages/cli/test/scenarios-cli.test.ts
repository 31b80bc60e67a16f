// `converge run --scenario` as a subprocess: the table and the exit code, `-v` decision lines
// (JSON lines when stderr is not a terminal), `--help` documenting every scenario.
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { SCENARIO_NAMES } from '../src/scenarios/names.js';

/** The JSON lines of a stderr stream (other lines, e.g. progress, are skipped). */
function jsonLines(stderr: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return out;
}

describe('converge run --scenario (subprocess)', () => {
  it('prints the per-agent table, totals and checks, and exits 0 when the checks hold', async () => {
    const r = await runCli(['run', '--scenario', 'negotiation', '-t', '8', '-n', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('scenario negotiation: per agent');
    expect(r.stdout).toMatch(/worker-1\s+worker asks 50/);
    expect(r.stdout).toMatch(/retries \d+, lease expiries \d+, dead letters \d+, conflicts \d+/);
    expect(r.stdout).toMatch(/agreements: [1-9]/);
    expect(r.stdout).toContain('checks: all passed');
  });

  it('-v logs decisions, their outcomes and task state changes as JSON lines when stderr is not a TTY', async () => {
    const r = await runCli(['run', '--scenario', 'vote', '-t', '6', '-n', '3', '-v', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stderr);
    const msgs = new Set(lines.map((l) => l.msg));
    // The scenario's decisions (info)…
    expect(msgs).toContain('decision: pool question decided');
    expect(msgs).toContain('decision: ballot closed');
    // …each executed decision's outcome (debug), with its type and status…
    const outcomes = lines.filter((l) => l.msg === 'decision outcome');
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.map((l) => l.decisionType)).toEqual(expect.arrayContaining(['Vote', 'ClaimTask', 'ReportTask', 'SubmitTask']));
    expect(outcomes.every((l) => typeof l.status === 'string')).toBe(true);
    // …and the task state changes (debug).
    const states = new Set(lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('task ')).map((l) => l.state));
    for (const s of ['submitted', 'claimed', 'completed']) expect(states).toContain(s);
    // stdout stays one JSON object.
    const summary = JSON.parse(r.stdout.trim()) as { scenario: string; checks_passed: boolean };
    expect(summary).toMatchObject({ scenario: 'vote', checks_passed: true });
  });

  it('without -v logs no decision lines', async () => {
    const r = await runCli(['run', '--scenario', 'vote', '-t', '6', '-n', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stderr).filter((l) => l.msg === 'decision outcome' || String(l.msg).startsWith('decision:'))).toEqual([]);
  });

  it('--help documents every scenario', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--scenario NAME');
    expect(r.stdout).toContain('Scenarios (--scenario NAME');
    for (const name of SCENARIO_NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
  });

  it('an unknown scenario exits 2 naming the known ones', async () => {
    const r = await runCli(['run', '--scenario', 'marquet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--scenario must be one of market, negotiation, vote, delegation, llm, chaos, sum/);
  });
});
