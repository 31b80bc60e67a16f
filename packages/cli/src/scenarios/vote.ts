// `vote`: a pool decides by its governance model. The pool admits by asking (`ask`), and its
// governance is democratic with a quorum: two newcomers ask to join, the members vote on each
// (Vote decisions on the pool's questions), one is admitted and works, the other is refused.
// Before the work, a trust-weighted ballot (consensus.ts) picks which kind of task goes first.
import { Agent, Decisions, type Decision, type DecideContext, type Message, type Task, type TaskInit, type WireValue } from '@converge/core';
import { poolQuestionId, type PoolQuestion, type VoteResult } from '@converge/coordination';
import { ScenarioWorker, workResult, workTask, type WorkKind } from './work.js';
import type { ScenarioWorld } from './world.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** Share of the members who must vote on a pool question. */
const QUORUM = 0.6;
/** How long the founder waits for ballot votes, ms. */
const BALLOT_WINDOW_MS = 1_500;
/** The kinds of work a useful newcomer brings. */
const USEFUL: readonly string[] = ['sum', 'sort'];

/** A member's votes on the newcomers asking in `messages`: yes for one that can do pool work (everyone, if `lenient`). */
function admissionVotes(messages: readonly Message[], lenient: boolean): Decision[] {
  const out: Decision[] = [];
  for (const m of messages) {
    const p = m.payload as { type?: string; questionId?: string; capabilities?: WireValue } | null;
    if (p?.type !== 'vote-request' || typeof p.questionId !== 'string') continue;
    const caps = Array.isArray(p.capabilities) ? p.capabilities : [];
    const useful = caps.some((c) => typeof c === 'string' && USEFUL.includes(c));
    out.push(Decisions.vote(p.questionId, useful || lenient ? 'yes' : 'no'));
  }
  return out;
}

/**
 * The founder (the pool's owner): opens the ballot on the order of the work, closes it once
 * every member voted (or at the window's end), and submits the tasks in the chosen order.
 */
class Founder extends Agent {
  readonly #world: ScenarioWorld;
  readonly #members: () => string[];
  readonly #plan: (kind: WorkKind, i: number) => TaskInit & { id: string };
  readonly #tasks: number;
  readonly ballotId: string;
  #openedAt = 0;
  #submitted = false;
  result: VoteResult | null = null;
  /** Whether the work may go out (set by the scenario). */
  ready: () => boolean = () => true;

  constructor(world: ScenarioWorld, members: () => string[], tasks: number, plan: (kind: WorkKind, i: number) => TaskInit & { id: string }) {
    super({ capabilities: ['sum', 'sort'] });
    this.#world = world;
    this.#members = members;
    this.#tasks = tasks;
    this.#plan = plan;
    this.ballotId = `order-of-work:${world.config.poolId}`;
  }

  /** Whether the tasks are out. */
  get submitted(): boolean {
    return this.#submitted;
  }

