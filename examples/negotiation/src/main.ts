// A buyer and a seller haggle over the price of a used bike with NegotiationProtocol, a state
// machine: propose -> counter -> ... -> accept | reject | expire. Each side follows a simple
// strategy: open at its opening price, then concede a third of the gap each round (never past
// its private limit), and accept once the offer on the table is within its limit. Along the way the example shows the rules the protocol enforces: nobody can
// accept their own offer, outsiders cannot act, and nothing happens after a terminal state.
// Exit code 0 when a deal is reached at the expected price and every illegal move was refused
// with the expected typed error; 1 otherwise.
import { ConflictError, ConvergeError, Identity } from '@converge/core';
import { NegotiationProtocol, type NegotiationSession } from '@converge/coordination';

interface Terms {
  item: string;
  price: number;
}

/** A party with a private limit: the most a buyer pays, the least a seller takes. */
interface Party {
  name: string;
  id: string;
  opening: number;
  limit: number;
  wants: 'low' | 'high';
}

/** Whether `party` is happy with `price`. */
const acceptable = (party: Party, price: number) => (party.wants === 'low' ? price <= party.limit : price >= party.limit);

/** The party's next offer: a third of the way from its own last offer toward theirs, within its limit. */
function concede(party: Party, own: number, theirs: number): number {
  const next = Math.round(own + (theirs - own) / 3);
  return party.wants === 'low' ? Math.min(next, party.limit) : Math.max(next, party.limit);
}

/** Runs `fn` and describes how it was refused ("ConflictError ERR_CONFLICT: ..."), or "allowed". */
function attempt(fn: () => unknown): string {
  try {
    fn();
    return 'allowed';
  } catch (err) {
    if (!(err instanceof ConvergeError)) throw err;
    return `${err.name} ${err.code}${err instanceof ConflictError && err.currentState ? ` (session ${err.currentState})` : ''}`;
  }
}

const buyer: Party = { name: 'buyer', id: Identity.generate().fingerprint, opening: 150, limit: 250, wants: 'low' };
const seller: Party = { name: 'seller', id: Identity.generate().fingerprint, opening: 400, limit: 240, wants: 'high' };
const outsider = Identity.generate().fingerprint;
const nameOf = (id: string) => (id === buyer.id ? 'buyer' : id === seller.id ? 'seller' : 'outsider');

let failures = 0;
function check(what: string, got: string, want: string): void {
  console.log(`${what}: ${got === 'allowed' ? 'allowed' : `refused (${got})`}`);
  if (got !== want) {
    failures++;
    console.log(`UNEXPECTED: wanted ${want}`);
  }
}

// Step 1: the buyer opens low; nobody but the seller may answer that offer.
function open(protocol: NegotiationProtocol): NegotiationSession {
  const session = protocol.propose(buyer.id, [seller.id], { item: 'bike', price: buyer.opening } satisfies Terms);
  console.log(`buyer proposes 150 (session ${session.id.slice(0, 8)}, state ${session.state})`);

  // The buyer cannot accept its own proposal: acceptance must come from the other side.
  check(
    'buyer accepts its own proposal',
    attempt(() => protocol.accept(session.id, buyer.id)),
    'ConflictError ERR_CONFLICT (session proposed)',
  );
  check(
    'an outsider counters',
    attempt(() => protocol.counter(session.id, outsider, { item: 'bike', price: 1 })),
    'PolicyError ERR_POLICY',
  );
  return session;
}

// Step 2: take turns: whoever did not make the offer on the table accepts it or counters.
function haggle(protocol: NegotiationProtocol, opened: NegotiationSession): NegotiationSession {
  let session = opened;
  const last = new Map<Party, number>([[buyer, buyer.opening]]);
  let rounds = 0;
  while (session.state === 'proposed' || session.state === 'countered') {
    const onTable = (session.current.terms as unknown as Terms).price;
    const mover = session.current.by === buyer.id ? seller : buyer;
    if (acceptable(mover, onTable)) {
      session = protocol.accept(session.id, mover.id);
      console.log(`${mover.name} accepts ${onTable} (state ${session.state})`);
      break;
    }
    const own = last.get(mover);
    const price = own === undefined ? mover.opening : concede(mover, own, onTable);
    last.set(mover, price);
    session = protocol.counter(session.id, mover.id, { item: 'bike', price } satisfies Terms);
    console.log(`${mover.name} counters ${price} (state ${session.state})`);
    if (++rounds > 20) break; // the strategies converge; this only guards the example
  }
  return session;
}

// Step 3: accepted is terminal: nothing else may happen in this session.
function afterTheDeal(protocol: NegotiationProtocol, session: NegotiationSession): void {
  const deal = (session.current.terms as unknown as Terms).price;
  console.log(`deal: ${session.state} at ${deal}, offered by the ${nameOf(session.current.by)} after ${session.history.length} offers`);
  if (session.state !== 'accepted' || deal !== 250 || session.history.length !== 5) {
    failures++;
    console.log('UNEXPECTED: wanted accepted at 250 after 5 offers');
  }
  check(
    'seller counters after the deal',
    attempt(() => protocol.counter(session.id, seller.id, { item: 'bike', price: 500 })),
    'ConflictError ERR_CONFLICT (session accepted)',
  );
  check(
    'buyer rejects after the deal',
    attempt(() => protocol.reject(session.id, buyer.id, 'changed my mind')),
    'ConflictError ERR_CONFLICT (session accepted)',
  );
}

// Step 4: a second session ends in a rejection, which is terminal too.
function rejectTheHelmet(protocol: NegotiationProtocol): void {
  const other = protocol.propose(seller.id, [buyer.id], { item: 'helmet', price: 90 } satisfies Terms);
  const rejected = protocol.reject(other.id, buyer.id, 'too expensive');
  console.log(`helmet: seller proposes 90, buyer rejects ("${rejected.reason}"), state ${rejected.state}`);
  check(
    'buyer accepts the rejected helmet offer',
    attempt(() => protocol.accept(other.id, buyer.id)),
    'ConflictError ERR_CONFLICT (session rejected)',
  );
}

function main(): number {
  const protocol = new NegotiationProtocol();
  const session = haggle(protocol, open(protocol));
  afterTheDeal(protocol, session);
  rejectTheHelmet(protocol);

  const s = protocol.stats();
  console.log(`protocol: ${s.proposed} proposed, ${s.countered} countered, ${s.accepted} accepted, ${s.rejected} rejected, ${s.refused} refused`);
  const ok = failures === 0 && s.accepted === 1 && s.rejected === 1 && s.refused === 5;
  console.log(`summary: ${ok ? 'OK' : `${failures} FAILED`}`);
  return ok ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
