import type { Scenario } from './types.js';
/** stub */
export function voteScenario(): Scenario {
  return { name: 'vote', description: 'todo', async run() { throw new Error('todo'); } };
}
