import type { Task } from '@converge/core';

/** How long a task offered to one agent's turn is kept from the others (unless that turn ends first), ms. */
export const OFFER_HOLD_MS = 500;

/** Holds past which expired ones are swept out (agents that halted mid-turn leave theirs behind). */
const SWEEP_AT = 4_096;

interface Hold {
  readonly agentId: string;
  readonly until: number;
}

/** What `OfferBoard.pick` chose for one agent. */
export interface Offer {
  /** The tasks offered to the agent, now held for it. */
  readonly tasks: Task[];
  /** When the earliest hold of another agent that kept a task out runs out (Unix ms), or `Infinity`. */
  readonly retryAt: number;
}

/**
 * The pending tasks offered to the turns in progress of the runtimes that share one task
 * manager in this process. Every worker lists the same oldest pending tasks; without this, two
 * agents whose turns overlap (one yielded to the event loop mid-batch, say) decide to claim the
 * same tasks, and all but one claim are lost races (a wasted claim, a skipped report, a turn).
 *
 * Only a hint, never a guarantee: claims stay exactly once through the task manager, a hold
 * lasts until its agent's turn ends or `OFFER_HOLD_MS`, and a runtime in another process (or on
 * another task manager) does not see it. Bounded: an agent holds at most one turn's tasks.
 */
export class OfferBoard {
  readonly #holds = new Map<string, Hold>();
  /** Agents turned away from a held task, woken when a turn ends leaving one of its tasks unclaimed. */
  readonly #waiters = new Map<string, () => void>();

  /** Holds now (expired ones included until swept). */
  get size(): number {
    return this.#holds.size;
  }

  /**
   * Up to `max` of `all`, from `offset` on (wrapping around), that no other agent holds now;
   * holds them for `agentId` until `now + OFFER_HOLD_MS`. When another agent's hold kept a task
   * out, `wake` is called once a turn ends leaving some of its tasks unclaimed.
   */
  pick(agentId: string, all: readonly Task[], max: number, offset: number, now: number, wake: () => void): Offer {
    if (this.#holds.size >= SWEEP_AT) this.#sweep(now);
    const tasks: Task[] = [];
    const n = all.length;
    const hold: Hold = { agentId, until: now + OFFER_HOLD_MS };
    let retryAt = Number.POSITIVE_INFINITY;
    for (let i = 0, j = offset % n; i < n && tasks.length < max; i++, j = j + 1 === n ? 0 : j + 1) {
      const task = all[j]!;
      const held = this.#holds.get(task.id);
      if (held !== undefined && held.agentId !== agentId && held.until > now) {
        if (held.until < retryAt) retryAt = held.until;
        this.#waiters.set(agentId, wake);
        continue;
      }
      this.#holds.set(task.id, hold);
      tasks.push(task);
    }
    return { tasks, retryAt };
  }

  /**
   * Ends `agentId`'s holds on `tasks` (its turn is over). `claimed` tells which it claimed: if
   * any is left unclaimed, the agents turned away from them are woken to take it.
   */
  release(agentId: string, tasks: readonly Task[], claimed: (taskId: string) => boolean): void {
    let freed = false;
    for (const task of tasks) {
      if (this.#holds.get(task.id)?.agentId !== agentId) continue;
      this.#holds.delete(task.id);
      if (!freed && this.#waiters.size > 0 && !claimed(task.id)) freed = true;
    }
    if (!freed) return;
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Forgets `agentId` (its runtime stopped): its holds and its wake-up. */
  forget(agentId: string): void {
    this.#waiters.delete(agentId);
    for (const [id, hold] of this.#holds) if (hold.agentId === agentId) this.#holds.delete(id);
  }

  #sweep(now: number): void {
    for (const [id, hold] of this.#holds) if (hold.until <= now) this.#holds.delete(id);
  }
}

const boards = new WeakMap<object, OfferBoard>();

/** The board of the runtimes that share `taskManager` (one per task manager object). */
export function offerBoardOf(taskManager: object): OfferBoard {
  let board = boards.get(taskManager);
  if (board === undefined) boards.set(taskManager, (board = new OfferBoard()));
  return board;
}
