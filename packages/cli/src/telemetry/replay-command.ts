import { parseArgs } from 'node:util';
import { ConfigError, Identity, hexToBytes, type Agent, type Decision } from '@converge/core';
import { ReplayLog, replay, toTagged, type ReplayMismatch } from '@converge/observability';
import { CoordinatorAgent } from '../workload/coordinator.js';
import { WorkerAgent } from '../workload/agents.js';
import { loadWorkerClass, planTasks } from '../workload/plan.js';
import { TurnEnv, readSetup, type RecordSetup } from './record.js';

/** Most replay entries held in memory by `converge replay` (1,000,000; beyond, the oldest are evicted and reported). */
export const REPLAY_MAX_ENTRIES = 1_000_000;
/** Most NDJSON bytes held in memory by `converge replay` (1 GiB). */
export const REPLAY_MAX_BYTES = 1024 * 1024 * 1024;
/** Differences printed in full by `converge replay` (the rest are counted). */
export const REPLAY_PRINTED_DIFFS = 20;

/** `converge replay --help`. */
export const REPLAY_HELP = `Usage: converge replay FILE [options]

Re-drives the agents recorded by 'converge run --record FILE': each agent is rebuilt (same id,
same seeded random source, the clock of each recorded turn) and given the recorded inputs of
each decide call (messages, tasks, outcomes); its decisions are compared with the recorded
ones. Exit 0 when every step decides the same, 1 with the differences, 2 on bad input.

Options:
  --agent MODULE   worker Agent class to replay instead of the recorded one (bisect a change)
  --json           print the report as one JSON object
  -h, --help       this help
`;

/** One agent's replay result. */
export interface AgentReplay {
  agentId: string;
  role: 'coordinator' | 'worker';
  steps: number;
  mismatches: ReplayMismatch[];
}

/** Rebuilds the recorded agents (`agentModule` overrides the recorded worker class). */
export async function rebuildAgents(setup: RecordSetup, agentModule?: string): Promise<{ agent: Agent; env: TurnEnv; role: 'coordinator' | 'worker' }[]> {
  const coordinator = setup.agents.find((a) => a.role === 'coordinator');
  const module = agentModule ?? setup.agentModule;
  const WorkerClass = module ? await loadWorkerClass(module) : undefined;
  const out: { agent: Agent; env: TurnEnv; role: 'coordinator' | 'worker' }[] = [];
  for (const rec of setup.agents) {
    const env = new TurnEnv(rec.seed, 0);
    const identity = Identity.fromPublicKey(hexToBytes(rec.publicKey));
    if (identity.fingerprint !== rec.id) throw new ConfigError(`recorded agent ${rec.id}: its public key does not match its id`, { key: 'record' });
    const gate = (at: number | null) => () => at !== null && env.now() >= at;
    let agent: Agent;
    if (rec.role === 'coordinator') {
      agent = new CoordinatorAgent({
        identity,
        poolId: setup.poolId,
        assignment: setup.assignment,
        workers: () => setup.workers,
        ready: gate(setup.readyAt),
        clock: env.now,
        plan: planTasks({
          poolId: setup.poolId,
          claimTtlMs: setup.claimTtlMs,
          total: setup.total,
          existing: new Set(setup.existing),
          now: env.now,
          stopped: gate(setup.stopAt),
        }),
      });
    } else {
      const options = { identity, coordinatorId: coordinator?.id, clock: env.now, random: env.random };
      agent = WorkerClass ? new WorkerClass(options) : new WorkerAgent(options);
    }
    out.push({ agent, env, role: rec.role });
  }
  return out;
}

/** Replays a recording; one result per recorded agent. */
export async function replayRecording(file: string, options: { agentModule?: string; signal?: AbortSignal } = {}): Promise<AgentReplay[]> {
  const setup = readSetup(file);
  const log = await ReplayLog.load(file, { maxEntries: REPLAY_MAX_ENTRIES, maxBytes: REPLAY_MAX_BYTES, ...(options.signal ? { signal: options.signal } : {}) });
  const results: AgentReplay[] = [];
  for (const { agent, env, role } of await rebuildAgents(setup, options.agentModule)) {
    const report = await replay(log, agent, { agentId: agent.id, beforeStep: (e) => env.setNow(e.at), ...(options.signal ? { signal: options.signal } : {}) });
    results.push({ agentId: agent.id, role, steps: report.steps, mismatches: report.mismatches });
  }
  if (log.evicted > 0) {
    results.push({
      agentId: '(log)',
      role: 'worker',
      steps: 0,
      mismatches: [{ step: 0, seq: 0, expected: [], actual: [], error: `${log.evicted} entries beyond the replay bounds were not replayed` }],
    });
  }
  return results;
}

