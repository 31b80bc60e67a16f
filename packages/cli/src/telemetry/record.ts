import { writeFileSync, readFileSync, renameSync } from 'node:fs';
import { ConfigError, type Agent, type Decision, type Message, type Outcome, type Task } from '@converge/core';
import { ReplayLog, type MetricsCollector } from '@converge/observability';

/** Version of the `FILE.agents.json` sidecar written by `--record`. */
export const RECORD_FORMAT_VERSION = 1;

/** What the runtime records to (the runtime's `ReplayPort`). */
export interface RecordPort {
  recordMessage(message: Message): unknown;
  recordDecisions(agentId: string, decisions: readonly Decision[], inputs: readonly Message[], tasks?: readonly Task[], outcomes?: readonly Outcome[]): unknown;
}

/**
 * What one agent sees of the world besides its inputs: the time, frozen at the start of each
 * `decide` call, and a seeded random source. Recording gives each agent one, and `converge
 * replay` rebuilds it (the time of each step from the log, the same seed), so a deterministic
 * agent decides the same again.
 */
export class TurnEnv {
  /** Seed of `random` (recorded in the sidecar). */
  readonly seed: number;
  #state: number;
  #now: number;

  constructor(seed: number, now = Date.now()) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
    this.#now = now;
  }

  /** The time of the current turn (Unix ms). */
  readonly now = (): number => this.#now;

  /** A number in [0, 1) from the seeded sequence (mulberry32). */
  readonly random = (): number => {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  /** Sets the turn's time. */
  setNow(at: number): void {
    this.#now = at;
  }
}

/** One recorded agent in the sidecar. */
export interface RecordedAgent {
  id: string;
  role: 'coordinator' | 'worker';
  /** Hex Ed25519 public key (no secret is recorded: a replayed agent never signs). */
  publicKey: string;
  seed: number;
}

/** The sidecar `FILE.agents.json`: how to rebuild the recorded agents. */
export interface RecordSetup {
  version: number;
  poolId: string;
  assignment: 'claim' | 'auction' | 'mixed';
  claimTtlMs: number;
  /** `--agent MODULE` of the run (resolved path), if any. */
  agentModule?: string;
  /** Tasks the coordinator planned (`undefined`: `--duration`, until told to stop). */
  total?: number;
  /** Task ids found in the store at start (skipped by the plan). */
  existing: string[];
  /** Turn time from which the coordinator was ready to submit. */
  readyAt: number | null;
  /** Turn time from which the coordinator stopped submitting, if it did before its plan ran out. */
  stopAt: number | null;
  agents: RecordedAgent[];
  /** The worker ids the coordinator called for bids, in its order. */
  workers: string[];
}

/** The sidecar path of a record file. */
export function setupPath(file: string): string {
  return `${file}.agents.json`;
}

/**
 * `--record FILE`: one `ReplayLog` appending to FILE (truncated first), whose entries carry the
 * turn time each agent saw, and the sidecar written on `close()`.
 */
export class RunRecorder {
  readonly log: ReplayLog;
  readonly file: string;
  readonly #agents: { agent: Agent; role: RecordedAgent['role']; env: TurnEnv }[] = [];
  #at = 0;
  #readyAt: number | null = null;
  #stopAt: number | null = null;
  #closed = false;

  constructor(file: string, metrics?: MetricsCollector) {
    this.file = file;
    try {
      writeFileSync(file, '');
    } catch (err) {
      throw new ConfigError(`cannot write --record file ${file}: ${(err as Error).message}`, { key: 'record', cause: err });
    }
    this.log = new ReplayLog({ file, now: () => this.#at, ...(metrics ? { metrics } : {}) });
  }

  /** A fresh `TurnEnv` with a random seed (give its `now` and `random` to one agent, then `track` it). */
  newEnv(): TurnEnv {
    return new TurnEnv((Math.random() * 2 ** 32) >>> 0);
  }

  /** Registers an agent with its env, and wraps its `decide` so that each call first freezes the turn's time. */
  track(agent: Agent, role: RecordedAgent['role'], env: TurnEnv): void {
    const decide = agent.decide.bind(agent);
    agent.decide = (messages, tasks, context) => {
      env.setNow(Date.now());
      return decide(messages, tasks, context);
    };
    this.#agents.push({ agent, role, env });
  }

  /** The runtime's replay port for `agent` (registered with `env` first). */
  port(agent: Agent): RecordPort {
    const entry = this.#agents.find((a) => a.agent === agent);
    if (!entry) throw new ConfigError('record: agent not registered', { key: 'record' });
    return {
      recordMessage: (m) => {
        this.#at = Date.now();
        return this.log.recordMessage(m);
      },
      recordDecisions: (agentId, decisions, inputs, tasks, outcomes) => {
        this.#at = entry.env.now();
        return outcomes && outcomes.length > 0
          ? this.log.recordDecisions(agentId, decisions, inputs, tasks, outcomes)
          : this.log.recordDecisions(agentId, decisions, inputs, tasks);
      },
    };
  }

  /** Notes the moment the coordinator may submit (turns starting from the next millisecond see it ready). */
  markReady(): number {
    this.#readyAt ??= Date.now() + 1;
    return this.#readyAt;
  }

  /** Notes the moment submitting stopped early (`--duration`, a signal). */
  markStop(): number {
    this.#stopAt ??= Date.now() + 1;
    return this.#stopAt;
  }

  /** Closes the log file and writes the sidecar (atomically). Idempotent. */
  close(setup: Omit<RecordSetup, 'version' | 'agents' | 'readyAt' | 'stopAt'>): void {
    if (this.#closed) return;
    this.#closed = true;
    this.log.close();
    const full: RecordSetup = {
      version: RECORD_FORMAT_VERSION,
      ...setup,
      readyAt: this.#readyAt,
      stopAt: this.#stopAt,
      agents: this.#agents.map(({ agent, role, env }) => ({
        id: agent.id,
        role,
        publicKey: Buffer.from(agent.identity.publicKey).toString('hex'),
        seed: env.seed,
      })),
    };
    const path = setupPath(this.file);
    writeFileSync(`${path}.tmp`, JSON.stringify(full, null, 2) + '\n');
    renameSync(`${path}.tmp`, path);
  }
}

/** Reads and checks the sidecar of a record file. */
export function readSetup(file: string): RecordSetup {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(setupPath(file), 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read ${setupPath(file)} (written by 'converge run --record ${file}'): ${(err as Error).message}`, {
      key: 'record',
      cause: err,
    });
  }
  const s = raw as RecordSetup;
  if (s?.version !== RECORD_FORMAT_VERSION || !Array.isArray(s.agents) || typeof s.poolId !== 'string') {
    throw new ConfigError(`${setupPath(file)}: not a converge record setup (version ${RECORD_FORMAT_VERSION})`, { key: 'record' });
  }
  return s;
}
