import { MistralProvider } from '../../src/llm/index.js';
import { API_KEY, providerSuite } from './provider-suite.js';
import { openAiWire } from './openai-wire.js';

providerSuite(openAiWire('mistral', (origin, o) => new MistralProvider({ apiKey: API_KEY, model: 'test-model', baseUrl: `${origin}/v1`, ...o }), 'max_tokens'));
