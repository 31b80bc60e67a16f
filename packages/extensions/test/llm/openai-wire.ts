import { expect } from 'vitest';
import { API_KEY, type Wire } from './provider-suite.js';

// OpenAI Chat Completions wire format (shared by Mistral).
export function openAiWire(name: string, make: Wire['make'], maxTokensField: string): Wire {
  const chunk = (o: object): string => `data: ${JSON.stringify(o)}\n\n`;
  const body = (pieces: string[], model: string): string =>
    chunk({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) +
    pieces
      .map((p) => chunk({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] }))
      .join('') +
    chunk({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
    chunk({ id: 'c1', object: 'chat.completion.chunk', model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } });
  return {
    name,
    make,
    path: '/v1/chat/completions',
    checkHeaders: (h) => expect(h.authorization).toBe(`Bearer ${API_KEY}`),
    checkBody: (b, stream) => {
      expect(b.model).toBe('test-model');
      expect(b.messages).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ]);
      expect(b.temperature).toBe(0.5);
      expect(b[maxTokensField]).toBe(64);
      expect(b.stream).toBe(stream ? true : undefined);
    },
    success: (content, model) => ({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    }),
    stream: (pieces, model) => body(pieces, model) + 'data: [DONE]\n\n',
    truncatedStream: (pieces, model) => body(pieces, model),
    error: (message) => ({ error: { message, type: 'invalid_request_error', code: null } }),
  };
}
