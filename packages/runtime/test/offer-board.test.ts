import { describe, expect, it } from 'vitest';
import { createTask, type Task } from '@converge/core';
import { OFFER_HOLD_MS, OfferBoard, offerBoardOf } from '../src/offer-board.js';

const tasks = (n: number): Task[] => Array.from({ length: n }, (_, i) => createTask({ id: `t-${i}`, objective: 'x' }));
const ids = (list: readonly Task[]): string[] => list.map((t) => t.id);
const never = (): void => {
  throw new Error('woken');
};

describe('OfferBoard', () => {
  it("leaves the tasks offered to one agent's turn out of the others' offers, from the offset on", () => {
    const board = new OfferBoard();
    const all = tasks(6);
    expect(ids(board.pick('a', all, 3, 0, 1_000, never))).toEqual(['t-0', 't-1', 't-2']);
    expect(ids(board.pick('b', all, 3, 1, 1_000, never))).toEqual(['t-3', 't-4', 't-5']);
    // An agent is offered its own holds again.
    expect(ids(board.pick('a', all, 2, 5, 1_000, never))).toEqual(['t-0', 't-1']);
  });

  it('narrow keeps holding the decided claims only and wakes the agents turned away', () => {
    const board = new OfferBoard();
    const all = tasks(2);
    const offered = board.pick('a', all, 2, 0, 1_000, never);
    let woken = 0;
    expect(board.pick('b', all, 2, 0, 1_000, () => woken++)).toEqual([]);
    board.narrow('a', offered, new Set(['t-0']));
    expect(woken).toBe(1);
    expect(ids(board.pick('b', all, 2, 0, 1_000, never))).toEqual(['t-1']);
    board.release('a', ['t-0']);
    expect(ids(board.pick('c', all, 2, 0, 1_000, never))).toEqual(['t-0']);
  });

  it('a hold runs out after OFFER_HOLD_MS, and forget drops an agent', () => {
    const board = new OfferBoard();
    const all = tasks(1);
    board.pick('a', all, 1, 0, 1_000, never);
    expect(board.pick('b', all, 1, 0, 1_000 + OFFER_HOLD_MS - 1, () => {})).toEqual([]);
    expect(ids(board.pick('b', all, 1, 0, 1_000 + OFFER_HOLD_MS, never))).toEqual(['t-0']);
    board.forget('b');
    expect(board.size).toBe(0);
  });

  it('is one board per task manager object', () => {
    const tm = {};
    expect(offerBoardOf(tm)).toBe(offerBoardOf(tm));
    expect(offerBoardOf({})).not.toBe(offerBoardOf(tm));
  });
});
