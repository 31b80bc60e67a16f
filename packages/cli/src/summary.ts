/** The outcome of a `converge run`, printed as a table or (with `--json`) as one JSON object. */
export interface RunSummary {
  tasks: number;
  completed: number;
  failed: number;
  duration_ms: number;
  tasks_per_s: number;
  messages_per_s: number;
  latency_ms: { p50: number; p99: number };
  rejected_messages: number;
  /** Tasks won by auction. */
  auctioned: number;
  /** Completed tasks whose result was wrong (must be 0). */
  wrong_results: number;
  /** Tasks neither completed nor failed when the run ended. */
  lost: number;
  agents: number;
  transport: string;
  store: string;
  interrupted: boolean;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The summary as an aligned two-column table. */
export function summaryTable(s: RunSummary): string {
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '-');
  const rows: [string, string][] = [
    ['agents', `${s.agents} workers + 1 coordinator`],
    ['transport / store', `${s.transport} / ${s.store}`],
    ['tasks', fmt(s.tasks)],
    ['completed', fmt(s.completed)],
    ['failed (dead-lettered)', fmt(s.failed)],
    ['lost', fmt(s.lost)],
    ['won by auction', fmt(s.auctioned)],
    ['wrong results', fmt(s.wrong_results)],
    ['duration', `${fmt(s.duration_ms)} ms`],
    ['tasks/s', fmt(s.tasks_per_s, 1)],
    ['messages/s', fmt(s.messages_per_s, 1)],
    ['latency p50 / p99', `${fmt(s.latency_ms.p50, 2)} / ${fmt(s.latency_ms.p99, 2)} ms`],
    ['rejected messages', fmt(s.rejected_messages)],
  ];
  if (s.interrupted) rows.push(['interrupted', 'yes']);
  const w = Math.max(...rows.map(([k]) => k.length));
  return ['', 'converge run: summary', ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), ''].join('\n');
}
