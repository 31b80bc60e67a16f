import type { Scenario } from './types.js';
/** stub */
export function llmScenario(): Scenario {
  return { name: 'llm', description: 'todo', async run() { throw new Error('todo'); } };
}
