import { describe, expect, it } from 'vitest';
import { ConfigError, ValidationError } from '@converge/core';
import { MistralProvider, OpenAIProvider, OpenAICompatibleProvider } from '../../src/llm/index.js';
import { API_KEY, providerSuite } from './provider-suite.js';
import { openAiWire } from './openai-wire.js';

providerSuite(
  openAiWire('openai', (origin, o) => new OpenAIProvider({ apiKey: API_KEY, model: 'test-model', baseUrl: `${origin}/v1`, ...o }), 'max_completion_tokens'),
);

describe('OpenAIProvider specifics', () => {
  it('defaults to the public API and asks for usage in streams', () => {
    const p = new OpenAIProvider({ apiKey: API_KEY, model: 'gpt-x' });
    expect(p.baseUrl).toBe('https://api.openai.com/v1');
    expect(p.name).toBe('openai');
  });
  it('refuses a missing key or model, and bad requests before sending', async () => {
    expect(() => new OpenAIProvider({ apiKey: '', model: 'm' })).toThrow(ConfigError);
    expect(() => new OpenAIProvider({ apiKey: 'k', model: '' })).toThrow(ConfigError);
    expect(() => new OpenAIProvider({ apiKey: 'k', model: 'm', baseUrl: 'not a url' })).toThrow(ConfigError);
    let called = 0;
    const p = new OpenAIProvider({
      apiKey: 'k',
      model: 'm',
      fetch: (async () => {
        called++;
        return new Response('{}');
      }) as typeof fetch,
    });
    await expect(p.chat({ messages: [] })).rejects.toBeInstanceOf(ValidationError);
    await expect(p.chat({ messages: [{ role: 'robot' as never, content: 'x' }] })).rejects.toBeInstanceOf(ValidationError);
    expect(called).toBe(0);
  });
  it('Mistral and compatible providers have their own names and defaults', () => {
    expect(new MistralProvider({ apiKey: 'k', model: 'm' }).baseUrl).toBe('https://api.mistral.ai/v1');
    expect(new OpenAICompatibleProvider({ apiKey: 'k', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' }, 'local').name).toBe('local');
  });
});
