// Issue 16 item 3 through decisions: members vote with `Vote` decisions on a pool question, and
// the result is an outcome to every voter and to the asker (the deciding voter through its
// vote's outcome, the others in a later turn).
import { describe, expect, it } from 'vitest';
import { Agent, Decisions, Identity, type DecideContext, type Decision, type Message, type Outcome, type Task } from '@converge/core';
import { PoolManager, poolQuestionId } from '@converge/coordination';
import { TrustModel, governanceFromSpec } from '@converge/policy';
import { MemoryStore } from '@converge/extensions/storage';
import { DiscoveryService } from '@converge/network';
import { AgentRuntime, questionOutcome } from '@converge/runtime';
import { waitUntil, stoppedAfterEach } from './helpers.js';

const running = stoppedAfterEach<AgentRuntime>();

/** Decides `first` in its first turn, nothing after; keeps every outcome it hears. */
class OneShot extends Agent {
  readonly heard: Outcome[] = [];
  #turn = 0;
  constructor(readonly first: (self: OneShot) => Decision[]) {
    super({ identity: Identity.generate() });
  }
  decide(_m: readonly Message[], _t: readonly Task[], context: DecideContext): Decision[] {
    this.heard.push(...context.outcomes);
    return this.#turn++ === 0 ? this.first(this) : [];
  }
}

async function run(agent: Agent, pm: PoolManager): Promise<AgentRuntime> {
  const rt = new AgentRuntime({ agent, poolManager: pm, tickIntervalMs: 1e9, sweepIntervalMs: 0 });
  running.push(rt);
  await rt.start();
  return rt;
}

describe('pool governance through decisions', () => {
  it("a join put to the vote: each Vote decision's outcome carries the question; the result reaches every voter and the asker", async () => {
    const trust = new TrustModel();
    const pm = new PoolManager({ store: new MemoryStore(), trust, governance: (spec) => governanceFromSpec(spec, { trust }) });
    const poolId = 'guild';
    const applicant = new OneShot(() => [Decisions.joinPool(poolId)]);
    const q = poolQuestionId('admit', poolId, applicant.id);
    const a = new OneShot(() => [Decisions.vote(q, 'yes')]);
    const b = new OneShot(() => [Decisions.vote(q, 'yes')]);
    const c = new OneShot(() => []);
    await pm.createPool({ id: poolId, agents: [a.id, b.id, c.id], admission: { type: 'ask' }, governance: { type: 'democratic', quorum: 0.5 } });

    await run(applicant, pm);
    await waitUntil(() => applicant.heard.length === 1);
    expect(applicant.heard[0]).toMatchObject({ status: 'refused', error: { code: 'ERR_ADMISSION_PENDING' } });

    await run(a, pm);
    await waitUntil(() => a.heard.length === 1);
    expect(a.heard[0]).toMatchObject({ status: 'ok', result: { id: q, state: 'open' } }); // below quorum

    await run(b, pm);
    await waitUntil(() => b.heard.length === 1 && a.heard.length === 2 && applicant.heard.length === 2);
    expect(b.heard[0]).toMatchObject({ status: 'ok', result: { state: 'approved', decidedBy: b.id } });
    expect(a.heard[1]).toMatchObject({ decision: { type: 'Vote', ballotId: q, choice: 'yes' }, status: 'ok', result: { state: 'approved' } });
    expect(applicant.heard[1]).toMatchObject({ decision: { type: 'JoinPool', poolId }, status: 'ok', result: { state: 'approved' } });
    expect((await pm.getPool(poolId)).agents).toContain(applicant.id);
    expect(b.heard).toHaveLength(1); // the deciding voter is not told twice
  });

  it('a refused or expired question is a refused or timeout outcome; bystanders hear nothing', () => {
    const base = {
      id: 'admit:p:x',
      kind: 'admit',
      poolId: 'p',
      subject: 'x',
      proposer: 'x',
      reason: 'vetoed by a',
      votes: [{ voter: 'a', approve: false, veto: true }],
    };
    expect(questionOutcome({ ...base, state: 'rejected', decidedBy: 'a' }, 'a')).toBeUndefined();
    expect(questionOutcome({ ...base, state: 'rejected', decidedBy: 'a' }, 'x')).toMatchObject({
      status: 'refused',
      decision: { type: 'JoinPool', poolId: 'p' },
    });
    expect(questionOutcome({ ...base, state: 'expired' }, 'a')).toMatchObject({ status: 'timeout', decision: { type: 'Vote', choice: 'veto' } });
    expect(questionOutcome({ ...base, state: 'rejected' }, 'bystander')).toBeUndefined();
  });

  it('the TrustModel a PoolManager checks minTrust with also filters discovery by minTrust', async () => {
    const trust = new TrustModel();
    const good = Identity.generate();
    const bad = Identity.generate();
    await trust.recordOutcome(bad.fingerprint, 'failure', 5);
    const discovery = new DiscoveryService({ trust });
    await discovery.register({ id: good.fingerprint, publicKey: good });
    await discovery.register({ id: bad.fingerprint, publicKey: bad });
    expect((await discovery.query({ minTrust: 0.4 })).map((d) => d.id)).toEqual([good.fingerprint]);
  });
});
