// The page's model: only what it verified itself is shown; everything else is counted as rejected.
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, encodeMessage, signMessage, verifyMessageAsync, type Message, type WireValue } from '@converge/core';
import { PageModel, PAGE_LIMITS } from '../src/ui/page/model.js';
import { UI_STATE_TYPE, frameBytes, type UiAgent, type UiState } from '../src/ui/protocol.js';

const relay = Identity.generate();
const workerA = Identity.generate();
const workerB = Identity.generate();

function frame(m: Message): Uint8Array {
  return frameBytes(encodeMessage(m));
}

function agent(id: Identity, role = 'worker'): UiAgent {
  return { id: id.fingerprint, key: id.publicKey, role, capabilities: ['sum'] };
}

let seq = 0;
function state(agents: UiAgent[], extra: Partial<UiState> = {}): Message {
  const s: UiState = {
    type: UI_STATE_TYPE,
    seq: ++seq,
    now: Date.now() + seq,
    total: 10,
    phase: 'running',
    poolId: 'p',
    transport: 'local',
    tasks: { pending: 1, claimed: 2, completed: 7, dead: 0, failed: 0, cancelled: 0, retried: 0 },
    recent: [['p:task:1', 'completed', workerA.fingerprint, Date.now()]],
    agents,
    observers: [],
    pools: [{ id: 'p', members: agents.map((a) => a.id) }],
    auctions: [],
    latency: { bounds: [1], counts: [0, 0], count: 0, sumMs: 0, maxMs: 0 },
    runRejected: 0,
    relay: { tapped: 0, dropped: 0, forwarded: 0, refused: 0, recentDropped: 0 },
    ...extra,
  };
  return signMessage(createMessage({ payload: s as unknown as WireValue }), relay);
}

function bid(from: Identity, amount: number): Message {
  return signMessage(createMessage({ recipient: workerB.fingerprint, payload: { type: 'bid', auctionId: 'a1', amount } }), from);
}

/** `real` as it claims to be (id, sender, recipient, payload, timestamp), with the signature of `key` instead. */
function signedByAnother(real: Message, key: Identity): Message {
  return createMessage({
    id: real.id,
    sender: real.sender,
    recipient: real.recipient,
    payload: real.payload,
    timestamp: real.timestamp,
    signature: signMessage(real, key).signature,
  });
}

