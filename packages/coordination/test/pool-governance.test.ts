// Issue 16 item 3: a pool's governance decides its pool-level questions (admitting an agent
// when admission says "ask", removing a member, cancelling another's task), for each of the
// five models of @converge/policy.
import { describe, expect, it } from 'vitest';
import { ConflictError, LimitExceededError, NotFoundError, PolicyError, ValidationError, type PolicySpec } from '@converge/core';
import { MemoryStore } from '@converge/extensions/storage';
import { TrustModel, governanceFromSpec } from '@converge/policy';
import { AdmissionPendingError, NoGovernanceError, PoolManager, TaskManager, poolQuestionId, type PoolQuestion } from '../src/index.js';

function setup(extra: { clock?: () => number; maxOpenQuestions?: number; questionTimeoutMs?: number } = {}) {
  const store = new MemoryStore();
  const trust = new TrustModel();
  const pm = new PoolManager({ store, trust, governance: (spec) => governanceFromSpec(spec, { trust }), ...extra });
  return { store, trust, pm };
}

/** A pool of members a, b, c whose joins are put to `governance`. */
async function askPool(pm: PoolManager, governance: PolicySpec, id = 'p'): Promise<void> {
  await pm.createPool({ id, agents: ['a', 'b', 'c'], admission: { type: 'ask' }, governance });
}

/** `agent` asks to join; the join is pending and names its question. */
async function ask(pm: PoolManager, agent: string, poolId = 'p'): Promise<string> {
  const err = await pm.joinPool(agent, poolId).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdmissionPendingError);
  expect((err as AdmissionPendingError).questionId).toBe(poolQuestionId('admit', poolId, agent));
  expect((await pm.getPool(poolId)).agents).not.toContain(agent);
  return (err as AdmissionPendingError).questionId;
}

async function members(pm: PoolManager, poolId = 'p'): Promise<string[]> {
  return (await pm.getPool(poolId)).agents;
}

describe('a pool under each governance model admits or refuses as the model says', () => {
  it('democratic (quorum 1/2 of 3 members): 2 of 3 for admits; 2 against refuses', async () => {
    const { pm } = setup();
    await askPool(pm, { type: 'democratic', quorum: 0.5 });
    const q = await ask(pm, 'x');
    expect((await pm.vote(q, 'a', 'yes')).state).toBe('open'); // below quorum
    expect((await pm.vote(q, 'b', 'no')).state).toBe('open'); // c could still carry it
    expect((await pm.vote(q, 'c', 'yes')).state).toBe('approved');
    expect(await members(pm)).toContain('x');

    const r = await ask(pm, 'y');
    await pm.vote(r, 'a', 'no');
    const closed = await pm.vote(r, 'b', 'no'); // one yes more could not pass: decided now
    expect(closed.state).toBe('rejected');
    expect(await members(pm)).not.toContain('y');
    expect(pm.stats()).toMatchObject({ asked: 2, questions: { opened: 2, approved: 1, rejected: 1, votes: 5 } });
  });

  it('dictatorial: only the dictator decides', async () => {
    const { pm } = setup();
    await askPool(pm, { type: 'dictatorial', dictator: 'a' });
    const q = await ask(pm, 'x');
    expect((await pm.vote(q, 'b', 'yes')).state).toBe('open');
    expect((await pm.vote(q, 'c', 'yes')).state).toBe('open');
    expect((await pm.vote(q, 'a', 'no')).state).toBe('rejected');
    expect(await members(pm)).not.toContain('x');

    const r = await ask(pm, 'y');
    await pm.vote(r, 'b', 'no');
    expect((await pm.vote(r, 'a', 'yes')).state).toBe('approved');
    expect(await members(pm)).toContain('y');
  });

  it('bicameral: both chambers must approve', async () => {
    const { pm } = setup();
    await askPool(pm, { type: 'bicameral', chambers: { upper: ['a'], lower: ['b', 'c'] } });
    const q = await ask(pm, 'x');
    expect((await pm.vote(q, 'b', 'yes')).state).toBe('open'); // the upper chamber has not voted
    expect((await pm.vote(q, 'a', 'yes')).state).toBe('approved');
    expect(await members(pm)).toContain('x');

    const r = await ask(pm, 'y');
    expect((await pm.vote(r, 'a', 'no')).state).toBe('rejected'); // the upper chamber can no longer approve
    expect(await members(pm)).not.toContain('y');
  });

  it("veto: a holder's veto refuses whatever the others say; without one the base decides", async () => {
    const { pm } = setup();
    await askPool(pm, { type: 'veto', vetoHolders: ['a'], base: { type: 'democratic', quorum: 1 } });
    const q = await ask(pm, 'x');
    await pm.vote(q, 'b', 'yes');
    await pm.vote(q, 'c', 'yes');
    expect((await pm.vote(q, 'a', 'veto')).state).toBe('rejected');
    expect(await members(pm)).not.toContain('x');

    const r = await ask(pm, 'y');
    await pm.vote(r, 'b', 'veto'); // b holds no veto: an ordinary vote against
    await pm.vote(r, 'a', 'yes');
    expect((await pm.vote(r, 'c', 'yes')).state).toBe('approved');
    expect(await members(pm)).toContain('y');
  });

  it('empirical: votes weigh what their voters are trusted', async () => {
    const { pm, trust } = setup();
    for (let i = 0; i < 20; i++) {
      await trust.recordOutcome('a', 'success');
      await trust.recordOutcome('b', 'failure');
    }
    await askPool(pm, { type: 'empirical' });
    const q = await ask(pm, 'x');
    expect((await pm.vote(q, 'b', 'no')).state).toBe('open');
    expect((await pm.vote(q, 'a', 'yes')).state).toBe('approved'); // a's trust outweighs b's
    expect(await members(pm)).toContain('x');

    const r = await ask(pm, 'y');
    // a (trusted) against: b, c and the new member x could still outweigh it together...
    expect((await pm.vote(r, 'a', 'no')).state).toBe('open');
    // ...but not once c is against too: b and x weigh less than a and c.
    expect((await pm.vote(r, 'c', 'no')).state).toBe('rejected');
    expect(await members(pm)).not.toContain('y');
  });
});

