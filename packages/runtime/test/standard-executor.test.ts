import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  ConflictError,
  Decisions,
  Identity,
  LimitExceededError,
  PolicyError,
  TimeoutError,
  ToolRegistry,
  ValidationError,
  verifyMessage,
  type Decision,
  type Message,
  type TaskLease,
} from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { BallotBox, BiddingProtocol, DelegationProtocol, NegotiationProtocol, PoolManager, TaskManager, type NegotiationSession } from '@converge/coordination';
import { ActionPolicy, ResourceLimits } from '@converge/policy';
import { MetricsCollector } from '@converge/observability';
import { MemoryStore } from '@converge/extensions/storage';
import {
  NotConfiguredError,
  SkippedDecisionError,
  StandardExecutor,
  UnknownDecisionError,
  type BallotsPort,
  type BiddingPort,
  type DelegationPort,
  type ExecutionContext,
  type ExecutorLimits,
  type NegotiationPort,
  type PoolManagerPort,
  type StandardExecutorOptions,
  type TaskManagerPort,
} from '@converge/runtime';

// The real classes satisfy the ports the executor is typed against (checked by tsc).
const _ports: [TaskManagerPort, PoolManagerPort, NegotiationPort, BiddingPort, BallotsPort, DelegationPort, ExecutorLimits] = [
  new TaskManager({ store: new MemoryStore() }),
  new PoolManager({ store: new MemoryStore() }),
  new NegotiationProtocol(),
  new BiddingProtocol(),
  new BallotBox(),
  new DelegationProtocol(),
  new ResourceLimits(),
];
void _ports;

const transports: LocalTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.stop()));
});

async function setup(extra: Partial<StandardExecutorOptions> = {}) {
  const store = new MemoryStore();
  const hub = new LocalHub();
  const alice = Identity.generate();
  const bob = Identity.generate();
  const aliceT = new LocalTransport(alice.fingerprint, { hub });
  const bobT = new LocalTransport(bob.fingerprint, { hub });
  transports.push(aliceT, bobT);
  await aliceT.start();
  await bobT.start();
  const taskManager = new TaskManager({ store, defaults: { retryBaseMs: 0 } });
  const poolManager = new PoolManager({ store });
  const negotiation = new NegotiationProtocol();
  const bidding = new BiddingProtocol();
  const ballots = new BallotBox();
  const delegation = new DelegationProtocol({ roots: { [alice.fingerprint]: ['deploy', 'read'] } });
  const metrics = new MetricsCollector();
  const services = { transport: aliceT, taskManager, poolManager, negotiation, bidding, ballots, delegation, metrics };
  const executor = new StandardExecutor({ ...services, ...extra });
  const bobExecutor = new StandardExecutor({ ...services, transport: bobT });
  const ctx = (id: Identity = alice, signal?: AbortSignal): ExecutionContext => ({
    agentId: id.fingerprint,
    identity: id,
    leases: new Map<string, TaskLease>(),
    signal,
  });
  return { ...services, alice, bob, bobT, executor, bobExecutor, ctx };
}

const decisionsTotal = (m: MetricsCollector, type: string, outcome: string) =>
  m.counter('converge_decisions_total', 'Decisions executed, by type and outcome', ['type', 'outcome']).get({ type, outcome });

