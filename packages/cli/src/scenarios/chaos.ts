import type { Scenario } from './types.js';
/** stub */
export function chaosScenario(): Scenario {
  return { name: 'chaos', description: 'todo', async run() { throw new Error('todo'); } };
}
