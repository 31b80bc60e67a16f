import type { Scenario } from './types.js';
/** stub */
export function delegationScenario(): Scenario {
  return { name: 'delegation', description: 'todo', async run() { throw new Error('todo'); } };
}