describe('StandardExecutor: core decision types through the real coordination classes', () => {
  it('SendMessage signs with the agent identity and sends through the transport', async () => {
    const s = await setup();
    const [r] = await s.executor.execute([Decisions.sendMessage(s.bob.fingerprint, { hello: 1 }, { taskId: 't-1' })], s.ctx());
    expect(r!.ok).toBe(true);
    const got = (await s.bobT.receive({ timeoutMs: 1_000 })) as Message;
    expect(got.sender).toBe(s.alice.fingerprint);
    expect(got.payload).toEqual({ hello: 1 });
    expect(got.taskId).toBe('t-1');
    expect(verifyMessage(got, s.alice.publicKey)).toBe(true);
    expect(decisionsTotal(s.metrics, 'SendMessage', 'ok')).toBe(1);
  });

  it('CreatePool creates and joins; JoinPool and LeavePool change membership', async () => {
    const s = await setup();
    const results = await s.executor.execute([Decisions.createPool({ id: 'p1' }), Decisions.joinPool('p1')], s.ctx(s.alice));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect((await s.poolManager.getPoolsForAgent(s.alice.fingerprint)).map((p) => p.id)).toEqual(['p1']);
    await s.executor.execute([Decisions.joinPool('p1')], s.ctx(s.bob));
    expect((await s.poolManager.getPool('p1')).agents).toContain(s.bob.fingerprint);
    await s.executor.execute([Decisions.leavePool('p1')], s.ctx(s.bob));
    expect((await s.poolManager.getPool('p1')).agents).not.toContain(s.bob.fingerprint);
  });

  it('SubmitTask, ClaimTask and ReportTask complete a task with the held lease (then dropped)', async () => {
    const s = await setup();
    const ctx = s.ctx();
    const results = await s.executor.execute(
      [Decisions.submitTask({ id: 't1', objective: 'x' }), Decisions.claimTask('t1'), Decisions.reportTask('t1', 42)],
      ctx,
    );
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    const t = await s.taskManager.getTask('t1');
    expect([t.state, t.result, t.assignedTo]).toEqual(['completed', 42, s.alice.fingerprint]);
    expect(ctx.leases.size).toBe(0);
  });

  it('FailTask sends a claimed task back to pending (a retry), CancelTask cancels one', async () => {
    const s = await setup();
    await s.taskManager.submit({ id: 'f1', objective: 'x' });
    // Alice submitted c1, so she may cancel it (anyone else: PolicyError, see coordination's task-access tests).
    await s.taskManager.submit({ id: 'c1', objective: 'x' }, { by: s.alice.fingerprint });
    const ctx = s.ctx();
    const results = await s.executor.execute([Decisions.claimTask('f1'), Decisions.failTask('f1', 'boom'), Decisions.cancelTask('c1')], ctx);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    const f = await s.taskManager.getTask('f1');
    expect([f.state, f.failureReason, f.failures]).toEqual(['pending', 'boom', 1]);
    expect((await s.taskManager.getTask('c1')).state).toBe('cancelled');
    expect(ctx.leases.size).toBe(0);
  });

  it('SubmitBid bids in a BiddingProtocol auction as the agent', async () => {
    const s = await setup();
    s.bidding.openAuction({ id: 'a1', type: 'first-price' });
    await s.executor.execute([Decisions.submitBid('a1', 5)], s.ctx(s.alice));
    await s.bobExecutor.execute([Decisions.submitBid('a1', 7)], s.ctx(s.bob));
    const result = s.bidding.resolve('a1');
    expect(result).toMatchObject({ winner: s.bob.fingerprint, price: 7 });
    expect(result.bids.map((b) => b.agentId)).toEqual([s.alice.fingerprint, s.bob.fingerprint]);
  });

  it("Vote casts the agent's vote in a BallotBox ballot; a second vote is a conflict, counted", async () => {
    const s = await setup();
    s.ballots.open({ id: 'b1', choices: ['yes', 'no'] });
    await s.executor.execute([Decisions.vote('b1', 'yes')], s.ctx(s.alice));
    await s.bobExecutor.execute([Decisions.vote('b1', 'yes')], s.ctx(s.bob));
    const [again] = await s.executor.execute([Decisions.vote('b1', 'no')], s.ctx(s.alice));
    expect(again).toMatchObject({ ok: false, outcome: 'conflict' });
    expect(s.ballots.close('b1')).toMatchObject({ outcome: 'winner', winner: 'yes' });
    expect(decisionsTotal(s.metrics, 'Vote', 'conflict')).toBe(1);
  });

  it('Propose opens and counters a NegotiationProtocol session; AcceptProposal and RejectProposal end it', async () => {
    const s = await setup();
    const [opened] = await s.executor.execute([Decisions.propose([s.bob.fingerprint], { price: 10 })], s.ctx(s.alice));
    const session = (opened as { value: NegotiationSession }).value;
    expect(session.state).toBe('proposed');
    await s.bobExecutor.execute([Decisions.propose([], { price: 8 }, session.id)], s.ctx(s.bob));
    expect(s.negotiation.getSession(session.id)).toMatchObject({ state: 'countered', current: { by: s.bob.fingerprint } });
    // Accepting one's own offer is refused by the state machine (a PolicyError would be 'refused'; this is a conflict).
    const [own] = await s.bobExecutor.execute([Decisions.acceptProposal(session.id)], s.ctx(s.bob));
    expect(own).toMatchObject({ ok: false, outcome: 'conflict' });
    await s.executor.execute([Decisions.acceptProposal(session.id)], s.ctx(s.alice));
    expect(s.negotiation.getSession(session.id).state).toBe('accepted');

    const [second] = await s.executor.execute([Decisions.propose([s.bob.fingerprint], { price: 1 })], s.ctx(s.alice));
    const id = (second as { value: NegotiationSession }).value.id;
    await s.bobExecutor.execute([Decisions.rejectProposal(id, 'too low')], s.ctx(s.bob));
    expect(s.negotiation.getSession(id)).toMatchObject({ state: 'rejected', reason: 'too low', rejectedBy: s.bob.fingerprint });
  });

  it('Delegate grants a scope through DelegationProtocol; RevokeDelegation takes it back', async () => {
    const s = await setup();
    const [d] = await s.executor.execute([Decisions.delegate(s.bob.fingerprint, ['deploy'])], s.ctx(s.alice));
    const id = (d as { value: { id: string } }).value.id;
    expect(s.delegation.isAllowed(s.bob.fingerprint, 'deploy')).toBe(true);
    // Only the delegator may revoke: bob's attempt is refused by policy.
    const [byBob] = await s.bobExecutor.execute([Decisions.revokeDelegation(id)], s.ctx(s.bob));
    expect(byBob).toMatchObject({ ok: false, outcome: 'refused' });
    await s.executor.execute([Decisions.revokeDelegation(id)], s.ctx(s.alice));
    expect(s.delegation.isAllowed(s.bob.fingerprint, 'deploy')).toBe(false);
  });

  it('a decision needing a service the executor lacks is an error (NotConfiguredError), the batch goes on', async () => {
    const hub = new LocalHub();
    const me = Identity.generate();
    const t = new LocalTransport(me.fingerprint, { hub });
    transports.push(t);
    await t.start();
    const ex = new StandardExecutor({ transport: t });
    const results = await ex.execute([Decisions.vote('b', 'x'), Decisions.sendMessage(null, 'hi')], {
      agentId: me.fingerprint,
      identity: me,
      leases: new Map(),
    });
    expect(results[0]).toMatchObject({ ok: false, outcome: 'error' });
    expect((results[0] as { error: Error }).error).toBeInstanceOf(NotConfiguredError);
    expect(results[1]!.ok).toBe(true);
  });
});

