// Sealed-bid auctions whose bids travel as signed messages. Three bidders send their bids to an
// auctioneer over a LocalHub; the auctioneer accepts a bid only from a message that verifies
// against the IdentityRegistry, and records it under the *verified* sender, so nobody can bid
// in someone else's name. Round 1 is second-price (Vickrey: the winner pays the second-highest
// bid), round 2 is first-price with the same bids, for contrast. The auctioneer also refuses a
// second bid by the same agent and a bid after the close, with typed errors.
// Exit code 0 when winners, prices and refusals are as expected; 1 otherwise.
import { ConflictError, Identity, createMessage, signMessage } from '@converge/core';
import { BiddingProtocol, type AuctionType } from '@converge/coordination';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier, receiveVerified } from '@converge/network';

interface BidPayload {
  auctionId: string;
  amount: number;
}

/** The auctioneer, the three registered bidders and the auction house, on one LocalHub. */
interface Market {
  hub: LocalHub;
  auctioneer: Identity;
  auctioneerTransport: LocalTransport;
  verifier: MessageVerifier;
  bidders: Map<string, { identity: Identity; transport: LocalTransport }>;
  /** Fingerprint -> bidder's name, to print who won. */
  names: Map<string, string>;
  house: BiddingProtocol;
}

let failures = 0;
function check(what: string, ok: boolean): void {
  if (!ok) failures++;
  if (!ok) console.log(`UNEXPECTED: ${what}`);
}

// Step 1: the auctioneer and three bidders, each registered so that their signatures verify.
async function setUp(): Promise<Market> {
  const hub = new LocalHub();
  const registry = new IdentityRegistry();
  const auctioneer = Identity.generate();
  const auctioneerTransport = new LocalTransport(auctioneer.fingerprint, { hub });
  await auctioneerTransport.start();
  const verifier = new MessageVerifier({ registry });

  const bidders = new Map<string, { identity: Identity; transport: LocalTransport }>();
  const names = new Map<string, string>();
  for (const name of ['alice', 'bob', 'carol']) {
    const identity = Identity.generate();
    registry.register(identity);
    const transport = new LocalTransport(identity.fingerprint, { hub });
    await transport.start();
    bidders.set(name, { identity, transport });
    names.set(identity.fingerprint, name);
  }
  return { hub, auctioneer, auctioneerTransport, verifier, bidders, names, house: new BiddingProtocol() };
}

// A bidder signs and sends a bid; the auctioneer verifies it and hands it to the protocol.
// Returns how the auction house answered: 'accepted' or the error's name and code.
async function sendBid(m: Market, name: string, auctionId: string, amount: number): Promise<string> {
  const { identity, transport } = m.bidders.get(name)!;
  await transport.send(signMessage(createMessage({ recipient: m.auctioneer.fingerprint, payload: { auctionId, amount } }), identity));
  const msg = await receiveVerified(m.auctioneerTransport, m.verifier, { timeoutMs: 5_000 });
  if (msg === null) return 'not delivered or not verified';
  const bid = msg.payload as unknown as BidPayload;
  try {
    m.house.bid(bid.auctionId, msg.sender, bid.amount); // msg.sender is proven by the signature
    return 'accepted';
  } catch (err) {
    const e = err as ConflictError;
    return `refused: ${e.name} ${e.code}${e.currentState ? ` (auction ${e.currentState})` : ''}`;
  }
}

const bids: [string, number][] = [
  ['alice', 120],
  ['bob', 100],
  ['carol', 90],
];

// Step 2: one auction of the given type: three sealed bids, a second bid and a late bid refused,
// then the winner and the price they pay.
async function runAuction(m: Market, type: AuctionType, expectedPrice: number): Promise<void> {
  const { id } = m.house.openAuction({ id: `${type}-lamp`, type, reservePrice: 50 });
  console.log(`--- ${type} sealed-bid auction "${id}" (reserve 50)`);
  for (const [name, amount] of bids) {
    const outcome = await sendBid(m, name, id, amount);
    console.log(`${name} bids ${amount}: ${outcome}`);
    check(`${name}'s bid`, outcome === 'accepted');
  }
  // Sealed bids: one per agent. Bob tries to outbid alice after the fact.
  const second = await sendBid(m, 'bob', id, 130);
  console.log(`bob bids again (130): ${second}`);
  check('second bid refused', second === 'refused: ConflictError ERR_CONFLICT (auction open)');

  m.house.close(id);
  const late = await sendBid(m, 'carol', id, 200);
  console.log(`carol bids 200 after the close: ${late}`);
  check('late bid refused', late === 'refused: ConflictError ERR_CONFLICT (auction closed)');

  const result = m.house.resolve(id);
  if (result.winner === null) {
    console.log(`no winner: ${result.reason}`);
    check('a winner', false);
    return;
  }
  console.log(`winner: ${m.names.get(result.winner)}, clearing price: ${result.price} (bids recorded: ${result.bids.length})`);
  check(`${type} winner`, m.names.get(result.winner) === 'alice' && result.price === expectedPrice && result.bids.length === 3);
}

// Step 3: a bid signed by an agent nobody registered never reaches the auction house.
async function unregisteredBidIsRefused(m: Market): Promise<void> {
  const mallory = Identity.generate();
  const malloryTransport = new LocalTransport(mallory.fingerprint, { hub: m.hub });
  await malloryTransport.start();
  m.house.openAuction({ id: 'open-lamp', type: 'second-price' });
  await malloryTransport.send(signMessage(createMessage({ recipient: m.auctioneer.fingerprint, payload: { auctionId: 'open-lamp', amount: 1_000 } }), mallory));
  const leaked = await receiveVerified(m.auctioneerTransport, m.verifier, { timeoutMs: 100 });
  const malloryRefused = leaked === null && m.verifier.rejections.unknown_sender === 1;
  console.log(`unregistered mallory's bid refused by the verifier: ${malloryRefused ? 'yes' : 'no'}`);
  check('mallory refused', malloryRefused && m.house.getAuction('open-lamp').bidCount === 0);
  await malloryTransport.stop();
}

async function main(): Promise<number> {
  const market = await setUp();
  await runAuction(market, 'second-price', 100); // alice wins and pays bob's 100
  await runAuction(market, 'first-price', 120); // alice wins and pays her own 120
  await unregisteredBidIsRefused(market);

  for (const { transport } of market.bidders.values()) await transport.stop();
  await market.auctioneerTransport.stop();
  const s = market.house.stats();
  console.log(
    `auction house: ${s.opened} opened, ${s.bids} bids taken, ${s.refused} refused, ${s.resolved} resolved; messages verified: ${market.verifier.verified}`,
  );
  console.log(`summary: ${failures === 0 ? 'OK' : `${failures} FAILED`}`);
  return failures === 0 ? 0 : 1;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
