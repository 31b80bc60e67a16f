import { describe, expect, it } from 'vitest';
import { AnthropicProvider, LLMServerError, LLMRateLimitError, type ChatChunk } from '../../src/llm/index.js';
import { API_KEY, providerSuite, type Wire } from './provider-suite.js';
import { sendSseAwkwardly, startFakeServer } from '../../../../test/support/fake-http-server.js';

const ev = (event: string, data: object): string => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
const body = (pieces: string[], model: string): string =>
  ev('message_start', {
    message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model, stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } },
  }) +
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
  ev('ping', {}) +
  pieces.map((p) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })).join('') +
  ev('content_block_stop', { index: 0 }) +
  ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } });

const make = (origin: string, o = {}): AnthropicProvider => new AnthropicProvider({ apiKey: API_KEY, model: 'test-model', baseUrl: origin, ...o });

const wire: Wire = {
  name: 'anthropic',
  make,
  path: '/v1/messages',
  checkHeaders: (h) => {
    expect(h['x-api-key']).toBe(API_KEY);
    expect(h['anthropic-version']).toBe('2023-06-01');
    expect(h.authorization).toBeUndefined();
  },
  checkBody: (b, stream) => {
    expect(b.model).toBe('test-model');
    expect(b.system).toBe('Be brief.');
    expect(b.messages).toEqual([{ role: 'user', content: 'Say hello' }]);
    expect(b.max_tokens).toBe(64);
    expect(b.temperature).toBe(0.5);
    expect(b.stream).toBe(stream ? true : undefined);
  },
  success: (content, model) => ({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: content }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 7 },
  }),
  stream: (pieces, model) => body(pieces, model) + ev('message_stop', {}),
  truncatedStream: body,
  error: (message) => ({ type: 'error', error: { type: 'invalid_request_error', message } }),
};

providerSuite(wire);

async function collect(it: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('AnthropicProvider specifics', () => {
  it('always sends max_tokens (default 1024), no system field without system messages', async () => {
    const s = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(wire.success('hi', 'm')));
    });
    try {
      await make(s.origin).chat({ messages: [{ role: 'user', content: 'x' }] });
      expect(s.requests[0]!.body.max_tokens).toBe(1024);
      expect('system' in s.requests[0]!.body).toBe(false);
      await make(s.origin, { version: '2024-01-01', maxTokens: 10 }).chat({ messages: [{ role: 'user', content: 'x' }] });
      expect(s.requests[1]!.headers['anthropic-version']).toBe('2024-01-01');
      expect(s.requests[1]!.body.max_tokens).toBe(10);
    } finally {
      await s.close();
    }
  });

  it('an error event in the stream becomes a typed error', async () => {
    const events = [
      ['overloaded_error', LLMServerError],
      ['rate_limit_error', LLMRateLimitError],
    ] as const;
    for (const [type, cls] of events) {
      const s = await startFakeServer((_req, res) => sendSseAwkwardly(res, body(['a'], 'm') + ev('error', { error: { type, message: 'Overloaded' } })));
      try {
        await expect(collect(make(s.origin).chatStream({ messages: [{ role: 'user', content: 'x' }] }))).rejects.toBeInstanceOf(cls);
      } finally {
        await s.close();
      }
    }
  });

  it('defaults to the public API', () => {
    expect(new AnthropicProvider({ apiKey: 'k', model: 'm' }).baseUrl).toBe('https://api.anthropic.com');
  });
});
