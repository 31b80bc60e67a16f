// `negotiation`: before any work, a client and a worker negotiate each task's price through
// the NegotiationProtocol (propose, counter, accept or reject, as decisions); an agreed task is
// submitted reserved for its worker at the agreed price, a refused one goes to the open pool.
import { Agent, Decisions, type Decision, type DecideContext, type Message, type Task, type TaskInit, type WireValue } from '@converge/core';
import type { NegotiationSession } from '@converge/coordination';
import { ScenarioWorker, alternatingPlan, meanOf, workResult } from './work.js';
import type { ScenarioWorld } from './world.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** The client's opening offer for a task. */
const OPENING_OFFER = 60;
/** The most the client pays for a task. */
const BUDGET = 100;
/** A worker settles for this share of its ask on the client's last offer. */
const CONCESSION = 0.9;
/** Negotiations the client holds open at once. */
const MAX_OPEN_SESSIONS = 8;
/** How long an agreed worker has its task to itself, ms. */
const RESERVATION_MS = 5_000;

interface Terms {
  taskId: string;
  price: number;
  [key: string]: WireValue;
}

interface Open {
  task: TaskInit & { id: string };
  worker: string;
  sessionId?: string;
  rounds: number;
}

/** What the client's negotiations came to. */
interface Tally {
  agreements: number;
  rejections: number;
  offers: number;
  agreedPrices: number[];
  byWorker: Record<string, number>;
}

/**
 * The client: opens a negotiation per task with one worker (round robin), counters a worker's
 * ask once with its budget, accepts what fits its budget, and submits the task when agreed.
 */
class Client extends Agent {
  readonly #world: ScenarioWorld;
  readonly #plan: (TaskInit & { id: string })[];
  readonly #workers: () => readonly string[];
  readonly #open = new Map<string, Open>();
  readonly tally: Tally = { agreements: 0, rejections: 0, offers: 0, agreedPrices: [], byWorker: {} };
  #next = 0;

  constructor(world: ScenarioWorld, plan: (TaskInit & { id: string })[], workers: () => readonly string[]) {
    super();
    this.#world = world;
    this.#plan = plan;
    this.#workers = workers;
  }

  /** Whether every task was negotiated and submitted. */
  get done(): boolean {
    return this.#next >= this.#plan.length && this.#open.size === 0;
  }

  decide(messages: readonly Message[], _tasks: readonly Task[], context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    // A proposal made last turn: its session id comes back in the outcome; tell the worker.
    for (const o of context?.outcomes ?? []) {
      if (o.decision.type !== 'Propose' || o.decision.sessionId !== undefined || o.status !== 'ok') continue;
      const session = o.result as NegotiationSession;
      const terms = session.current.terms as Terms;
      const open = this.#open.get(terms.taskId);
      if (!open) continue;
      open.sessionId = session.id;
      out.push(Decisions.sendMessage(open.worker, { type: 'proposal', sessionId: session.id, terms }));
    }
    for (const m of messages) this.#onMessage(m, out);
    while (this.#open.size < MAX_OPEN_SESSIONS && this.#next < this.#plan.length) {
      const task = this.#plan[this.#next]!;
      const workers = this.#workers();
      const worker = workers[this.#next % workers.length]!;
      this.#next++;
      this.#open.set(task.id, { task, worker, rounds: 1 });
      this.tally.offers++;
      out.push(Decisions.propose([worker], { taskId: task.id, price: OPENING_OFFER }));
    }
    return out;
  }

  #onMessage(m: Message, out: Decision[]): void {
    const p = m.payload as { type?: string; sessionId?: string; terms?: Terms } | null;
    if (!p || typeof p.sessionId !== 'string') return;
    const open = [...this.#open.values()].find((o) => o.sessionId === p.sessionId && o.worker === m.sender);
    if (!open) return;
    if (p.type === 'accepted') this.#agreed(open, open.rounds === 1 ? OPENING_OFFER : BUDGET, out);
    else if (p.type === 'countered' && p.terms) {
      if (p.terms.price <= BUDGET) {
        out.push(Decisions.acceptProposal(p.sessionId));
        this.#agreed(open, p.terms.price, out);
      } else if (open.rounds === 1) {
        open.rounds++;
        this.tally.offers++;
        const final = { taskId: open.task.id, price: BUDGET, final: true };
        out.push(Decisions.propose([], final, p.sessionId));
        out.push(Decisions.sendMessage(open.worker, { type: 'proposal', sessionId: p.sessionId, terms: final }));
      } else out.push(Decisions.rejectProposal(p.sessionId, `ask ${p.terms.price} is over the budget ${BUDGET}`));
    } else if (p.type === 'rejected') {
      // No agreement: the task goes to the open pool, at the budget, for whoever claims it.
      this.tally.rejections++;
      this.#world.decision('negotiation rejected', { taskId: open.task.id, worker: this.#world.agent(open.worker)?.row.name });
      out.push(Decisions.submitTask({ ...open.task, constraints: { ...(open.task.constraints ?? {}), price: BUDGET } }));
      this.#open.delete(open.task.id);
    }
  }

  #agreed(open: Open, price: number, out: Decision[]): void {
    this.tally.agreements++;
    this.tally.agreedPrices.push(price);
    const name = this.#world.agent(open.worker)?.row.name ?? open.worker;
    this.tally.byWorker[name] = (this.tally.byWorker[name] ?? 0) + 1;
    this.#world.decision('agreement', { taskId: open.task.id, worker: name, price, rounds: open.rounds });
    const constraints = { ...(open.task.constraints ?? {}), reservedFor: open.worker, reservedUntil: Date.now() + RESERVATION_MS, agreedPrice: price };
    out.push(Decisions.submitTask({ ...open.task, constraints }));
    this.#open.delete(open.task.id);
  }
}

