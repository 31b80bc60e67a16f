// An LLMAgent asks a model what to do with the tasks on offer. The "model" here is a local
// OpenAI-compatible HTTP server (127.0.0.1, a free port) that answers with a fixed JSON list
// of decisions, some of which the agent must refuse: an allowlist policy forbids sending
// messages, one decision is malformed and one has an unknown type.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTask, type Decision, type DecisionPolicy } from '@converge/core';
import { LLMAgent, OpenAIProvider } from '@converge/extensions/llm';

const task = createTask({ id: 'task-42', objective: 'add two numbers', inputs: { a: 2, b: 3 } });

// What the fake model says: prose around a fenced JSON list, as real models often do.
const answer = [
  'Here is my plan:',
  '```json',
  JSON.stringify(
    [
      { type: 'ClaimTask', taskId: 'task-42' },
      { type: 'ReportTask', taskId: 'task-42', result: { sum: 5 } },
      { type: 'SendMessage', recipient: null, payload: { text: 'I did it!' } },
      { type: 'SubmitBid', auctionId: 'auction-1', amount: 'a lot' },
      { type: 'FormatDisk', device: '/dev/sda' },
    ],
    null,
    2,
  ),
  '```',
].join('\n');

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const { model } = JSON.parse(body) as { model: string };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-local',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
        usage: { prompt_tokens: Math.ceil(body.length / 4), completion_tokens: Math.ceil(answer.length / 4), total_tokens: 0 },
      }),
    );
  });
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

// Only task work is allowed (the real ActionPolicy lives in @converge/policy).
const allowed = new Set(['ClaimTask', 'ReportTask']);
const policy: DecisionPolicy = {
  check: (d: Decision) => (allowed.has(d.type) ? { allowed: true } : { allowed: false, reason: `${d.type} is not on the allowlist` }),
};

const agent = new LLMAgent({
  provider: new OpenAIProvider({ apiKey: 'local-demo-key', model: 'fake-model', baseUrl: `http://127.0.0.1:${port}/v1`, timeoutMs: 10_000 }),
  systemPrompt: 'You are a worker agent. Claim tasks you can do and report their results.',
  policy,
  timeoutMs: 10_000,
  onRejection: (r) => console.log(`rejected (${r.reason}): ${r.detail}`),
});

try {
  const decisions = await agent.decide([], [task]);
  for (const d of decisions) console.log(`accepted: ${JSON.stringify(d)}`);
  const s = agent.stats;
  const rejected = Object.values(s.rejections).reduce((a, b) => a + b, 0);
  console.log(`rejections by reason: ${JSON.stringify(s.rejections)}`);
  console.log(`summary: ${s.proposed} proposed, ${s.accepted} accepted, ${rejected} rejected, ${s.providerErrors} provider errors`);
  process.exitCode = s.accepted === 2 && s.providerErrors === 0 ? 0 : 1;
} finally {
  server.closeAllConnections();
  server.close();
}
