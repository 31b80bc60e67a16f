import type { Scenario } from './types.js';
/** stub */
export function negotiationScenario(): Scenario {
  return { name: 'negotiation', description: 'todo', async run() { throw new Error('todo'); } };
}
