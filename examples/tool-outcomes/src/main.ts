// An agent that learns what happened. In its first turn it invokes three tools and claims a
// task; in the next turn `decide(messages, tasks, context)` receives one outcome per decision:
// the `add` tool's return value (`ok`), a tool that hangs (`timeout`), a tool outside the
// allowlist (`refused`) and a task another agent claimed first (`conflict`). It then uses the
// tool's result for a second call, whose outcome arrives in the third turn.
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, Decisions, Identity, ToolRegistry, type DecideContext, type Decision, type Message, type Outcome, type Task } from '@converge/core';
import { TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { AgentRuntime } from '@converge/runtime';

const tools = new ToolRegistry([
  { name: 'add', description: 'a + b', run: (p) => ({ sum: (p.a as number) + (p.b as number) }) },
  // Never answers on its own: only the executor's timeout (which aborts its signal) ends it.
  { name: 'slow', description: 'hangs', run: (_p, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(null))) },
  { name: 'shell', description: 'runs a command', run: () => 'should never run' },
]);

function describeOutcome(o: Outcome): string {
  const d = o.decision as { type: string; tool?: string; taskId?: string };
  const what = d.type === 'InvokeTool' ? `tool ${d.tool}` : `${d.type} ${d.taskId ?? ''}`.trim();
  if (o.status === 'ok') return `${what} -> ok ${JSON.stringify(o.result)}`;
  return `${what} -> ${o.status} (${o.error?.name}: ${o.error?.message})`;
}

class Calculator extends Agent {
  readonly seen: Outcome[] = [];
  turn = 0;
  done = false;
  constructor(readonly contested: string) {
    super({ identity: Identity.generate() });
  }
  decide(_messages: readonly Message[], _tasks: readonly Task[], context: DecideContext): Decision[] {
    if (this.done) return [];
    this.turn++;
    for (const o of context.outcomes) {
      this.seen.push(o);
      console.log(`turn ${this.turn}: outcome ${describeOutcome(o)}`);
    }
    if (this.turn === 1) {
      const first = [
        Decisions.invokeTool('add', { a: 2, b: 3 }),
        Decisions.invokeTool('slow', {}, 100),
        Decisions.invokeTool('shell', { command: 'rm -rf /' }),
        Decisions.claimTask(this.contested),
      ];
      console.log(
        `turn 1: decided ${first.map((d) => (d.type === 'InvokeTool' ? `InvokeTool ${(d as { tool: string }).tool}` : `${d.type} ${(d as { taskId: string }).taskId}`)).join(', ')}`,
      );
      return first;
    }
    // Feed the tool's answer back into the next call.
    const add = context.outcomes.find((o) => o.status === 'ok' && (o.decision as { tool?: string }).tool === 'add');
    if (add && this.turn === 2) {
      const sum = (add.result as { sum: number }).sum;
      console.log(`turn 2: decided InvokeTool add with the previous sum ${sum}`);
      return [Decisions.invokeTool('add', { a: sum, b: 10 })];
    }
    if (this.turn >= 3) this.done = true;
    return [];
  }
}

async function main(): Promise<number> {
  const taskManager = new TaskManager({ store: new MemoryStore() });
  const task = await taskManager.submit({ objective: 'wanted by two agents' });
  await taskManager.claim('another-agent', task.id); // someone was faster

  const agent = new Calculator(task.id);
  const runtime = new AgentRuntime({
    agent,
    taskManager,
    executorOptions: { tools, toolAllowlist: ['add', 'slow'] },
  });
  await runtime.start();
  const deadline = Date.now() + 20_000; // a hang guard, not a timing goal
  while (!agent.done && Date.now() < deadline) await delay(20);
  await runtime.stop();

  const statuses = agent.seen.map((o) => o.status);
  const count = (s: string) => statuses.filter((x) => x === s).length;
  const secondSum = agent.seen.find((o) => o.status === 'ok' && (o.result as { sum?: number }).sum === 15);
  const ok = count('ok') === 2 && count('timeout') === 1 && count('refused') === 1 && count('conflict') === 1 && secondSum !== undefined;
  console.log(`summary: ok ${count('ok')}, timeout ${count('timeout')}, refused ${count('refused')}, conflict ${count('conflict')}, ${ok ? 'OK' : 'FAILED'}`);
  return ok ? 0 : 1;
}

// exit() ends the process even where a handle still holds the event loop; a failure rejects,
// and Node prints it and exits with code 1.
process.exit(await main());
