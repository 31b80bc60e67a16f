import { summaryTable } from '../summary.js';
import type { ScenarioSummary } from './run-scenario.js';

const fmtMap = (m: Record<string, number>): string => {
  const parts = Object.entries(m)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : '-';
};

/** Plain text for one scenario detail value (a number, a flat map, or JSON). */
function detailText(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

/**
 * A scenario's summary as text: the run summary's table, then one line per agent (tasks done,
 * auctions won, clearing prices, trust, rejections), the totals, the scenario's own figures
 * and its checks.
 */
export function scenarioTable(s: ScenarioSummary): string {
  const lines = [summaryTable(s).trimEnd(), '', `scenario ${s.scenario}: per agent`];
  const header = ['agent', 'role', 'done', 'won', 'prices', 'trust', 'rejected'];
  const rows = s.per_agent.map((a) => {
    const prices = a.clearing_prices.length ? `${Math.min(...a.clearing_prices)}…${Math.max(...a.clearing_prices)}` : '-';
    return [a.name, a.role, String(a.tasks_done), String(a.auctions_won), prices, a.trust.toFixed(2), fmtMap(a.rejected_messages)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows])
    lines.push(
      '  ' +
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
    );
  const t = s.totals;
  lines.push(
    '',
    'totals',
    `  retries ${t.retries}, lease expiries ${t.lease_expiries}, dead letters ${t.dead_letters}, conflicts ${t.conflicts}`,
    `  rejected messages by reason: ${fmtMap(t.rejected_by_reason)}`,
    `  outcomes by status: ${fmtMap(t.outcomes_by_status)}`,
    `  tasks by state: ${fmtMap(t.tasks_by_state)}`,
  );
  const details = Object.entries(s.details);
  if (details.length) {
    lines.push('', `scenario ${s.scenario}`);
    for (const [k, v] of details) lines.push(`  ${k}: ${detailText(v)}`);
  }
  lines.push('', `checks: ${s.checks_passed ? 'all passed' : 'FAILED'}`);
  for (const [k, ok] of Object.entries(s.checks)) lines.push(`  ${ok ? 'ok  ' : 'FAIL'} ${k}`);
  lines.push('');
  return lines.join('\n');
}
