import type { Agent, Store } from '@converge/core';
import type { Checkpointable } from './service-ports.js';

function isCheckpointable(agent: unknown): agent is Checkpointable {
  return typeof (agent as Checkpointable).snapshot === 'function' && typeof (agent as Checkpointable).restore === 'function';
}

/** Saves and restores a `Checkpointable` agent's state in a store (no-op for other agents or without a store). */
export class Checkpoints {
  readonly #agent: Agent;
  readonly #store: Store | undefined;

  /** @param store - where checkpoints are kept, under `checkpoint:<agent id>`. */
  constructor(agent: Agent, store: Store | undefined) {
    this.#agent = agent;
    this.#store = store;
  }

  /** Puts back the saved state, if there is one. */
  async restore(): Promise<void> {
    if (!this.#store || !isCheckpointable(this.#agent)) return;
    const state = await this.#store.get(this.#key());
    if (state !== undefined) await this.#agent.restore(state);
  }

  /** Saves the agent's snapshot. */
  async save(): Promise<void> {
    if (this.#store && isCheckpointable(this.#agent)) await this.#store.put(this.#key(), this.#agent.snapshot() as never);
  }

  #key(): string {
    return `checkpoint:${this.#agent.id}`;
  }
}