describe('StandardExecutor: failures are counted and contained', () => {
  it('a lost claim skips the later decisions of the batch on that task, not the others', async () => {
    const s = await setup();
    await s.taskManager.submit({ id: 'won-by-bob', objective: 'x' });
    await s.taskManager.claim(s.bob.fingerprint, 'won-by-bob');
    const results = await s.executor.execute(
      [Decisions.claimTask('won-by-bob'), Decisions.reportTask('won-by-bob', 1), Decisions.sendMessage(s.bob.fingerprint, { after: true })],
      s.ctx(),
    );
    expect(results.map((r) => (r.ok ? 'ok' : r.outcome))).toEqual(['conflict', 'skipped', 'ok']);
    expect((results[0] as { error: Error }).error).toBeInstanceOf(ConflictError);
    expect((results[1] as { error: Error }).error).toBeInstanceOf(SkippedDecisionError);
    expect((await s.taskManager.getTask('won-by-bob')).state).toBe('assigned');
    expect(s.executor.stats()).toMatchObject({ 'ClaimTask:conflict': 1, 'ReportTask:skipped': 1, 'SendMessage:ok': 1 });
  });

  it('every decision passes the safety policy first; a refusal is counted and nothing happens', async () => {
    const policy = new ActionPolicy({ allow: ['SendMessage'] });
    const s = await setup({ policy });
    await s.taskManager.submit({ id: 'p1', objective: 'x' });
    const [claim, send] = await s.executor.execute([Decisions.claimTask('p1'), Decisions.sendMessage(s.bob.fingerprint, 1)], s.ctx());
    expect(claim).toMatchObject({ ok: false, outcome: 'refused' });
    expect((claim as { error: Error }).error).toBeInstanceOf(PolicyError);
    expect(send!.ok).toBe(true);
    expect((await s.taskManager.getTask('p1')).state).toBe('pending');
    expect(policy.stats()).toEqual({ checked: 2, refused: 1 });
    expect(decisionsTotal(s.metrics, 'ClaimTask', 'refused')).toBe(1);
  });

  it('an unknown decision type is logged and counted under one bounded label', async () => {
    const s = await setup();
    const results = await s.executor.execute([{ type: 'Dance' } as Decision, { type: 'Sing' } as Decision, null as unknown as Decision], s.ctx());
    expect(results.map((r) => (r.ok ? 'ok' : r.outcome))).toEqual(['unknown', 'unknown', 'error']);
    expect((results[0] as { error: Error }).error).toBeInstanceOf(UnknownDecisionError);
    expect(decisionsTotal(s.metrics, '_unknown', 'unknown')).toBe(2);
    expect(decisionsTotal(s.metrics, '_invalid', 'error')).toBe(1);
  });

  it('runs custom types through registered handlers; core types cannot be replaced', async () => {
    const s = await setup();
    const seen: string[] = [];
    s.executor.register('Dance', (d, ctx) => {
      seen.push(`${ctx.agentId}:${(d as { step?: string }).step}`);
      return 'danced';
    });
    const [r] = await s.executor.execute([{ type: 'Dance', step: 'waltz' } as Decision], s.ctx());
    expect(r).toMatchObject({ ok: true, value: 'danced' });
    expect(seen).toEqual([`${s.alice.fingerprint}:waltz`]);
    expect(decisionsTotal(s.metrics, 'Dance', 'ok')).toBe(1);
    expect(() => s.executor.register('SendMessage', () => undefined)).toThrow(ValidationError);
  });

  it('refuses a SendMessage past the ResourceLimits message rate, counted on both sides', async () => {
    const limits = new ResourceLimits({ maxMessagesPerSecond: 1, messageBurst: 1, clock: () => 0 });
    const s = await setup({ limits });
    const results = await s.executor.execute([Decisions.sendMessage(s.bob.fingerprint, 1), Decisions.sendMessage(s.bob.fingerprint, 2)], s.ctx());
    expect(results.map((r) => (r.ok ? 'ok' : r.outcome))).toEqual(['ok', 'refused']);
    expect((results[1] as { error: Error }).error).toBeInstanceOf(LimitExceededError);
    expect(limits.stats().messageRefusals).toBe(1);
    expect(s.bobT.queued).toBe(1);
  });
});

