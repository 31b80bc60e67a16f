// `llm`: the work is done by a worker backed by a chat model (LLMAgent with the
// OpenAI-compatible provider). The command starts its own fake model server on 127.0.0.1, so
// no key and no network are needed; the model's answers pass the agent's schema check and an
// action policy (claims and reports only) before the runtime executes them.
import { LLMAgent, OpenAICompatibleProvider } from '@converge/extensions/llm';
import { ActionPolicy } from '@converge/policy';
import { Submitter, alternatingPlan, workResult } from './work.js';
import { FAKE_MODEL_MAX_TASKS, startFakeModelServer, type FakeModelServer } from './fake-model-server.js';
import type { ScenarioWorld } from './world.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** The model name the fake server answers as. */
export const FAKE_MODEL = 'converge-fake-1';

/** The `llm` scenario. */
export function llmScenario(): Scenario {
  return {
    name: 'llm',
    description: 'a worker backed by a chat model; the command starts a local fake OpenAI-compatible server (no key)',
    async run(world, o): Promise<ScenarioResult> {
      const server = await startFakeModelServer();
      try {
        return await runLlm(world, o, server);
      } finally {
        await world.close();
        await server.close();
      }
    },
  };
}

/** A worker that asks the model at `server` what to do. */
function llmWorker(world: ScenarioWorld, server: FakeModelServer): LLMAgent {
  return new LLMAgent({
    capabilities: ['sum', 'sort'],
    // A local server needs no key; the provider sends this placeholder.
    provider: new OpenAICompatibleProvider({ apiKey: 'no-key-needed', model: FAKE_MODEL, baseUrl: server.baseUrl, timeoutMs: 10_000 }),
    systemPrompt: 'You are a worker: claim the sum and sort tasks on offer and report their results.',
    policy: new ActionPolicy({ allow: ['ClaimTask', 'ReportTask'] }),
    maxCallsPerWindow: 100_000,
    maxDecisions: 2 * FAKE_MODEL_MAX_TASKS,
    logger: world.logger,
  });
}

async function runLlm(world: ScenarioWorld, o: ScenarioRunOptions, server: FakeModelServer): Promise<ScenarioResult> {
  await world.pool({ id: o.poolId });
  const submitter = new Submitter(alternatingPlan(o, 'llm'), 4);
  const workers = Array.from({ length: Math.min(2, Math.max(1, o.agents)) }, () => llmWorker(world, server));
  await world.add(submitter, { name: 'coordinator', role: 'coordinator', pools: [o.poolId] });
  for (let i = 0; i < workers.length; i++) await world.add(workers[i]!, { name: `llm-worker-${i + 1}`, role: `llm worker (${FAKE_MODEL})`, pools: [o.poolId] });
  await world.start();
  await world.waitUntil(() => submitter.done && world.settledCount >= o.tasks, o.timeoutMs, o.signal);
  const byLlm = world.tasksDoneBy(workers);
  const stats = workers.map((w) => w.stats);
  const rejections: Record<string, number> = {};
  for (const s of stats) for (const [k, n] of Object.entries(s.rejections)) if (n > 0) rejections[k] = (rejections[k] ?? 0) + n;
  return workResult(world, o, {
    details: {
      model_server: server.baseUrl,
      model_requests: server.requests,
      model_requests_refused: server.refused,
      tasks_done_by_llm: byLlm,
      provider_errors: stats.reduce((n, s) => n + s.providerErrors, 0),
      decisions_rejected: rejections,
    },
    checks: {
      model_asked: server.requests > 0,
      tasks_done_by_llm_worker: byLlm === o.tasks,
      all_tasks_done: world.completed.size === o.tasks,
    },
  });
}
