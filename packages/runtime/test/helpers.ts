// Test agents and a small harness for runtime scenarios: a coordinator that submits tasks,
// workers that claim, compute and report them.
import { afterEach } from 'vitest';
import { Agent, Decisions, Identity, createMessage, signMessage, type Decision, type Message, type Task, type TaskInit, type WireValue } from '@converge/core';
import { LocalTransport, type LocalHub } from '@converge/network';

/** Submits `total` tasks in batches of `batch`, one batch per turn. */
export class SubmitterAgent extends Agent {
  submitted = 0;
  constructor(
    readonly poolId: string,
    readonly total: number,
    readonly batch = 500,
  ) {
    super({ identity: Identity.generate() });
  }
  // Parameters declared (and unused) so that tests can wrap `decide` and see the messages.
  decide(_messages: readonly Message[], _tasks: readonly Task[] = []): Decision[] {
    const out: Decision[] = [];
    if (this.submitted === 0) out.push(Decisions.joinPool(this.poolId));
    while (this.submitted < this.total && out.length < this.batch) {
      const i = this.submitted++;
      const task: TaskInit = { id: `t-${i}`, objective: 'square', inputs: { n: i }, poolId: this.poolId, constraints: { claimTtlMs: 500 } };
      out.push(Decisions.submitTask(task));
    }
    return out;
  }
}

/** Claims tasks on offer, computes n², reports; optionally throws in every `throwEvery`-th decide. */
export class SquareWorker extends Agent {
  calls = 0;
  reported = 0;
  constructor(
    readonly poolId: string,
    readonly options: { throwEvery?: number; maxPerTurn?: number; notify?: string; holdClaims?: boolean } = {},
  ) {
    super({ identity: Identity.generate(), capabilities: ['square'] });
  }
  decide(messages: readonly Message[], tasks: readonly Task[]): Decision[] {
    this.calls++;
    if (this.options.throwEvery && this.calls % this.options.throwEvery === 0) throw new Error(`decide failure #${this.calls}`);
    const out: Decision[] = [];
    if (this.calls === 1) out.push(Decisions.joinPool(this.poolId));
    // With holdClaims the worker claims and never reports, as a hung worker would.
    for (const t of tasks.slice(0, this.options.maxPerTurn ?? 16)) {
      out.push(Decisions.claimTask(t.id));
      if (this.options.holdClaims) this.held.push(t);
      else this.#report(out, t);
    }
    return out;
  }
  /** Tasks claimed and not reported (holdClaims). */
  held: Task[] = [];
  #report(out: Decision[], t: Task): void {
    const n = (t.inputs as { n: number }).n;
    out.push(Decisions.reportTask(t.id, n * n));
    if (this.options.notify) out.push(Decisions.sendMessage(this.options.notify, { done: t.id }, { taskId: t.id }));
  }
}

/** Resolves when `check()` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A list whose members are stopped after every test (registers the `afterEach`: call it at a
 * test file's top level). Two lists are stopped in reverse order of their calls.
 */
export function stoppedAfterEach<T extends { stop(): Promise<unknown> }>(): T[] {
  const list: T[] = [];
  afterEach(async () => {
    await Promise.all(list.splice(0).map((x) => x.stop()));
  });
  return list;
}

/**
 * Starts a peer with its own identity on `hub` (pushed to `peers`, so stopped after the test) and
 * returns a function that sends it a signed direct message to `recipient` with the given payload.
 */
export async function startPeer(hub: LocalHub, recipient: string, peers: LocalTransport[]): Promise<(payload: WireValue) => Promise<void>> {
  const id = Identity.generate();
  const peer = new LocalTransport(id.fingerprint, { hub });
  peers.push(peer);
  await peer.start();
  return (payload) => peer.send(signMessage(createMessage({ recipient, payload }), id));
}
