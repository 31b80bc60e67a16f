// The fake model server the `llm` scenario starts: a real HTTP server on 127.0.0.1 speaking the
// OpenAI Chat Completions shape; it answers the LLMAgent's prompt with claims and reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_MODEL_MAX_TASKS, fakeModelAnswer, startFakeModelServer, type FakeModelServer } from '../src/scenarios/fake-model-server.js';
import { cliLogger } from '../src/logging.js';

let server: FakeModelServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});

const prompt = (tasks: unknown[]) => JSON.stringify({ agent: { id: 'a1', capabilities: ['sum', 'sort'] }, messages: [], tasks });

describe('the fake model server', () => {
  it('listens on 127.0.0.1 and answers a chat completion with the decisions for the pending tasks', async () => {
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const res = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        messages: [
          { role: 'system', content: 'x' },
          {
            role: 'user',
            content: prompt([
              { id: 't1', objective: 'sum', inputs: { numbers: [1, 2, 3] }, state: 'pending' },
              { id: 't2', objective: 'sort', inputs: { numbers: [3, 1, 2] }, state: 'pending' },
              { id: 't3', objective: 'sum', inputs: { numbers: [1] }, state: 'assigned' },
            ]),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[]; model: string };
    expect(body.model).toBe('m');
    const decisions = JSON.parse(body.choices[0]!.message.content.replace(/^```json\n|\n```$/g, '')) as { type: string; taskId: string; result?: unknown }[];
    expect(decisions).toEqual(
      expect.arrayContaining([
        { type: 'ClaimTask', taskId: 't1' },
        { type: 'ReportTask', taskId: 't1', result: 6 },
        { type: 'ClaimTask', taskId: 't2' },
        { type: 'ReportTask', taskId: 't2', result: [1, 2, 3] },
      ]),
    );
    expect(decisions.some((d) => d.taskId === 't3')).toBe(false); // not pending
    expect(server.requests).toBe(1);
  });

  it('refuses other paths, bodies that are not JSON and JSON that is not a chat request, and counts them', async () => {
    const before = server.refused;
    expect((await fetch(`${server.baseUrl}/models`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body: '{nope' })).status).toBe(400);
    for (const body of ['null', '[1]', '{"model":7}', '{"messages":[null]}']) {
      expect((await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body })).status).toBe(400);
    }
    expect(server.refused).toBe(before + 6);
  });

  it('takes on at most FAKE_MODEL_MAX_TASKS tasks per answer, and nothing from a prompt that is not JSON', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, objective: 'sum', inputs: { numbers: [i] }, state: 'pending' }));
    expect(fakeModelAnswer(prompt(many)).tasks).toBe(FAKE_MODEL_MAX_TASKS);
    expect(fakeModelAnswer('not json')).toEqual({ decisions: [], tasks: 0 });
  });
});

describe('the CLI logger', () => {
  it('-v means debug (decisions, outcomes, task states); --log-level still wins when given', () => {
    expect(cliLogger({ verbose: true, logLevel: 'warn' }, false).level).toBe('debug');
    expect(cliLogger({ verbose: false, logLevel: 'warn' }, false).level).toBe('warn');
    expect(cliLogger({ verbose: true, logLevel: 'trace' }, false).level).toBe('trace');
    expect(cliLogger({ verbose: false, logLevel: 'debug' }, false).level).toBe('debug');
  });
});
