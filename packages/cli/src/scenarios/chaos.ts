// `chaos`: the faults a network meets, in one run. Two workers crash holding claims (their
// runtimes halt: nothing reported, nothing handed back, the leases run out); one worker is
// slow; one worker's connection drops for a while (on tcp its sockets really close; on local
// and ws the link refuses sends); one agent signs its messages with the wrong key; some tool
// calls hang past their timeout (retried; the ones that always hang are dead-lettered). Every
// task must still complete exactly once or be dead-lettered, and nothing may be lost.
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, Decisions, Identity, ToolRegistry, TransportError, ValidationError, createMessage, signMessage } from '@converge/core';
import type { Decision, DecideContext, Message, Task, TaskInit, Transport, WireRecord } from '@converge/core';
import type { TcpTransport } from '@converge/transport-tcp';
import type { AgentRuntime } from '@converge/runtime';
import { Submitter, computeWork, workResult, workTask } from './work.js';
import type { ScenarioWorld } from './world.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** Lease of the chaos tasks, ms (short, so crashed claims come back within the run). */
export const CHAOS_LEASE_MS = 600;
/** Deadline of one tool call, ms (a hanging call fails after it). */
export const CHAOS_TOOL_TIMEOUT_MS = 150;
/** How long the slow worker works on one task, ms. */
export const CHAOS_SLOW_MS = 250;
/** Forged messages the wrong-key signer sends. */
export const CHAOS_FORGED_MESSAGES = 5;
/** Retries of a task whose tool call always hangs (then it is dead-lettered). */
const POISON_RETRIES = 1;
/** A hanging tool call gives up on its own after this long (it never answers before). */
const HANG_RELEASE_MS = 5_000;

/** How the tool behaves for task `i`: every 13th always hangs, every 5th hangs on its first attempt. */
function hangOf(i: number): 'always' | 'once' | 'never' {
  return i % 13 === 6 ? 'always' : i % 5 === 2 ? 'once' : 'never';
}

/** The `compute` tool: the task's result, or a call that hangs (and ignores its abort signal). */
function computeTool(): ToolRegistry {
  return new ToolRegistry([
    {
      name: 'compute',
      description: 'computes a scenario task; hangs for some inputs',
      run: (params) => {
        const hang = params.hang === 'always' || (params.hang === 'once' && params.attempt === 1);
        if (typeof params.objective !== 'string') throw new ValidationError('compute: params.objective must be a string');
        const result = computeWork({ objective: params.objective, inputs: { numbers: params.numbers } as never });
        if (!hang) return result;
        // A stuck call: it does not look at its signal; the executor's deadline gives up on it.
        return delay(HANG_RELEASE_MS, result, { ref: false });
      },
    },
  ]);
}

/** A link that can be cut: while `down`, every send fails with a `TransportError` (counted). */
class ChaosLink {
  down = false;
  failedSends = 0;
  drops = 0;

