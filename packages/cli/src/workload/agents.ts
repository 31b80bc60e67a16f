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

/** Most auction or task ids one workload message carries (the ids of one turn): 1,024. */
export const MAX_IDS_PER_MESSAGE = 1_024;

/** The auction ids a coordinator's `call-for-bids` message names (`auctionIds`, or one `auctionId`). */
export function auctionIdsOf(payload: unknown): string[] {
  const p = payload as { type?: unknown; auctionId?: unknown; auctionIds?: unknown } | null;
  if (!p || typeof p !== 'object' || p.type !== 'call-for-bids') return [];
  if (typeof p.auctionId === 'string') return [p.auctionId];
  if (!Array.isArray(p.auctionIds)) return [];
  return (p.auctionIds as unknown[]).slice(0, MAX_IDS_PER_MESSAGE).filter((id): id is string => typeof id === 'string');
}

/** Options of the default worker. */
export interface WorkerAgentOptions extends AgentOptions {
  /** Fingerprint of the coordinator, to report to and bid with. */
  coordinatorId?: string;
  /**
   * Whether to send the coordinator a signed "done" message per turn naming the tasks it
   * completed (default true). A worker
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
 * Each turn sends at most one message per coordinator of each kind (its bids, its done
 * tasks): signing and verifying a message costs more than a task's work.
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
    // Every auction a coordinator called this turn gets a bid, all in one message per
    // coordinator (a signed message costs more than the work of a task).
    const bids = new Map<string, { auctionId: string; amount: number }[]>();
    for (const m of messages) {
      for (const auctionId of auctionIdsOf(m.payload)) {
        // Bid what the task is worth to this worker: more when it is idle.
        const amount = Math.max(1, 1000 - this.#load * 10 + Math.floor(this.#random() * 100));
        const list = bids.get(m.sender) ?? [];
        if (list.length === 0) bids.set(m.sender, list);
        if (list.length < MAX_IDS_PER_MESSAGE) list.push({ auctionId, amount });
      }
    }
    for (const [to, list] of bids) out.push(Decisions.sendMessage(to, { type: 'bids', bids: list }, { topics: [createTopic(AUCTION_NAMESPACE)] }));
    const now = this.#clock();
    let claimed = 0;
    const done: string[] = [];
    // Start at a random place in the offered list: workers that see the same pending tasks
    // (in other processes, too) then mostly claim different ones instead of racing.
    const offset = tasks.length > 0 ? Math.floor(this.#random() * tasks.length) : 0;
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[(offset + k) % tasks.length]!;
      if (claimed >= this.#maxClaims) break;
      const r = reservationOf(task);
      if (r && r.agentId !== this.id && r.until > now) continue;
      out.push(Decisions.claimTask(task.id), Decisions.reportTask(task.id, this.execute(task)));
      done.push(task.id);
      claimed++;
    }
    // One "done" message per turn for the tasks this turn claims and reports.
    if (done.length > 0 && this.coordinatorId && this.#notify) out.push(Decisions.sendMessage(this.coordinatorId, { type: 'done', taskIds: done }));
    this.#load = claimed;
    return out;
  }
}
