import { ConflictError, ConfigError } from '@converge/core';
import type { Scenario } from './types.js';
import { marketScenario } from './market.js';
import { negotiationScenario } from './negotiation.js';
import { voteScenario } from './vote.js';
import { delegationScenario } from './delegation.js';
import { llmScenario } from './llm.js';
import { chaosScenario } from './chaos.js';

/** Scenarios by name. An instance: each CLI run (or test) makes its own. */
export class ScenarioRegistry {
  readonly #byName = new Map<string, Scenario>();

  /** Adds a scenario; a second one with the same name is a `ConflictError`. */
  register(scenario: Scenario): this {
    if (this.#byName.has(scenario.name)) throw new ConflictError(`scenario ${scenario.name} is already registered`);
    this.#byName.set(scenario.name, scenario);
    return this;
  }

  /** The scenario called `name`; unknown → `ConfigError` naming the known ones. */
  get(name: string): Scenario {
    const s = this.#byName.get(name);
    if (!s) throw new ConfigError(`--scenario must be one of ${this.names().join(', ')} (got ${JSON.stringify(name)})`, { key: 'scenario' });
    return s;
  }

  /** The names, in registration order. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** The scenarios, in registration order. */
  list(): Scenario[] {
    return [...this.#byName.values()];
  }
}

/** A registry holding the built-in scenarios. */
export function builtinScenarios(): ScenarioRegistry {
  return new ScenarioRegistry()
    .register(marketScenario())
    .register(negotiationScenario())
    .register(voteScenario())
    .register(delegationScenario())
    .register(llmScenario())
    .register(chaosScenario());
}