/**
 * A worker with an asking price: accepts an offer at or above it, counters a lower first
 * offer with its ask, settles for `CONCESSION` of its ask on the client's last offer, and
 * rejects below that. It works on the tasks agreed with it (and on open ones).
 */
class NegotiatingWorker extends ScenarioWorker {
  /** Its asking price. */
  readonly ask: number;

  constructor(ask: number) {
    super({ capabilities: ['sum', 'sort'] });
    this.ask = ask;
  }

  override react(messages: readonly Message[]): Decision[] {
    const out: Decision[] = [];
    for (const m of messages) {
      const p = m.payload as { type?: string; sessionId?: string; terms?: Terms } | null;
      if (p?.type !== 'proposal' || typeof p.sessionId !== 'string' || !p.terms) continue;
      const { sessionId, terms } = p;
      const last = terms.final === true;
      if (terms.price >= this.ask || (last && terms.price >= this.ask * CONCESSION)) {
        out.push(Decisions.acceptProposal(sessionId), Decisions.sendMessage(m.sender, { type: 'accepted', sessionId }));
      } else if (last) {
        out.push(
          Decisions.rejectProposal(sessionId, `offer ${terms.price} is under ${Math.round(this.ask * CONCESSION)}`),
          Decisions.sendMessage(m.sender, { type: 'rejected', sessionId }),
        );
      } else {
        const counter = { ...terms, price: this.ask };
        out.push(Decisions.propose([], counter, sessionId), Decisions.sendMessage(m.sender, { type: 'countered', sessionId, terms: counter }));
      }
    }
    return out;
  }
}

/** The `negotiation` scenario. */
export function negotiationScenario(): Scenario {
  return {
    name: 'negotiation',
    description: "a client negotiates each task's price with a worker (propose, counter, accept, reject) before the work",
    run: runNegotiation,
  };
}

async function runNegotiation(world: ScenarioWorld, o: ScenarioRunOptions): Promise<ScenarioResult> {
  await world.pool({ id: o.poolId });
  const workers = Array.from({ length: Math.max(2, o.agents) }, (_, i) => new NegotiatingWorker(50 + 30 * i));
  const client = new Client(world, alternatingPlan(o, 'negotiation'), () => workers.map((w) => w.id));
  await world.add(client, { name: 'client', role: 'coordinator', pools: [o.poolId] });
  for (let i = 0; i < workers.length; i++) await world.add(workers[i]!, { name: `worker-${i + 1}`, role: `worker asks ${workers[i]!.ask}`, pools: [o.poolId] });
  await world.start();
  await world.waitUntil(() => client.done && world.settledCount >= o.tasks, o.timeoutMs, o.signal);
  const t = client.tally;
  const stats = world.negotiation.stats();
  return workResult(world, o, {
    details: {
      agreements: t.agreements,
      rejections: t.rejections,
      offers: t.offers,
      counters: stats.countered,
      mean_agreed_price: meanOf(t.agreedPrices),
      agreements_by_worker: t.byWorker,
      protocol: stats,
    },
    checks: {
      all_tasks_done: world.completed.size === o.tasks,
      agreements: o.tasks === 0 || t.agreements > 0,
      protocol_agrees: stats.accepted === t.agreements,
    },
  });
}