describe('PageModel', () => {
  it('shows a relay state and an agent message only after verifying them', () => {
    const m = new PageModel(relay.publicKey);
    m.handleFrame(frame(state([agent(workerA), agent(workerB, 'coordinator')])));
    expect(m.state?.tasks.completed).toBe(7);
    expect(m.aliveAgents.map((a) => a.id).sort()).toEqual([workerA.fingerprint, workerB.fingerprint].sort());
    m.handleFrame(frame(bid(workerA, 5)));
    expect(m.verified).toBe(2);
    expect(m.rejected).toBe(0);
    expect(m.bids.get('a1')).toEqual({ count: 1, best: 5 });
    expect(m.edges.get(`${workerA.fingerprint}>${workerB.fingerprint}`)).toBe(1);
    expect(m.lanes.completed).toEqual(['p:task:1']);
  });

  it('rejects a message whose signature is not the sender key (and shows nothing of it)', () => {
    const m = new PageModel(relay.publicKey);
    m.handleFrame(frame(state([agent(workerA)])));
    // Claims to be worker A, signed by worker B.
    const forged = signedByAnother(bid(workerA, 5), workerB);
    m.handleFrame(frame(forged));
    expect(m.rejected).toBe(1);
    expect(m.rejectedList[0]!.reason).toBe('bad_signature');
    expect(m.bids.size).toBe(0);
    expect(m.messages).toEqual([]);
  });

  it('rejects a relay state not signed by the relay key in the page', () => {
    const m = new PageModel(relay.publicKey);
    const good = state([agent(workerA)], { tasks: { pending: 0, claimed: 0, completed: 999, dead: 0, failed: 0, cancelled: 0, retried: 0 } });
    const forged = signedByAnother(good, workerA);
    m.handleFrame(frame(forged));
    expect(m.state).toBeUndefined();
    expect(m.rejectedList[0]!.reason).toBe('bad_signature');
    // Signed by the relay but not a state: refused too.
    m.handleFrame(frame(signMessage(createMessage({ payload: { type: 'other' } }), relay)));
    expect(m.rejectedList[0]!.reason).toBe('bad_state');
    m.handleFrame(new Uint8Array([0, 0, 0, 9, 1, 2]));
    expect(m.rejectedList[0]!.reason).toBe('malformed');
    expect(m.rejected).toBe(3);
  });

  it('refuses a roster key whose fingerprint is not the agent id (the relay cannot substitute keys)', () => {
    const m = new PageModel(relay.publicKey);
    m.handleFrame(frame(state([{ ...agent(workerA), key: workerB.publicKey }])));
    expect(m.agents.size).toBe(0);
    expect(m.rejectedList[0]!.reason).toBe('bad_key');
  });

  it('holds a message from a sender not yet in the roster, then verifies it when the roster names it', () => {
    let now = 1_000;
    const m = new PageModel(relay.publicKey, { now: () => now });
    m.handleFrame(frame(bid(workerA, 7)));
    expect(m.verified + m.rejected).toBe(0);
    m.handleFrame(frame(state([agent(workerA)])));
    expect(m.bids.get('a1')?.best).toBe(7);
    expect(m.rejected).toBe(0);
    // A sender that never appears is rejected once the wait is over.
    m.handleFrame(frame(bid(workerB, 1)));
    now += PAGE_LIMITS.pendingMs;
    m.expirePending();
    expect(m.rejectedList[0]).toMatchObject({ reason: 'unknown_sender', sender: workerB.fingerprint });
  });

  it('keeps working when agents come and go: a leaver is marked gone, its late messages still verify, a newcomer appears', () => {
    const m = new PageModel(relay.publicKey);
    m.handleFrame(frame(state([agent(workerA), agent(workerB)])));
    m.handleFrame(frame(state([agent(workerB)])));
    expect(m.aliveAgents.map((a) => a.id)).toEqual([workerB.fingerprint]);
    expect(m.agents.get(workerA.fingerprint)?.alive).toBe(false);
    m.handleFrame(frame(bid(workerA, 3)));
    expect(m.rejected).toBe(0);
    const workerC = Identity.generate();
    m.handleFrame(frame(state([agent(workerB), agent(workerC), agent(workerA)])));
    expect(m.aliveAgents).toHaveLength(3);
    // An older state (a page that joined late gets one) does not roll the view back.
    m.handleFrame(frame(state([agent(workerB)], { seq: 1, now: 0 })));
    expect(m.aliveAgents).toHaveLength(3);
  });

  it('takes a result already computed by verifyMessageAsync under keyFor, as the page does for a batch', async () => {
    const m = new PageModel(relay.publicKey);
    expect(m.keyFor(relay.fingerprint)).toEqual(relay.publicKey);
    expect(m.keyFor(workerA.fingerprint)).toBeUndefined();
    const st = state([agent(workerA)]);
    m.handleMessage(st, await verifyMessageAsync(st, m.keyFor(st.sender)!));
    expect(m.keyFor(workerA.fingerprint)).toEqual(workerA.publicKey);
    const good = bid(workerA, 9);
    const forged = signedByAnother(bid(workerA, 1), workerB);
    m.handleMessage(good, await verifyMessageAsync(good, m.keyFor(good.sender)!));
    m.handleMessage(forged, await verifyMessageAsync(forged, m.keyFor(forged.sender)!));
    expect(m.verified).toBe(2);
    expect(m.rejectedList[0]!.reason).toBe('bad_signature');
    expect(m.bids.get('a1')).toEqual({ count: 1, best: 9 });
  });
});
