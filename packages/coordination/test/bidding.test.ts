import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '@converge/core';
import { BiddingProtocol, type AuctionOptions } from '../src/index.js';

function setup() {
  const clock = { now: 0 };
  return { clock, bp: new BiddingProtocol({ clock: () => clock.now }) };
}

describe('BiddingProtocol sealed bids', () => {
  // Each case: a fresh sealed auction, its bids in order (agent: amount), `tick` ms apart, and the result.
  it.each<[title: string, auction: AuctionOptions, bids: Record<string, number>, tick: number, result: object]>([
    ['first-price: the highest bidder pays its own bid', { type: 'first-price' }, { x: 10, y: 15, z: 12 }, 0, { winner: 'y', price: 15 }],
    ['second-price: the highest bidder pays the second-highest bid', { type: 'second-price' }, { x: 10, y: 15 }, 0, { winner: 'y', price: 10 }],
    ['second-price: the reserve with one bid', { type: 'second-price', reservePrice: 7 }, { x: 10 }, 0, { winner: 'x', price: 7 }],
    ['second-price: the reserve above the second-highest bid', { type: 'second-price', reservePrice: 12 }, { x: 10, y: 20 }, 0, { winner: 'y', price: 12 }],
    ['ties: the earliest bid wins', { type: 'first-price' }, { b: 10, a: 10 }, 1, { winner: 'b', price: 10 }],
    ['ties at the same time: the smallest agent id wins', { type: 'second-price' }, { m: 10, k: 10 }, 0, { winner: 'k', price: 10 }],
  ])('%s', (_title, auction, bids, tick, result) => {
    const { bp, clock } = setup();
    bp.openAuction({ id: 'a', ...auction });
    for (const [agent, amount] of Object.entries(bids)) {
      bp.bid('a', agent, amount);
      clock.now += tick;
    }
    expect(bp.resolve('a')).toMatchObject(result);
  });

  it('one bid per agent; reserve not met; no bids', () => {
    const { bp } = setup();
    bp.openAuction({ id: 'a', type: 'first-price', reservePrice: 100 });
    bp.bid('a', 'x', 10);
    expect(() => bp.bid('a', 'x', 20)).toThrow(ConflictError);
    expect(bp.resolve('a')).toMatchObject({ winner: null, reason: 'reserve-not-met' });
    bp.openAuction({ id: 'b', type: 'second-price' });
    expect(bp.resolve('b')).toEqual({ winner: null, reason: 'no-bids', bids: [] });
  });

  it('a bid after close is refused naming the state; the auction is unchanged', () => {
    const { bp } = setup();
    bp.openAuction({ id: 'a', type: 'first-price' });
    bp.bid('a', 'x', 5);
    bp.close('a');
    const before = bp.getAuction('a');
    try {
      bp.bid('a', 'y', 50);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).currentState).toBe('closed');
      expect((err as Error).message).toContain('closed');
    }
    expect(bp.getAuction('a')).toEqual(before);
    expect(bp.resolve('a')).toMatchObject({ winner: 'x', price: 5 });
    expect(() => bp.bid('a', 'y', 50)).toThrow(/resolved/);
    expect(() => bp.bid('nope', 'y', 1)).toThrow(NotFoundError);
    expect(() => bp.bid('a', 'y', Number.NaN)).toThrow(ValidationError);
  });
});

describe('BiddingProtocol English', () => {
  it('ascending bids with a minimum increment; closes after the quiet period', () => {
    const { bp, clock } = setup();
    bp.openAuction({ id: 'e', type: 'english', startPrice: 10, minIncrement: 5, quietPeriodMs: 1_000, reservePrice: 20 });
    expect(() => bp.bid('e', 'x', 9)).toThrow(ConflictError);
    bp.bid('e', 'x', 10);
    expect(() => bp.bid('e', 'y', 14)).toThrow(ConflictError);
    clock.now = 900;
    bp.bid('e', 'y', 15);
    clock.now = 1_800;
    bp.bid('e', 'x', 25); // the quiet period restarts with each bid
    expect(bp.getAuction('e')).toMatchObject({ state: 'open', currentPrice: 25, leader: 'x' });
    clock.now = 2_800;
    expect(bp.getAuction('e').state).toBe('closed');
    expect(() => bp.bid('e', 'y', 100)).toThrow(ConflictError);
    expect(bp.resolve('e')).toMatchObject({ winner: 'x', price: 25 });
  });

  it('reserve not met', () => {
    const { bp } = setup();
    bp.openAuction({ id: 'e', type: 'english', reservePrice: 50 });
    bp.bid('e', 'x', 10);
    expect(bp.resolve('e')).toMatchObject({ winner: null, reason: 'reserve-not-met' });
  });
});

describe('BiddingProtocol Dutch', () => {
  it('the price descends to the floor; the first acceptance wins at the current price', () => {
    const { bp, clock } = setup();
    bp.openAuction({ id: 'd', type: 'dutch', startPrice: 100, decrement: 10, intervalMs: 1_000, floorPrice: 65 });
    expect(bp.currentPrice('d')).toBe(100);
    clock.now = 2_500;
    expect(bp.currentPrice('d')).toBe(80);
    clock.now = 10_000;
    expect(bp.currentPrice('d')).toBe(65);
    expect(() => bp.bid('d', 'x', 70)).toThrow(ValidationError);
    expect(bp.accept('d', 'y').amount).toBe(65);
    expect(() => bp.accept('d', 'x')).toThrow(ConflictError);
    expect(bp.resolve('d')).toMatchObject({ winner: 'y', price: 65 });
  });

  it('no acceptance → no-bids; the reserve acts as a floor', () => {
    const { bp, clock } = setup();
    bp.openAuction({ id: 'd', type: 'dutch', startPrice: 100, decrement: 10, reservePrice: 90 });
    clock.now = 5_000;
    expect(bp.currentPrice('d')).toBe(90);
    expect(bp.resolve('d')).toMatchObject({ winner: null, reason: 'no-bids' });
    expect(() => bp.openAuction({ type: 'dutch' })).toThrow(ValidationError);
  });

  it('closesAt ends any auction; the type is honored', () => {
    const { bp, clock } = setup();
    bp.openAuction({ id: 'a', type: 'first-price', closesAt: 100 });
    bp.bid('a', 'x', 1);
    clock.now = 100;
    expect(() => bp.bid('a', 'y', 2)).toThrow(ConflictError);
    expect(() => bp.openAuction({ type: 'vickrey' as never })).toThrow(ValidationError);
  });
});