describe('pool questions: votes, bounds, expiry', () => {
  it('refuses bad votes with typed errors and counts them', async () => {
    const { pm } = setup();
    await askPool(pm, { type: 'democratic', quorum: 1 });
    const q = await ask(pm, 'x');
    await expect(pm.vote(q, 'mallory', 'yes')).rejects.toBeInstanceOf(PolicyError);
    await expect(pm.vote(q, 'a', 'maybe')).rejects.toBeInstanceOf(ValidationError);
    await pm.vote(q, 'a', 'yes');
    await expect(pm.vote(q, 'a', 'yes')).rejects.toBeInstanceOf(ConflictError);
    await expect(pm.vote('admit:p:nobody', 'a', 'yes')).rejects.toBeInstanceOf(NotFoundError);
    await pm.vote(q, 'b', 'no');
    await expect(pm.vote(q, 'c', 'no')).resolves.toMatchObject({ state: 'rejected' });
    await expect(pm.vote(q, 'c', 'yes')).rejects.toBeInstanceOf(ConflictError);
    expect(pm.stats().questions.votesRefused).toBe(5);
  });

  it('an "ask" pool without governance refuses the join (NoGovernanceError), never admits it', async () => {
    const { pm } = setup();
    await pm.createPool({ id: 'p', agents: ['a'], admission: { type: 'ask' } });
    await expect(pm.joinPool('x', 'p')).rejects.toBeInstanceOf(NoGovernanceError);
    const bare = new PoolManager({ store: new MemoryStore() });
    await bare.createPool({ id: 'g', agents: ['a'], admission: { type: 'ask' }, governance: { type: 'democratic' } });
    await expect(bare.joinPool('x', 'g')).rejects.toBeInstanceOf(NoGovernanceError);
    expect((await bare.getPool('g')).agents).toEqual(['a']);
    expect(bare.stats().refused).toBe(1);
  });

  it('a custom admission policy may answer "ask": that join goes to the vote, others pass', async () => {
    const store = new MemoryStore();
    const trust = new TrustModel();
    const pm = new PoolManager({
      store,
      admission: () => ({ admit: (_agent, context) => (context?.token === 'ok' ? true : 'ask') }),
      governance: (spec) => governanceFromSpec(spec, { trust }),
    });
    await pm.createPool({ id: 'p', agents: ['a'], admission: { type: 'token-or-ask' }, governance: { type: 'dictatorial', dictator: 'a' } });
    expect((await pm.joinPool('t', 'p', { token: 'ok' })).agents).toEqual(['a', 't']);
    const q = await ask(pm, 'x');
    expect((await pm.vote(q, 'a', 'yes')).state).toBe('approved');
    expect(await members(pm)).toEqual(['a', 't', 'x']);
  });

  it('open questions are capped (LimitExceededError, counted); the same join asked twice is one question', async () => {
    const { pm } = setup({ maxOpenQuestions: 2 });
    await askPool(pm, { type: 'democratic', quorum: 1 });
    const q = await ask(pm, 'x');
    expect(await ask(pm, 'x')).toBe(q);
    await ask(pm, 'y');
    await expect(pm.joinPool('z', 'p')).rejects.toBeInstanceOf(LimitExceededError);
    expect(pm.stats().questions).toMatchObject({ opened: 2, refusedFull: 1 });
    expect(pm.openQuestions('p').map((o) => o.subject)).toEqual(['x', 'y']);
  });

  it('an undecided question expires (not approved) and its close is announced', async () => {
    const now = { t: 1_000 };
    const { pm } = setup({ clock: () => now.t, questionTimeoutMs: 5_000 });
    const decided: PoolQuestion[] = [];
    pm.on('decided', (q) => decided.push(q));
    await askPool(pm, { type: 'democratic', quorum: 1 });
    const q = await ask(pm, 'x');
    await pm.vote(q, 'a', 'yes');
    now.t += 5_000;
    await expect(pm.vote(q, 'b', 'yes')).rejects.toBeInstanceOf(ConflictError);
    expect(pm.question(q)).toMatchObject({ state: 'expired' });
    expect(decided.map((d) => [d.id, d.state])).toEqual([[q, 'expired']]);
    expect(await members(pm)).not.toContain('x');
  });

  it('removing a member is put to the vote; approval removes it', async () => {
    const { pm } = setup();
    await pm.createPool({ id: 'p', agents: ['a', 'b', 'c'], governance: { type: 'democratic', quorum: 0.5 } });
    await expect(pm.proposeRemoval('mallory', 'p', 'c')).rejects.toBeInstanceOf(PolicyError);
    const q = await pm.proposeRemoval('a', 'p', 'c');
    expect(q).toMatchObject({ kind: 'remove', subject: 'c', state: 'open' });
    await pm.vote(q.id, 'a', 'yes');
    expect((await pm.vote(q.id, 'b', 'yes')).state).toBe('approved');
    expect(await members(pm)).toEqual(['a', 'b']);
    expect(await pm.getPoolsForAgent('c')).toEqual([]);
  });

  it("cancelling another member's task: refused until the governance approves, then granted once", async () => {
    const { store, pm } = setup();
    await pm.createPool({
      id: 'p',
      agents: ['a', 'b', 'c'],
      admission: { type: 'whitelist', agents: ['a', 'b', 'c'] },
      governance: { type: 'dictatorial', dictator: 'c' },
    });
    const tm = new TaskManager({ store, pools: pm, governance: pm.taskGovernance() });
    await tm.submit({ id: 't1', objective: 'x', poolId: 'p' }, { by: 'a' });
    await tm.submit({ id: 't2', objective: 'x', poolId: 'p' }, { by: 'a' });
    await expect(tm.cancel('t1', { by: 'b' })).rejects.toBeInstanceOf(PolicyError); // opens the question
    const q = poolQuestionId('cancel', 'p', 't1');
    expect(pm.question(q)).toMatchObject({ state: 'open', proposer: 'b' });
    await expect(tm.cancel('t1', { by: 'b' })).rejects.toBeInstanceOf(PolicyError); // still open
    expect((await pm.vote(q, 'c', 'yes')).state).toBe('approved');
    await expect(tm.cancel('t1', { by: 'c' })).rejects.toBeInstanceOf(PolicyError); // the grant is b's
    expect((await tm.cancel('t1', { by: 'b' })).state).toBe('cancelled');
    // Used once: a later task under the same id (after a purge, say) is not covered by it.
    const pool = await pm.getPool('p');
    expect(await pm.taskGovernance().mayCancel('b', await tm.getTask('t1'), pool)).toBe(false);
    // A refused question refuses the cancel; an outsider cannot even ask.
    await expect(tm.cancel('t2', { by: 'b' })).rejects.toBeInstanceOf(PolicyError);
    expect((await pm.vote(poolQuestionId('cancel', 'p', 't2'), 'c', 'no')).state).toBe('rejected');
    await expect(tm.cancel('t2', { by: 'mallory' })).rejects.toBeInstanceOf(PolicyError);
    expect(pm.question(poolQuestionId('cancel', 'p', 't2'))).toMatchObject({ state: 'rejected', proposer: 'b' });
    expect((await tm.getTask('t2')).state).toBe('pending');
  });
});
