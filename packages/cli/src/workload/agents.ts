import { Agent, Decisions, createTopic, type AgentOptions, type Decision, type Message, type Task, type WireValue } from '@converge/core';

/** Topic namespace of the workload's auction messages. */
export const AUCTION_NAMESPACE = 'converge.auction';

/** What a workload task asks for: the sum of `numbers`. */
export interface SumInputs {
  numbers: number[];
  /** Unix ms when the coordinator submitted it (for latency). */
  submittedAt: number;
}

/** The expected result of a workload task. */
export function expectedSum(inputs: { numbers: number[] }): number {
  let s = 0;
  for (const n of inputs.numbers) s += n;
  return s;
}

/** Reads who a task is reserved for (an auction's winner), if anyone, and until when. */
export function reservationOf(task: Task): { agentId: string; until: number } | null {
  const c = task.constraints as Record<string, unknown>;
  return typeof c.reservedFor === 'string' && typeof c.reservedUntil === 'number' ? { agentId: c.reservedFor, until: c.reservedUntil } : null;
}

/** Options of the default worker. */
export interface WorkerAgentOptions extends AgentOptions {
  /** Fingerprint of the coordinator, to report to and bid with. */
  coordinatorId?: string;
  /**
   * Whether to send the coordinator a signed "done" message per task (default true). A worker
   * in another process than the coordinator leaves it off: the coordinator reads outcomes from
   * the shared store, and may not have learnt this worker's key yet.
   */
  notifyCoordinator?: boolean;
  /** Most tasks claimed per turn (default 16). */
  maxClaimsPerTurn?: number;
  clock?: () => number;
  /** Random source in [0, 1) (default `Math.random`; `--record` gives a seeded one, so a replay draws the same). */
  random?: () => number;
}

/**
 * The default worker: bids in auctions it is called to, claims tasks on offer (or reserved
 * for it), computes the sum and reports it, and tells the coordinator with a signed message.
 */
export class WorkerAgent extends Agent {
  coordinatorId: string | undefined;
  readonly #maxClaims: number;
  readonly #notify: boolean;
  readonly #clock: () => number;
  readonly #random: () => number;
  #load = 0;

  constructor(options: WorkerAgentOptions = {}) {
    super({ capabilities: ['sum'], ...options });
    this.coordinatorId = options.coordinatorId;
    this.#maxClaims = options.maxClaimsPerTurn ?? 16;
    this.#notify = options.notifyCoordinator ?? true;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Work on `task`: the sum of its numbers. Subclasses can override. */
  execute(task: Task): WireValue {
    return expectedSum(task.inputs as unknown as SumInputs);
  }

  decide(messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    const out: Decision[] = [];
    for (const m of messages) {
      const p = m.payload as { type?: string; auctionId?: string } | null;
      if (p && typeof p === 'object' && p.type === 'call-for-bids' && typeof p.auctionId === 'string') {
        // Bid what the task is worth to this worker: more when it is idle.
        const amount = Math.max(1, 1000 - this.#load * 10 + Math.floor(this.#random() * 100));
        out.push(Decisions.sendMessage(m.sender, { type: 'bid', auctionId: p.auctionId, amount }, { topics: [createTopic(AUCTION_NAMESPACE)] }));
      }
    }
    const now = this.#clock();
    let claimed = 0;
    // Start at a random place in the offered list: workers that see the same pending tasks
    // (in other processes, too) then mostly claim different ones instead of racing.
    const offset = tasks.length > 0 ? Math.floor(this.#random() * tasks.length) : 0;
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[(offset + k) % tasks.length]!;
      if (claimed >= this.#maxClaims) break;
      const r = reservationOf(task);
      if (r && r.agentId !== this.id && r.until > now) continue;
      out.push(Decisions.claimTask(task.id), Decisions.reportTask(task.id, this.execute(task)));
      if (this.coordinatorId && this.#notify) out.push(Decisions.sendMessage(this.coordinatorId, { type: 'done', taskId: task.id }, { taskId: task.id }));
      claimed++;
    }
    this.#load = claimed;
    return out;
  }
}