const show = (d: Decision | undefined): string => (d === undefined ? '(none)' : JSON.stringify(toTagged(d as never)));

/** The differences of one step, decision by decision (`-` recorded, `+` replayed). */
export function diffStep(m: ReplayMismatch): string[] {
  if (m.error) return [`  ! ${m.error}`];
  const lines: string[] = [];
  const n = Math.max(m.expected.length, m.actual.length);
  for (let i = 0; i < n; i++) {
    const a = show(m.expected[i]);
    const b = show(m.actual[i]);
    if (a === b) continue;
    lines.push(`  decision ${i}:`, `  - ${a}`, `  + ${b}`);
  }
  return lines;
}

/** What `converge replay` writes to. */
type ReplayIO = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal };

/** `converge replay FILE`: prints the report; resolves to the exit code. */
export async function replayMain(argv: string[], io: ReplayIO): Promise<number> {
  const args = parseReplayArgs(argv, io);
  if (typeof args === 'number') return args;
  let results: AgentReplay[];
  try {
    results = await replayRecording(args.file, {
      ...(args.agent ? { agentModule: args.agent } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_CONFIG' || (err as Error).name === 'ReplayFormatError' || (err as { code?: string }).code === 'ENOENT') {
      io.stderr.write(`converge replay: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  io.stdout.write((args.json ? replayJson(args.file, results) : replayText(args.file, results)) + '\n');
  return results.some((r) => r.mismatches.length > 0) ? 1 : 0;
}

/** The arguments of `converge replay`, or the exit code when there is nothing to replay (help printed, or bad arguments). */
function parseReplayArgs(argv: string[], io: ReplayIO): { file: string; agent?: string; json?: boolean } | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { agent: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    io.stderr.write(`converge replay: ${(err as Error).message.split('\n')[0]}\n${REPLAY_HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(REPLAY_HELP);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    io.stderr.write(`converge replay: expected one FILE\n${REPLAY_HELP}`);
    return 2;
  }
  return { file, ...(parsed.values.agent ? { agent: parsed.values.agent } : {}), ...(parsed.values.json ? { json: true } : {}) };
}

/** Steps replayed and steps that decided differently, over every agent. */
function replayCounts(results: readonly AgentReplay[]): { steps: number; differing: number } {
  return { steps: results.reduce((n, r) => n + r.steps, 0), differing: results.reduce((n, r) => n + r.mismatches.length, 0) };
}

/** The report as one JSON object (decisions in their tagged form). */
function replayJson(file: string, results: readonly AgentReplay[]): string {
  const { steps, differing } = replayCounts(results);
  return JSON.stringify({
    file,
    steps,
    differences: differing,
    agents: results.map((r) => ({
      ...r,
      mismatches: r.mismatches.map((m) => ({ ...m, expected: toTagged(m.expected as never), actual: toTagged(m.actual as never) })),
    })),
  });
}

/** The report as text: a headline, then the first {@link REPLAY_PRINTED_DIFFS} differing steps in full. */
function replayText(file: string, results: readonly AgentReplay[]): string {
  const { steps, differing } = replayCounts(results);
  const out: string[] = [`replay ${file}: ${results.length} agents, ${steps} decide steps, ${differing} differing`];
  let printed = 0;
  for (const r of results) {
    for (const m of r.mismatches) {
      if (printed++ >= REPLAY_PRINTED_DIFFS) continue;
      out.push(`${r.role} ${r.agentId.slice(0, 12)} step ${m.step} (log seq ${m.seq}):`, ...diffStep(m));
    }
  }
  if (printed > REPLAY_PRINTED_DIFFS) out.push(`… and ${printed - REPLAY_PRINTED_DIFFS} more differing steps`);
  return out.join('\n');
}
