import type { Task } from '@converge/core';

/** Longest a task offered to one agent's turn is kept from the others' offers (the turn ends sooner, normally), ms. */
export const OFFER_HOLD_MS = 500;

/** Holds past which expired ones are swept out (agents that halted mid-turn leave theirs behind). */
const SWEEP_AT = 4_096;

interface Hold {
  readonly agentId: string;
  readonly until: number;
}

/**
 * The tasks offered to, and then claimed by, the turns in progress of the runtimes sharing one
 * task manager in this process. Every worker lists the same oldest pending tasks; without this,
 * agents whose turns overlap (all woken by one submit, or one yielded to the event loop
 * mid-batch) decide to claim the same tasks, and all but one lose each race (a wasted claim, a
 * skipped report, a turn). A task held here is left out of the other agents' offers: from the
 * listing until `decide` returns, then (`narrow`) only the tasks the turn decided to claim, until
 * it ends.
 *
 * Only a hint, never a lock: claims stay exactly once through the task manager; a hold lasts
 * until its turn narrows or ends, or `OFFER_HOLD_MS`; an agent turned away from a held task is
 * woken when a turn lets one go unclaimed; a runtime in another process, or on another task
 * manager, does not see it. Bounded: an agent holds at most one turn's offer (expired holds are
 * swept), and one wake-up per agent waits.
 */
export class OfferBoard {
  readonly #holds = new Map<string, Hold>();
  /** Agents turned away from a held task: woken when a turn lets one of its offered tasks go. */
  readonly #waiters = new Map<string, () => void>();

  /** Holds now (expired ones included until swept). */
  get size(): number {
    return this.#holds.size;
  }

  /**
   * Up to `max` of `all`, from `offset` on (wrapping around), that no other agent holds at `now`;
   * holds them for `agentId` until `now + OFFER_HOLD_MS`. Turned away from any, the agent is
   * woken (`wake`) once a turn lets one of its tasks go.
   */
  pick(agentId: string, all: readonly Task[], max: number, offset: number, now: number, wake: () => void): Task[] {
    if (this.#holds.size >= SWEEP_AT) this.#sweep(now);
    const out: Task[] = [];
    const n = all.length;
    const hold: Hold = { agentId, until: now + OFFER_HOLD_MS };
    for (let i = 0, j = offset % n; i < n && out.length < max; i++, j = j + 1 === n ? 0 : j + 1) {
      const task = all[j]!;
      const held = this.#holds.get(task.id);
      if (held !== undefined && held.agentId !== agentId && held.until > now) {
        this.#waiters.set(agentId, wake);
        continue;
      }
      this.#holds.set(task.id, hold);
      out.push(task);
    }
    return out;
  }

  /**
   * After `decide`: of the tasks `offered` to `agentId`, keeps holding those it decided to claim
   * (`claims`) and lets the others go (waking the agents turned away, if any went).
   */
  narrow(agentId: string, offered: readonly Task[], claims: ReadonlySet<string>): void {
    let freed = false;
    for (const task of offered) {
      if (claims.has(task.id) || this.#holds.get(task.id)?.agentId !== agentId) continue;
      this.#holds.delete(task.id);
      freed = true;
    }
    if (freed && this.#waiters.size > 0) this.#wakeWaiters();
  }

  /** Ends `agentId`'s holds on `taskIds` (its turn is over). */
  release(agentId: string, taskIds: Iterable<string>): void {
    for (const id of taskIds) if (this.#holds.get(id)?.agentId === agentId) this.#holds.delete(id);
  }

  /** Forgets `agentId` (its runtime stopped): its holds and its wake-up. */
  forget(agentId: string): void {
    this.#waiters.delete(agentId);
    for (const [id, hold] of this.#holds) if (hold.agentId === agentId) this.#holds.delete(id);
  }

  #wakeWaiters(): void {
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const wake of waiters) wake();
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
