/** The outcome of a `converge run`, printed as a table or (with `--json`) as one JSON object. */
export interface RunSummary {
  tasks: number;
  completed: number;
  failed: number;
  duration_ms: number;
  tasks_per_s: number;
  messages_per_s: number;
  /** Submit-to-completion latency percentiles (nearest rank) and the largest, ms. */
  latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number };
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
  /** Which part of the workload this process ran (`--role`). */
  role?: 'all' | 'coordinator';
}

/** The outcome of a `converge run --role worker` process. */
export interface WorkerSummary {
  role: 'worker';
  /** Worker agents this process ran. */
  agents: number;
  /** Their ids (fingerprints), so outcomes in the store can be traced to this process. */
  agent_ids: string[];
  /** Tasks this process's agents completed (reports the store accepted). */
  completed: number;
  /** Claims this process's agents won. */
  claims: number;
  /** Claims or reports refused because another agent (or a newer lease) held the task. */
  conflicts: number;
  /** Id of the coordinator this process worked for. */
  coordinator: string;
  duration_ms: number;
  tasks_per_s: number;
  rejected_messages: number;
  transport: string;
  store: string;
  /** What ended the process: the coordinator's done signal, or a signal. */
  stopped_by: 'coordinator' | 'signal' | 'timeout';
}

/** What a task ended as, from the coordinator's point of view. */
export type TaskOutcome = 'completed' | 'failed' | 'wrong';

/** The measurements a coordinator gathered, from which `buildSummary` derives the rest. */
export interface RunMeasurements {
  /** Tasks the run accounts for (planned, or submitted and found when interrupted). */
  planned: number;
  outcomes: Iterable<TaskOutcome>;
  /** Submit-to-completion latencies, ms (any order). */
  latencies: number[];
  durationMs: number;
  messagesReceived: number;
  rejectedMessages: number;
  auctioned: number;
  agents: number;
  transport: string;
  store: string;
  interrupted: boolean;
  role: 'all' | 'coordinator';
}

/** Tallies the outcomes and derives rates, percentiles and losses. */
export function buildSummary(m: RunMeasurements): RunSummary {
  let completed = 0;
  let failed = 0;
  let wrong = 0;
  for (const v of m.outcomes) {
    if (v === 'completed') completed++;
    else if (v === 'failed') failed++;
    else wrong++;
  }
  const latencies = [...m.latencies].sort((a, b) => a - b);
  const seconds = Math.max(0.001, m.durationMs / 1000);
  return {
    tasks: m.planned,
    completed,
    failed,
    duration_ms: m.durationMs,
    tasks_per_s: Number(((completed + wrong) / seconds).toFixed(1)),
    messages_per_s: Number((m.messagesReceived / seconds).toFixed(1)),
    latency_ms: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      p999: percentile(latencies, 99.9),
      max: latencies.length > 0 ? latencies[latencies.length - 1]! : Number.NaN,
    },
    rejected_messages: m.rejectedMessages,
    auctioned: m.auctioned,
    wrong_results: wrong,
    lost: Math.max(0, m.planned - completed - failed - wrong),
    agents: m.agents,
    transport: m.transport,
    store: m.store,
    interrupted: m.interrupted,
    role: m.role,
  };
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
    ['latency p50 / p90 / p99', `${fmt(s.latency_ms.p50, 2)} / ${fmt(s.latency_ms.p90, 2)} / ${fmt(s.latency_ms.p99, 2)} ms`],
    ['latency p99.9 / max', `${fmt(s.latency_ms.p999, 2)} / ${fmt(s.latency_ms.max, 2)} ms`],
    ['rejected messages', fmt(s.rejected_messages)],
  ];
  if (s.role === 'coordinator') rows[0] = ['agents', `${s.agents} workers (in other processes) + 1 coordinator`];
  if (s.interrupted) rows.push(['interrupted', 'yes']);
  const w = Math.max(...rows.map(([k]) => k.length));
  return ['', 'converge run: summary', ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), ''].join('\n');
}

/** A worker process's summary as an aligned two-column table. */
export function workerSummaryTable(s: WorkerSummary): string {
  const rows: [string, string][] = [
    ['role', `worker (${s.agents} agents)`],
    ['coordinator', s.coordinator.slice(0, 16)],
    ['transport / store', `${s.transport} / ${s.store}`],
    ['completed here', s.completed.toLocaleString('en-US')],
    ['claims / conflicts', `${s.claims} / ${s.conflicts}`],
    ['duration', `${s.duration_ms.toLocaleString('en-US')} ms`],
    ['tasks/s', s.tasks_per_s.toLocaleString('en-US', { maximumFractionDigits: 1 })],
    ['rejected messages', String(s.rejected_messages)],
    ['stopped by', s.stopped_by],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return ['', 'converge run: summary', ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), ''].join('\n');
}
