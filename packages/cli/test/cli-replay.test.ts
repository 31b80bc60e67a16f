// `converge run --record FILE` then `converge replay FILE`: a faithful recording replays with
// no difference (exit 0); a tampered decision or output is reported with a diff (exit 1).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'converge-replay-'));
const file = join(dir, 'run.ndjson');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  kind: string;
  agentId?: string;
  decisions?: { type: string; result?: unknown; payload?: unknown; taskId?: string }[];
}

/** A copy of the recording (and its sidecar) with `edit` applied to the first line it changes. */
function tampered(name: string, edit: (e: Line) => boolean): string {
  const out = join(dir, name);
  copyFileSync(`${file}.agents.json`, `${out}.agents.json`);
  const lines = readFileSync(file, 'utf8').split('\n');
  let done = false;
  const changed = lines.map((l) => {
    if (done || l.trim() === '') return l;
    const e = JSON.parse(l) as Line;
    if (!edit(e)) return l;
    done = true;
    return JSON.stringify(e);
  });
  expect(done, `no line to tamper for ${name}`).toBe(true);
  writeFileSync(out, changed.join('\n'));
  return out;
}

beforeAll(async () => {
  // Auctions (seeded random bids), claims and reports over TCP: every kind of decision.
  const r = await runCli(['run', '--tasks', '30', '--agents', '2', '--transport', 'tcp', '--assignment', 'mixed', '--json', '--record', file], {
    timeoutMs: 60_000,
  });
  expect(r.code, r.stderr).toBe(0);
}, 90_000);

describe('converge run --record / converge replay', () => {
  it('a recording replays with no difference (exit 0)', async () => {
    const setup = JSON.parse(readFileSync(`${file}.agents.json`, 'utf8')) as { agents: { role: string; publicKey: string }[] };
    expect(setup.agents.map((a) => a.role)).toEqual(['coordinator', 'worker', 'worker']);
    expect(readFileSync(`${file}.agents.json`, 'utf8')).not.toMatch(/secret/i);
    const r = await runCli(['replay', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 agents, \d+ decide steps, 0 differing/);
  });

  it('a tampered task output is a difference: exit 1 and a diff naming the decision', async () => {
    let original: unknown;
    const bad = tampered('output.ndjson', (e) => {
      const report = e.decisions?.find((d) => d.type === 'ReportTask');
      if (!report) return false;
      original = report.result;
      report.result = (report.result as number) + 1;
      return true;
    });
    const r = await runCli(['replay', bad]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('1 differing');
    expect(r.stdout).toContain(`- {"type":"ReportTask"`);
    expect(r.stdout).toContain(`"result":${(original as number) + 1}}`);
    expect(r.stdout).toContain(`+ {"type":"ReportTask"`);
    expect(r.stdout).toContain(`"result":${original as number}}`);
  });

  it('a dropped decision of the coordinator is a difference too; --json carries it', async () => {
    const bad = tampered('decision.ndjson', (e) => {
      const i = e.decisions?.findIndex((d) => d.type === 'SubmitTask') ?? -1;
      if (i < 0) return false;
      e.decisions!.splice(i, 1);
      return true;
    });
    const r = await runCli(['replay', bad, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { differences: number; agents: { role: string; mismatches: unknown[] }[] };
    expect(report.differences).toBe(1);
    expect(report.agents.find((a) => a.role === 'coordinator')!.mismatches).toHaveLength(1);
  });

  it('a missing FILE or sidecar is bad input (exit 2)', async () => {
    const r = await runCli(['replay', join(dir, 'nope.ndjson')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('converge replay:');
  });
});