describe('StandardExecutor: InvokeTool', () => {
  function tools(onRun: (signal: AbortSignal) => unknown) {
    return new ToolRegistry([
      { name: 'add', run: (p) => (p.a as number) + (p.b as number) },
      { name: 'slow', run: (_p, { signal }) => onRun(signal) as never },
    ]);
  }
  const hang = (signal: AbortSignal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

  it('runs an allowlisted tool and refuses one not on the allowlist (empty allows none)', async () => {
    const s = await setup({ tools: tools(() => 0), toolAllowlist: ['add'] });
    const [ok, refused] = await s.executor.execute([Decisions.invokeTool('add', { a: 2, b: 3 }), Decisions.invokeTool('slow')], s.ctx());
    expect(ok).toMatchObject({ ok: true, value: 5 });
    expect(refused).toMatchObject({ ok: false, outcome: 'refused' });
    const none = await setup({ tools: tools(() => 0) });
    const [r] = await none.executor.execute([Decisions.invokeTool('add', { a: 1, b: 1 })], none.ctx());
    expect(r).toMatchObject({ ok: false, outcome: 'refused' });
  });

  it('times out a tool call and aborts the signal it was given', async () => {
    let toolSignal: AbortSignal | undefined;
    const s = await setup({ tools: tools((sig) => ((toolSignal = sig), hang(sig))), toolAllowlist: ['slow'], toolTimeoutMs: 30_000 });
    const [r] = await s.executor.execute([Decisions.invokeTool('slow', {}, 5)], s.ctx());
    expect(r).toMatchObject({ ok: false, outcome: 'error' });
    expect((r as { error: Error }).error).toBeInstanceOf(TimeoutError);
    expect(toolSignal?.aborted).toBe(true);
  });

  it('aborts a tool call when the context signal aborts (the runtime stops), even if the tool ignores it', async () => {
    let toolSignal: AbortSignal | undefined;
    const s = await setup({ tools: tools((sig) => ((toolSignal = sig), new Promise(() => undefined))), toolAllowlist: ['slow'] });
    const ac = new AbortController();
    const running = s.executor.execute([Decisions.invokeTool('slow'), Decisions.sendMessage(s.bob.fingerprint, 'after')], s.ctx(s.alice, ac.signal));
    setImmediate(() => ac.abort());
    const [r, after] = await running;
    expect((r as { error: Error }).error).toBeInstanceOf(AbortError);
    expect(toolSignal?.aborted).toBe(true);
    // The rest of the batch is skipped once the signal is aborted.
    expect(after).toMatchObject({ ok: false, outcome: 'skipped' });
  });

  it('holds tool calls to ResourceLimits.maxConcurrentToolCalls', async () => {
    const limits = new ResourceLimits({ maxConcurrentToolCalls: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const s = await setup({
      limits,
      toolAllowlist: ['slow'],
      tools: tools(async () => {
        most = Math.max(most, ++running);
        await gate;
        running--;
        return 'done';
      }),
    });
    const calls = [s.executor.execute([Decisions.invokeTool('slow')], s.ctx()), s.executor.execute([Decisions.invokeTool('slow')], s.ctx())];
    await new Promise((r) => setTimeout(r, 10));
    expect(limits.stats()).toMatchObject({ activeToolCalls: 1, waitingToolCalls: 1 });
    release();
    const results = (await Promise.all(calls)).flat();
    expect(results.every((r) => r.ok)).toBe(true);
    expect(most).toBe(1);
    expect(limits.stats().activeToolCalls).toBe(0);
  });
});
