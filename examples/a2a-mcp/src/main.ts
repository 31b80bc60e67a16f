// A pool served as an A2A agent answers an A2A request with an MCP tool.
//
// - An MCP server (calc-server.ts, built with the official MCP SDK) runs as a child process
//   over stdio; `McpToolset` makes its `multiply` tool the Converge tool `calc__multiply`.
// - An LLM worker (LLMAgent on a local fake OpenAI-compatible model, fake-model.ts) is a member
//   of the pool `math-desk`; its runtime's executor may call only that tool.
// - The pool is served over A2A (`@converge/a2a`, signed card, bearer token); the official A2A
//   client verifies the card and streams a message `{ a: 17, b: 23 }` to completion.
//
// The A2A send becomes a Converge task; the worker's model calls the MCP tool, gets its result
// back as an outcome in the next turn, claims the task and reports the product, which returns
// to the A2A client as the task's artifact.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskState } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { Identity, ToolRegistry, createTopic } from '@converge/core';
import { PoolManager, StoreTaskQueue } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { LLMAgent, OpenAIProvider } from '@converge/extensions/llm';
import { AgentRuntime } from '@converge/runtime';
import { McpToolset } from '@converge/mcp';
import { JWKS_PATH, createA2AServer, dataPart, textPart, userMessage, verifyAgentCard } from '@converge/a2a';
import { startFakeModel, type FakeModel } from './fake-model.js';

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'example-token';
const stateName = (s: TaskState | undefined) => (s === undefined ? '?' : TaskState[s].replace('TASK_STATE_', '').toLowerCase());

// Step 1: the MCP server's tools, as Converge tools named calc__<tool> (LLM providers allow no '/').
async function connectCalc(): Promise<{ calc: McpToolset; tools: ToolRegistry }> {
  const calc = new McpToolset({
    name: 'calc',
    separator: '__',
    transport: { type: 'stdio', command: process.execPath, args: ['--import', 'tsx', resolve(here, 'calc-server.ts')], cwd: resolve(here, '../../..') },
  });
  await calc.connect();
  const tools = new ToolRegistry();
  calc.register(tools);
  const pinned = calc.info()[0]!;
  console.log(`mcp: ${calc.toolNames().join(', ')} listed, pinned ${pinned.offered.slice(0, 16)}…`);
  return { calc, tools };
}

// Step 2: an LLM worker in the pool, whose executor may call only the calc tools.
async function startWorker(
  pools: PoolManager,
  poolId: string,
  queue: StoreTaskQueue,
  model: FakeModel,
  calc: McpToolset,
  tools: ToolRegistry,
): Promise<AgentRuntime> {
  const worker = new LLMAgent({
    provider: new OpenAIProvider({ apiKey: 'local-demo-key', model: 'fake-model', baseUrl: model.baseUrl, timeoutMs: 10_000, retry: { maxRetries: 0 } }),
    systemPrompt: 'You work the math desk: use the calc tools, then claim the task and report the answer.',
    tools: calc.toolSpecs(),
    timeoutMs: 10_000,
    onRejection: (r) => console.log(`worker rejected (${r.reason}): ${r.detail}`),
  });
  await pools.joinPool(worker.id, poolId);
  const runtime = new AgentRuntime({
    agent: worker,
    poolManager: pools,
    taskManager: queue.manager,
    executorOptions: { tools, toolAllowlist: calc.toolNames(), toolTimeoutMs: 10_000 },
  });
  await runtime.start();
  return runtime;
}

// Step 3 (client side): the card is signed by the pool owner: check it against the published key
// before trusting it. Returns whether the pool owner signed it.
async function verifyCard(url: string, owner: Identity): Promise<boolean> {
  const jwks = (await (await fetch(new URL(JWKS_PATH, url))).json()) as { keys: { kid: string }[] };
  const card = await new DefaultAgentCardResolver().resolve(url);
  const verified = await verifyAgentCard(card, async (kid) => jwks.keys.find((k) => k.kid === kid) as never);
  const byOwner = verified.keyFingerprint === owner.fingerprint;
  console.log(`a2a card: "${card.name}" signed by ${verified.keyFingerprint.slice(0, 16)}… (the pool owner: ${byOwner})`);
  return byOwner;
}

// Step 4 (client side): stream one message to completion; returns the artifact and the last state.
async function askOverA2A(url: string): Promise<{ answer: unknown; last: TaskState | undefined }> {
  const client = await new ClientFactory({ transports: [new JsonRpcTransportFactory()] }).createFromUrl(url);
  const message = userMessage([textPart('What is 17 times 23?'), dataPart({ a: 17, b: 23 })]);
  const request = {
    tenant: '',
    message,
    configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
    metadata: {},
  };
  let answer: unknown;
  let last: TaskState | undefined;
  for await (const ev of client.sendMessageStream(request, { serviceParameters: { authorization: `Bearer ${TOKEN}` } })) {
    const p = ev.payload;
    if (p?.$case === 'task') console.log(`a2a task ${p.value.id.slice(0, 8)}…: ${stateName(p.value.status?.state)}`);
    if (p?.$case === 'statusUpdate') {
      last = p.value.status?.state;
      console.log(`a2a status: ${stateName(last)}`);
    }
    if (p?.$case === 'artifactUpdate') {
      const content = p.value.artifact?.parts[0]?.content;
      answer = content?.$case === 'text' || content?.$case === 'data' ? content.value : undefined;
      console.log(`a2a artifact: ${JSON.stringify(answer)}`);
    }
  }
  return { answer, last };
}

async function main(): Promise<number> {
  const model = await startFakeModel();
  const store = new MemoryStore();
  const pools = new PoolManager({ store });
  const owner = Identity.generate();
  const pool = await pools.createPool({ id: 'math-desk', topics: [createTopic('math')], owner: owner.fingerprint });
  const queue = new StoreTaskQueue({ store, pools, pollMs: 20 });
  await queue.start();
  const { calc, tools } = await connectCalc();
  const runtime = await startWorker(pools, pool.id, queue, model, calc, tools);

  // Step 3: the pool, served as an A2A agent with a card signed by its owner.
  const server = await createA2AServer({
    port: 0,
    host: '127.0.0.1',
    queue,
    pool,
    identity: owner,
    capabilities: ['multiply'],
    card: { name: 'math desk', description: 'multiplies numbers with an MCP tool' },
    auth: { bearerTokens: { [TOKEN]: 'example-client' } },
    limits: { pollMs: 20 },
  });
  console.log(`a2a: ${server.url}`);

  try {
    const signedByOwner = await verifyCard(server.url, owner);
    const { answer, last } = await askOverA2A(server.url);
    const calls = calc.stats().calls;
    const ok = last === TaskState.TASK_STATE_COMPLETED && answer === '17 × 23 = 391' && calls.ok === 1 && signedByOwner;
    console.log(
      `summary: mcp calls ok ${calls.ok}, model calls ${model.calls}, a2a task ${stateName(last)}, answer ${JSON.stringify(answer)}, ${ok ? 'OK' : 'FAILED'}`,
    );
    return ok ? 0 : 1;
  } finally {
    await server.close();
    await runtime.stop();
    await calc.close();
    await queue.stop();
    await model.close();
  }
}

// exit() ends the process even where a handle still holds the event loop; a failure rejects,
// and Node prints it and exits with code 1.
process.exit(await main());
