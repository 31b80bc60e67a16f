// `delegation`: the right to work is delegated down a chain with a narrower scope at each
// step (lead → two sub-leads → workers, through Delegate decisions on the DelegationProtocol);
// every worker's claims pass a policy that asks the protocol. Mid-run the lead revokes one
// sub-lead's grant: the revocation cascades to that sub-lead's workers, whose claims are refused.
import { Agent, Decisions, type Decision, type DecideContext, type DecisionPolicy, type Message, type Task, type TaskInit } from '@converge/core';
import type { Delegation, DelegationProtocol } from '@converge/coordination';
import { ScenarioWorker, alternatingPlan, workResult, type WorkKind } from './work.js';
import type { ScenarioWorld } from './world.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** The action that lets an agent claim a task of `kind`. */
export function workAction(kind: string): string {
  return `work:${kind}`;
}

/** Share of the tasks completed when the lead revokes the second sub-lead's grant. */
const REVOKE_AT = 0.4;
/** Tasks the lead submits per turn. */
const SUBMIT_PER_TURN = 3;

/**
 * The lead: holds every work right in its own right, grants both to each sub-lead, submits
 * the work, and revokes the second sub-lead's grant once `REVOKE_AT` of it is done.
 */
class Lead extends Agent {
  readonly #world: ScenarioWorld;
  readonly #subLeads: () => string[];
  readonly #plan: (TaskInit & { id: string })[];
  readonly grants = new Map<string, string>();
  #started = false;
  #submitted = 0;
  revoked: string | null = null;
  revokedAt = -1;
  /** Called as the revocation goes out (the scenario notes who had done what). */
  onRevoke: () => void = () => {};

  constructor(world: ScenarioWorld, subLeads: () => string[], plan: (TaskInit & { id: string })[]) {
    super();
    this.#world = world;
    this.#subLeads = subLeads;
    this.#plan = plan;
  }

  decide(_messages: readonly Message[], _tasks: readonly Task[], context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    if (!this.#started) {
      this.#started = true;
      for (const s of this.#subLeads()) out.push(Decisions.delegate(s, [workAction('sum'), workAction('sort')]));
      return out;
    }
    for (const o of context?.outcomes ?? []) {
      if (o.decision.type !== 'Delegate' || o.status !== 'ok') continue;
      const d = o.result as Delegation;
      this.grants.set(d.delegatee, d.id);
      out.push(Decisions.sendMessage(d.delegatee, { type: 'grant', delegationId: d.id, actions: d.actions }));
    }
    // The work goes out a few tasks a turn, so the revocation lands in the middle of it.
    if (this.grants.size === this.#subLeads().length) {
      for (let k = 0; k < SUBMIT_PER_TURN && this.#submitted < this.#plan.length; k++) out.push(Decisions.submitTask(this.#plan[this.#submitted++]!));
    }
    const second = this.#subLeads()[1];
    const grant = second ? this.grants.get(second) : undefined;
    if (this.revoked === null && grant && this.#world.completed.size >= Math.ceil(this.#plan.length * REVOKE_AT)) {
      this.revoked = grant;
      this.revokedAt = this.#world.completed.size;
      this.#world.decision('delegation revoked', {
        from: 'lead',
        to: this.#world.agent(second!)?.row.name,
        delegationId: grant,
        completedSoFar: this.revokedAt,
      });
      this.onRevoke();
      out.push(Decisions.revokeDelegation(grant));
    }
    return out;
  }
}

/**
 * A sub-lead: on its grant, re-delegates one action to each of its workers (a narrower scope),
 * and tries once to hand on a right it does not hold (`submit`), which the protocol refuses.
 */
class SubLead extends Agent {
  readonly #world: ScenarioWorld;
  readonly #workers: () => { id: string; kind: WorkKind }[];
  #granted = false;

  constructor(world: ScenarioWorld, workers: () => { id: string; kind: WorkKind }[]) {
    super();
    this.#world = world;
    this.#workers = workers;
  }