  /** The transport seen through this link (every other member passes through). */
  wrap(t: Transport): Transport {
    return new Proxy(t, {
      get: (target, prop) => {
        if (prop === 'send') {
          return (message: Message, options?: unknown) => {
            if (this.down) {
              this.failedSends++;
              return Promise.reject(new TransportError('connection dropped (chaos)', { code: 'ERR_CONNECTION_DROPPED' }));
            }
            return target.send(message, options as never);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}

/**
 * A worker that does its tasks through the `compute` tool: claims, then calls the tool once the
 * claim is held, then reports the result (and tells the coordinator), or fails the attempt
 * when the call timed out (the task is retried, or dead-lettered once out of retries).
 */
class ToolWorker extends Agent {
  readonly #coordinator: () => string;
  readonly #claimed = new Map<string, Task>();

  constructor(coordinator: () => string) {
    super({ capabilities: ['sum', 'sort'] });
    this.#coordinator = coordinator;
  }

  decide(_messages: readonly Message[], tasks: readonly Task[], context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    for (const o of context?.outcomes ?? []) {
      const d = o.decision as Decision & { taskId?: string; params?: WireRecord };
      if (d.type === 'ClaimTask' && typeof d.taskId === 'string') {
        const task = this.#claimed.get(d.taskId);
        if (!task) continue;
        if (o.status !== 'ok') {
          this.#claimed.delete(d.taskId);
          continue;
        }
        const attempt = (o.result as { attempt?: number } | undefined)?.attempt ?? task.attempts + 1;
        const params: WireRecord = {
          taskId: task.id,
          objective: task.objective,
          numbers: (task.inputs as { numbers: number[] }).numbers,
          hang: String((task.inputs as { hang?: string }).hang ?? 'never'),
          attempt,
        };
        out.push(Decisions.invokeTool('compute', params, CHAOS_TOOL_TIMEOUT_MS));
      } else if (d.type === 'InvokeTool' && typeof d.params?.taskId === 'string') {
        const taskId = d.params.taskId;
        this.#claimed.delete(taskId);
        if (o.status === 'ok') {
          out.push(Decisions.reportTask(taskId, o.result as never), Decisions.sendMessage(this.#coordinator(), { type: 'done', taskId }, { taskId }));
        } else out.push(Decisions.failTask(taskId, `tool compute: ${o.status}: ${o.error?.message ?? ''}`.slice(0, 200)));
      }
    }
    for (const task of tasks) {
      if (this.#claimed.size >= 2) break;
      if (this.#claimed.has(task.id)) continue;
      this.#claimed.set(task.id, task);
      out.push(Decisions.claimTask(task.id));
    }
    return out;
  }
}

/** A worker that claims and never reports: its runtime is halted once it holds claims. */
class Crasher extends Agent {
  #claimed = false;

  constructor() {
    super({ capabilities: ['sum', 'sort'] });
  }

  decide(_messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    if (this.#claimed || tasks.length === 0) return [];
    this.#claimed = true;
    return tasks.slice(0, 2).map((t) => Decisions.claimTask(t.id));
  }
}

/** A slow worker: holds one claim at a time and takes `CHAOS_SLOW_MS` over it (its lease is kept alive). */
class SlowWorker extends Agent {
  #held: Task | null = null;

  constructor() {
    super({ capabilities: ['sum', 'sort'] });
  }

  async decide(_messages: readonly Message[], tasks: readonly Task[], context?: DecideContext): Promise<Decision[]> {
    for (const o of context?.outcomes ?? []) if (o.decision.type === 'ClaimTask' && o.status !== 'ok') this.#held = null;
    if (this.#held) {
      const task = this.#held;
      this.#held = null;
      await delay(CHAOS_SLOW_MS);
      return [Decisions.reportTask(task.id, computeWork(task))];
    }
    // The tool's poison tasks are for the tool workers (they end dead-lettered): not this one's.
    const task = tasks.find((t) => (t.inputs as { hang?: string }).hang !== 'always');
    if (!task) return [];
    this.#held = task;
    return [Decisions.claimTask(task.id)];
  }
}

/** An agent whose messages are signed with another key than the one it registered. */
class WrongKeySigner extends Agent {
  readonly #coordinator: () => string;
  sent = 0;

  constructor(coordinator: () => string) {
    super();
    this.#coordinator = coordinator;
  }

  decide(): Decision[] {
    if (this.sent >= CHAOS_FORGED_MESSAGES) return [];
    this.sent++;
    return [{ type: 'SendWithWrongKey', recipient: this.#coordinator(), payload: { type: 'done', taskId: 'forged' } }];
  }
}

/** The agents of the chaos scenario, and the faults' bookkeeping. */
interface ChaosCast {
  coordinator: Submitter;
  link: ChaosLink;
  signer: WrongKeySigner;
  /** The crashers' runtimes (halted once they hold claims). */
  crashed: AgentRuntime[];
  /** The transport of worker-1, whose link drops. */
  victim: () => Transport | undefined;
}

/** The `chaos` scenario. */
export function chaosScenario(): Scenario {
  return {
    name: 'chaos',
    description: 'crashes holding claims, a slow worker, a dropped connection, a wrong-key signer, hanging tool calls',
    run: runChaos,
  };
}

async function runChaos(world: ScenarioWorld, o: ScenarioRunOptions): Promise<ScenarioResult> {
  await world.pool({ id: o.poolId });
  const cast = await addChaosAgents(world, o);
  await world.start();
  const crashedAt: number[] = [];
  await world.waitUntil(chaosTick(world, o, cast, crashedAt), o.timeoutMs, o.signal);
  return chaosResult(world, o, cast, crashedAt);
}

/** Adds the coordinator, two crashers, the slow worker, the tool workers (worker-1's link drops) and the wrong-key signer. */
async function addChaosAgents(world: ScenarioWorld, o: ScenarioRunOptions): Promise<ChaosCast> {
  const plan: (TaskInit & { id: string })[] = Array.from({ length: o.tasks }, (_, i) => {
    const hang = hangOf(i);
    return workTask(o.poolId, 'chaos', i, i % 2 === 0 ? 'sum' : 'sort', CHAOS_LEASE_MS, {
      inputs: { hang },
      constraints: hang === 'always' ? { maxRetries: POISON_RETRIES } : {},
    });
  });
  const coordinator = new Submitter(plan, 8);
  const coordId = () => coordinator.id;
  const link = new ChaosLink();
  const signer = new WrongKeySigner(coordId);
  await world.add(coordinator, { name: 'coordinator', role: 'coordinator', pools: [o.poolId] });
  const crashed: AgentRuntime[] = [];
  for (let i = 0; i < 2; i++)
    crashed.push((await world.add(new Crasher(), { name: `crasher-${i + 1}`, role: 'crashes holding claims', pools: [o.poolId] })).runtime);
  await world.add(new SlowWorker(), { name: 'slow', role: `slow (${CHAOS_SLOW_MS} ms a task)`, pools: [o.poolId] });
  const tools = computeTool();
  let victimTransport: Transport | undefined;
  const steady = Math.max(2, o.agents);
  for (let i = 0; i < steady; i++) {
    const victim = i === 0;
    await world.add(new ToolWorker(coordId), {
      name: `worker-${i + 1}`,
      role: victim ? 'tool worker, connection drops' : 'tool worker',
      pools: [o.poolId],
      tools,
      toolTimeoutMs: CHAOS_TOOL_TIMEOUT_MS,
      ...(victim ? { wrapTransport: (t: Transport) => ((victimTransport = t), link.wrap(t)) } : {}),
    });
  }
  await addWrongKeySigner(world, signer);
  return { coordinator, link, signer, crashed, victim: () => victimTransport };
}

/** The signer whose messages are signed by another key than the one it registered. */
async function addWrongKeySigner(world: ScenarioWorld, signer: WrongKeySigner): Promise<void> {
  const wrongKey = Identity.generate();
  await world.add(signer, {
    name: 'wrong-key',
    role: 'signs with the wrong key',
    register: (executor, transport) => {
      executor.register('SendWithWrongKey', async (d, ctx) => {
        const { recipient, payload } = d as unknown as { recipient: string; payload: WireRecord };
        // Signed by another key, then presented as this agent's: the signature cannot verify.
        const forged = { ...signMessage(createMessage({ recipient, payload }), wrongKey), sender: ctx.agentId };
        await transport.send(forged, { signal: ctx.signal });
        return forged.id;
      });
    },
  });
}

/** The chaos, one check at a time: crash the crashers once they hold claims; cut the victim's link for a while. True when the run is over. */
function chaosTick(world: ScenarioWorld, o: ScenarioRunOptions, cast: ChaosCast, crashedAt: number[]): () => boolean {
  const { crashed, link, coordinator, signer } = cast;
  let dropStart = 0;
  return () => {
    for (let i = 0; i < crashed.length; i++) {
      if (crashedAt[i] === undefined && crashed[i]!.leases.size > 0) {
        crashedAt[i] = world.completed.size;
        world.decision('agent crashed', { agent: `crasher-${i + 1}`, holding: crashed[i]!.leases.size });
        crashed[i]!.halt();
      }
    }
    const done = world.settledCount;
    if (!link.down && link.drops === 0 && done >= Math.ceil(o.tasks * 0.2)) {
      link.down = true;
      link.drops++;
      dropStart = Date.now();
      // On tcp the sockets to the coordinator really close (and reconnect after).
      if (world.config.transport === 'tcp') (cast.victim() as TcpTransport).removePeer(coordinator.id);
      world.decision('connection dropped', { agent: 'worker-1', transport: world.config.transport });
    } else if (link.down && Date.now() - dropStart > 300) {
      link.down = false;
      if (world.config.transport === 'tcp') world.reconnect();
      world.decision('connection restored', { agent: 'worker-1', failedSends: link.failedSends });
    }
    const forgedSeen = signer.sent >= CHAOS_FORGED_MESSAGES && world.rejectionsOf(signer.id) >= signer.sent;
    return coordinator.done && !link.down && forgedSeen && done >= o.tasks;
  };
}

/** What the chaos run did, and whether every fault happened and was survived. */
function chaosResult(world: ScenarioWorld, o: ScenarioRunOptions, cast: ChaosCast, crashedAt: number[]): ScenarioResult {
  const { link, signer, crashed } = cast;
  const tasks = [...world.completed.values()];
  const signerRow = world.rows().find((r) => r.id === signer.id);
  const t = world.totals();
  // With no work there is nothing for the faults to act on.
  const none = o.tasks === 0;
  return workResult(world, o, {
    details: {
      crashed: crashedAt.length,
      slow_worker_tasks: world.rows().find((r) => r.name === 'slow')?.tasks_done ?? 0,
      connection_drops: link.drops,
      sends_failed_while_dropped: link.failedSends,
      forged_messages_sent: signer.sent,
      wrong_key_rejections: signerRow?.rejected_messages ?? {},
      tool_timeouts: t.outcomes_by_status.timeout ?? 0,
    },
    checks: {
      retries: none || t.retries > 0,
      lease_expiries: none || t.lease_expiries > 0,
      every_task_completed_or_dead_lettered: world.settledCount === o.tasks && tasks.every((x) => !world.deadLettered.has(x.id)),
      dead_letters: o.tasks < 7 || t.dead_letters > 0,
      wrong_key_rejected: (signerRow?.rejected_messages.bad_signature ?? 0) > 0,
      tool_timeouts: none || (t.outcomes_by_status.timeout ?? 0) > 0,
      crashes_happened: none || crashedAt.length === crashed.length,
    },
  });
}