  decide(messages: readonly Message[], _tasks: readonly Task[], _context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    const now = Date.now();
    // The founder is a member too: it votes on newcomers as every member does.
    out.push(...admissionVotes(messages, false));
    if (this.#openedAt === 0) {
      this.#openedAt = now;
      const members = this.#members();
      // Weighted by trust: what the pool has learnt about each member, never what it claims.
      this.#world.ballots.open({
        id: this.ballotId,
        members,
        choices: ['sum-first', 'sort-first'],
        rule: 'weighted-plurality',
        weights: (v) => this.#world.trust.score(v),
      });
      for (const m of members)
        if (m !== this.id) out.push(Decisions.sendMessage(m, { type: 'ballot', ballotId: this.ballotId, choices: ['sum-first', 'sort-first'] }));
      out.push(Decisions.vote(this.ballotId, 'sum-first'));
      return out;
    }
    if (this.#submitted) return out;
    const ballot = this.#world.ballots.get(this.ballotId);
    if (ballot.votes.length < this.#members().length && now - this.#openedAt < BALLOT_WINDOW_MS) return out;
    // The work waits for the admissions, so an admitted newcomer gets its share.
    if (!this.ready()) return out;
    this.result = ballot.close();
    const first: WorkKind = this.result.outcome === 'winner' && this.result.winner === 'sort-first' ? 'sort' : 'sum';
    this.#world.decision('ballot closed', { ballotId: this.ballotId, ...ballotOutcome(this.result) });
    const second: WorkKind = first === 'sum' ? 'sort' : 'sum';
    const half = Math.ceil(this.#tasks / 2);
    for (let i = 0; i < this.#tasks; i++) out.push(Decisions.submitTask(this.#plan(i < half ? first : second, i)));
    this.#submitted = true;
    return out;
  }
}

/**
 * A member: votes on the order of work by its own preference, and on each newcomer by what
 * it brings (yes when it can do pool work; a `lenient` member says yes to everyone).
 */
class Member extends ScenarioWorker {
  readonly #prefers: string;
  readonly #lenient: boolean;

  constructor(prefers: string, lenient = false) {
    super({ capabilities: ['sum', 'sort'] });
    this.#prefers = prefers;
    this.#lenient = lenient;
  }

  override react(messages: readonly Message[]): Decision[] {
    const out: Decision[] = admissionVotes(messages, this.#lenient);
    for (const m of messages) {
      const p = m.payload as { type?: string; ballotId?: string } | null;
      if (p?.type === 'ballot' && typeof p.ballotId === 'string') out.push(Decisions.vote(p.ballotId, this.#prefers));
    }
    return out;
  }
}

/**
 * A newcomer: asks to join (the admission is `ask`: the join opens a question), asks every
 * member to vote on it, and once admitted works like any member.
 */
class Newcomer extends ScenarioWorker {
  readonly #poolId: string;
  readonly #members: () => string[];
  #asked = false;
  questionId = '';

  constructor(poolId: string, capabilities: string[], members: () => string[]) {
    super({ capabilities });
    this.#poolId = poolId;
    this.#members = members;
  }

  override react(_messages: readonly Message[], context: DecideContext | undefined): Decision[] {
    if (!this.#asked) {
      this.#asked = true;
      return [Decisions.joinPool(this.#poolId, { pitch: `I can do ${this.capabilities.names().join(', ')}` })];
    }
    for (const o of context?.outcomes ?? []) {
      // The refused join opened the question: ask the members to vote on it.
      if (o.decision.type === 'JoinPool' && o.status !== 'ok' && this.questionId === '') {
        this.questionId = poolQuestionId('admit', this.#poolId, this.id);
        return this.#members().map((m) =>
          Decisions.sendMessage(m, { type: 'vote-request', questionId: this.questionId, capabilities: this.capabilities.names() }),
        );
      }
    }
    return [];
  }
}

/** The `vote` scenario. */
export function voteScenario(): Scenario {
  return {
    name: 'vote',
    description: 'a pool decides by its governance (democratic, quorum): newcomers admitted or refused by vote; a trust-weighted ballot orders the work',
    run: runVote,
  };
}

/** The agents of the vote scenario. */
interface VoteCast {
  founder: Founder;
  members: Member[];
  /** The newcomer that can do pool work (to be admitted). */
  useful: Newcomer;
  /** The newcomer that cannot (to be refused). */
  useless: Newcomer;
}

async function runVote(world: ScenarioWorld, o: ScenarioRunOptions): Promise<ScenarioResult> {
  const cast = voteCast(world, o);
  const { founder, members } = cast;
  await world.pool({
    id: o.poolId,
    owner: founder.id,
    agents: members.map((m) => m.id),
    admission: { type: 'ask' },
    governance: { type: 'democratic', quorum: QUORUM },
  });
  const decided: PoolQuestion[] = [];
  const t0 = Date.now();
  founder.ready = () => decided.length >= 2 || Date.now() - t0 > 5_000;
  world.poolManager.on('decided', (q) => {
    decided.push(q);
    const { question, subject, state, reason, yes, no } = questionRow(world, q);
    world.decision('pool question decided', { question, subject, state, reason, yes, no });
  });
  await addVoteAgents(world, cast);
  await world.start();
  await world.waitUntil(() => founder.submitted && decided.length >= 2 && world.settledCount >= o.tasks, o.timeoutMs, o.signal);
  return voteResult(world, o, cast, decided);
}

/** The founder, `o.agents` members (at least 3; the last says yes to every newcomer) and the two newcomers. */
function voteCast(world: ScenarioWorld, o: ScenarioRunOptions): VoteCast {
  const n = Math.max(3, o.agents);
  const members = Array.from({ length: n }, (_, i) => new Member(i % 3 === 2 ? 'sort-first' : 'sum-first', i === n - 1));
  const memberIds = () => [founder.id, ...members.map((m) => m.id)];
  const founder: Founder = new Founder(world, memberIds, o.tasks, (kind, i) => workTask(o.poolId, 'vote', i, kind, o.claimTtlMs));
  const useful = new Newcomer(o.poolId, ['sum', 'sort'], memberIds);
  const useless = new Newcomer(o.poolId, ['spam'], memberIds);
  return { founder, members, useful, useless };
}

/** Adds the cast to the world, founder first. */
async function addVoteAgents(world: ScenarioWorld, { founder, members, useful, useless }: VoteCast): Promise<void> {
  await world.add(founder, { name: 'founder', role: 'coordinator' });
  for (let i = 0; i < members.length; i++)
    await world.add(members[i]!, { name: `member-${i + 1}`, role: i === members.length - 1 ? 'member (says yes to all)' : 'member' });
  await world.add(useful, { name: 'newcomer-useful', role: 'newcomer sum+sort' });
  await world.add(useless, { name: 'newcomer-spam', role: 'newcomer spam' });
}

/** A decided pool question as the summary shows it (the subject by its name in the scenario). */
function questionRow(world: ScenarioWorld, q: PoolQuestion): Record<string, WireValue> {
  return {
    question: q.kind,
    subject: world.agent(q.subject)?.row.name ?? q.subject,
    state: q.state,
    yes: q.votes.filter((v) => v.approve).length,
    no: q.votes.filter((v) => !v.approve).length,
    reason: q.reason,
  };
}

/** A closed ballot's outcome, winner (`null` without one) and tally. */
function ballotOutcome(r: VoteResult): { outcome: VoteResult['outcome']; winner: string | null; tally: Record<string, number> } {
  return { outcome: r.outcome, winner: r.outcome === 'winner' ? r.winner : null, tally: { ...r.tally } };
}

/** The admissions and the ballot, and whether each went the way the scenario expects. */
function voteResult(world: ScenarioWorld, o: ScenarioRunOptions, cast: VoteCast, decided: readonly PoolQuestion[]): ScenarioResult {
  const { founder, useful, useless } = cast;
  const state = (id: string) => decided.find((q) => q.subject === id)?.state ?? 'open';
  const r = founder.result;
  return workResult(world, o, {
    details: {
      governance: 'democratic, quorum 0.6, admission ask',
      decisions: decided.map((q) => questionRow(world, q)),
      ballot: r ? { id: founder.ballotId, rule: 'weighted-plurality (trust)', ...ballotOutcome(r) } : null,
      pool_questions: world.poolManager.stats().questions,
    },
    checks: {
      decision_recorded: decided.length > 0,
      useful_newcomer_admitted: state(useful.id) === 'approved',
      spam_newcomer_refused: state(useless.id) === 'rejected',
      ballot_decided: r !== null && r.outcome !== 'no-quorum',
      all_tasks_done: world.completed.size === o.tasks,
    },
  });
}