  decide(messages: readonly Message[], _tasks: readonly Task[], context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    for (const m of messages) {
      const p = m.payload as { type?: string } | null;
      if (p?.type !== 'grant' || this.#granted) continue;
      this.#granted = true;
      for (const w of this.#workers()) out.push(Decisions.delegate(w.id, [workAction(w.kind)]));
      const first = this.#workers()[0];
      if (first) out.push(Decisions.delegate(first.id, ['submit']));
    }
    for (const o of context?.outcomes ?? []) {
      if (o.decision.type !== 'Delegate') continue;
      if (o.status === 'ok') {
        const d = o.result as Delegation;
        out.push(Decisions.sendMessage(d.delegatee, { type: 'grant', delegationId: d.id, actions: d.actions }));
      } else this.#world.decision('delegation refused', { by: this.#world.agent(this.id)?.row.name, actions: o.decision.actions, reason: o.error?.message });
    }
    return out;
  }
}

/**
 * A worker: claims only tasks its grants cover (it learns them by message), and forgets its
 * grants when a claim is refused (a revocation it was not told about).
 */
class DelegatedWorker extends ScenarioWorker {
  readonly actions = new Set<string>();

  constructor(kinds: (taskId: string) => string | undefined) {
    super({ capabilities: ['sum', 'sort'], accepts: (t) => this.actions.has(workAction(kinds(t.id) ?? t.objective)) });
  }

  override react(messages: readonly Message[], context: DecideContext | undefined): Decision[] {
    for (const m of messages) {
      const p = m.payload as { type?: string; actions?: unknown } | null;
      if (p?.type === 'grant' && Array.isArray(p.actions)) for (const a of p.actions as unknown[]) if (typeof a === 'string') this.actions.add(a);
    }
    if ((context?.outcomes ?? []).some((o) => o.decision.type === 'ClaimTask' && o.status === 'refused')) this.actions.clear();
    return [];
  }
}

/** A policy that lets `agentId` claim a task only while a delegation chain gives it the task's work right. */
function claimPolicy(delegation: DelegationProtocol, agentId: string, kinds: (taskId: string) => string | undefined): DecisionPolicy {
  return {
    check(d) {
      if (d.type !== 'ClaimTask') return { allowed: true };
      const taskId = String((d as { taskId?: unknown }).taskId);
      const kind = kinds(taskId);
      if (kind === undefined) return { allowed: false, reason: `task ${taskId} is not this scenario's work` };
      return delegation.isAllowed(agentId, workAction(kind))
        ? { allowed: true }
        : { allowed: false, reason: `${agentId.slice(0, 12)} holds no live delegation of ${workAction(kind)}` };
    },
  };
}

/** The `delegation` scenario. */
export function delegationScenario(): Scenario {
  return {
    name: 'delegation',
    description: 'work rights delegated lead → sub-leads → workers with narrower scopes; one sub-lead revoked mid-run (cascade)',
    run: runDelegation,
  };
}

/** The agents of the delegation scenario. */
interface DelegationCast {
  lead: Lead;
  workers: DelegatedWorker[];
  /** Workers per sub-lead (the second sub-lead's are the ones revoked). */
  perSub: number;
  /** Tasks the revoked workers had done when the revocation went out. */
  doneBefore: () => number;
}

/** The kind of work the `i`-th worker of a sub-lead is granted. */
const kindOfWorker = (i: number): WorkKind => (i % 2 === 0 ? 'sum' : 'sort');

async function runDelegation(world: ScenarioWorld, o: ScenarioRunOptions): Promise<ScenarioResult> {
  await world.pool({ id: o.poolId });
  const cast = await addDelegationAgents(world, o);
  await world.start();
  await world.waitUntil(() => world.settledCount >= o.tasks, o.timeoutMs, o.signal);
  return delegationResult(world, o, cast);
}

/** Adds the lead, the two sub-leads and their workers (each worker's claims pass {@link claimPolicy}). */
async function addDelegationAgents(world: ScenarioWorld, o: ScenarioRunOptions): Promise<DelegationCast> {
  const plan = alternatingPlan(o, 'delegation');
  const kindOf = new Map(plan.map((t) => [t.id, t.objective]));
  const kinds = (id: string) => kindOf.get(id);
  const perSub = Math.max(2, Math.ceil(o.agents / 2));
  const workers = Array.from({ length: perSub * 2 }, () => new DelegatedWorker(kinds));
  const subs = [0, 1].map((s) => new SubLead(world, () => workers.slice(s * perSub, (s + 1) * perSub).map((w, i) => ({ id: w.id, kind: kindOfWorker(i) }))));
  const lead = new Lead(world, () => subs.map((s) => s.id), plan);
  world.delegation.grantRoot(lead.id, [workAction('sum'), workAction('sort'), 'submit']);
  await world.add(lead, { name: 'lead', role: 'coordinator', pools: [o.poolId] });
  for (let s = 0; s < subs.length; s++) await world.add(subs[s]!, { name: `sub-lead-${s + 1}`, role: 'sub-lead', pools: [o.poolId] });
  for (let i = 0; i < workers.length; i++) {
    const w = workers[i]!;
    const sub = Math.floor(i / perSub) + 1;
    await world.add(w, {
      name: `worker-${i + 1}`,
      role: `worker of sub-lead-${sub} (${workAction(kindOfWorker(i % perSub))})`,
      pools: [o.poolId],
      policy: claimPolicy(world.delegation, w.id, kinds),
    });
  }
  const revokedWorkers = workers.slice(perSub);
  let doneBefore = 0;
  lead.onRevoke = () => {
    doneBefore = world.tasksDoneBy(revokedWorkers);
  };
  return { lead, workers, perSub, doneBefore: () => doneBefore };
}

/** What the delegations came to, and whether the revocation cascaded. */
function delegationResult(world: ScenarioWorld, o: ScenarioRunOptions, cast: DelegationCast): ScenarioResult {
  const { lead, workers, perSub } = cast;
  const stats = world.delegation.stats();
  const revokedWorkers = workers.slice(perSub);
  // Claims already made when the revocation landed may still be reported (a claim is
  // checked when it is made); none is made after.
  const doneAfter = world.tasksDoneBy(revokedWorkers) - cast.doneBefore();
  const refusedClaims = revokedWorkers.reduce((n, w) => n + (world.agent(w.id)?.row.outcomes.refused ?? 0), 0);
  const live = workers.filter((w) => world.delegation.isAllowed(w.id, workAction('sum')) || world.delegation.isAllowed(w.id, workAction('sort'))).length;
  return workResult(world, o, {
    details: {
      delegated: stats.delegated,
      revoked: stats.revoked,
      refused: stats.refused,
      revoked_at_completed: lead.revokedAt,
      workers_still_allowed: live,
      workers_revoked: workers.length - live,
      revoked_workers_done_before: lead.revoked === null ? null : cast.doneBefore(),
      revoked_workers_done_after: lead.revoked === null ? null : doneAfter,
      revoked_workers_claims_refused: refusedClaims,
    },
    checks: {
      some_revoked: stats.revoked > 0,
      revocation_cascaded: o.tasks === 0 || stats.revoked >= 1 + perSub,
      wider_scope_refused: stats.refused > 0,
      all_tasks_done: world.completed.size === o.tasks,
    },
  });
}
