// The behaviour every HTTP provider shares, run against a local server speaking its wire format.
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError } from '@converge/core';
import {
  LLMAuthError,
  LLMBadRequestError,
  LLMConnectionError,
  LLMRateLimitError,
  LLMResponseError,
  LLMServerError,
  LLMTimeoutError,
  type ChatChunk,
  type ChatRequest,
  type HttpProviderOptions,
  type LLMProvider,
} from '../../src/llm/index.js';
import { sendJson, sendSseAwkwardly, startFakeServer, type FakeServer, type Handler, type Recorded } from '../../../../test/support/fake-http-server.js';

export const API_KEY = 'sk-test-0123456789abcdef';

/** How one provider's API looks on the wire. */
export interface Wire {
  name: string;
  make(origin: string, options?: Partial<HttpProviderOptions>): LLMProvider;
  /** The path requests must go to. */
  path: string;
  /** Asserts the authentication / version headers. */
  checkHeaders(headers: Recorded['headers']): void;
  /** Asserts body fields for a request with a system prompt, temperature 0.5 and maxTokens 64. */
  checkBody(body: Recorded['body'], stream: boolean): void;
  success(content: string, model: string): unknown;
  /** A whole SSE stream delivering `pieces`, ending with usage 5 in / 7 out. */
  stream(pieces: string[], model: string): string;
  /** The same stream without its end marker. */
  truncatedStream(pieces: string[], model: string): string;
  /** An error body as this API writes it. */
  error(message: string): unknown;
}

const request = {
  messages: [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Say hello' },
  ],
  temperature: 0.5,
  maxTokens: 64,
};

async function collect(it: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

/**
 * Sends `req` through `provider` and checks that it rejects with a `type` matching `fields`
 * (the test fails when it resolves instead); resolves that error.
 */
async function chatRejects<E>(provider: LLMProvider, type: abstract new (...args: never[]) => E, fields: object = {}, req: ChatRequest = request): Promise<E> {
  const err = await provider.chat(req).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  expect(err).toMatchObject(fields);
  return err as E;
}

/** Registers the shared provider tests for `wire`. */
export function providerSuite(wire: Wire): void {
  describe(`${wire.name} provider (shared behaviour)`, () => {
    let server: FakeServer | undefined;
    const serve = async (handler: Handler): Promise<FakeServer> => (server = await startFakeServer(handler));
    const fast = { retry: { baseDelayMs: 1, maxDelayMs: 20, maxRetries: 3 } };
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('chat: sends the real request and parses the answer', async () => {
      const s = await serve((_req, res) => sendJson(res, 200, wire.success('Hello there', 'model-x')));
      const p = wire.make(s.origin);
      const out = await p.chat(request);
      expect(out.content).toBe('Hello there');
      expect(out.model).toBe('model-x');
      expect(out.usage?.inputTokens).toBe(5);
      expect(out.usage?.outputTokens).toBe(7);
      expect(out.finishReason).toBeTruthy();
      expect(s.requests).toHaveLength(1);
      const r = s.requests[0]!;
      expect(r.method).toBe('POST');
      expect(r.path).toBe(wire.path);
      expect(r.headers['content-type']).toBe('application/json');
      wire.checkHeaders(r.headers);
      wire.checkBody(r.body, false);
    });

    it('chatStream: reassembles SSE split at awkward byte boundaries', async () => {
      const pieces = ['Hél', 'lo, ', 'wörld 🚀', '!'];
      const s = await serve((_req, res) => sendSseAwkwardly(res, wire.stream(pieces, 'model-x')));
      const chunks = await collect(wire.make(s.origin).chatStream(request));
      expect(chunks.map((c) => c.delta).join('')).toBe(pieces.join(''));
      const last = chunks[chunks.length - 1]!;
      expect(last.usage?.inputTokens).toBe(5);
      expect(last.usage?.outputTokens).toBe(7);
      expect(s.requests[0]!.headers.accept).toBe('text/event-stream');
      wire.checkHeaders(s.requests[0]!.headers);
      wire.checkBody(s.requests[0]!.body, true);
    });

    it('chatStream: a stream that ends before its end marker is an LLMResponseError', async () => {
      const s = await serve((_req, res) => sendSseAwkwardly(res, wire.truncatedStream(['a', 'b'], 'm')));
      await expect(collect(wire.make(s.origin).chatStream(request))).rejects.toBeInstanceOf(LLMResponseError);
    });

    it('chatStream: a chunk that is not JSON is an LLMResponseError', async () => {
      const s = await serve((_req, res) => sendSseAwkwardly(res, 'data: {not json\n\n'));
      await expect(collect(wire.make(s.origin).chatStream(request))).rejects.toBeInstanceOf(LLMResponseError);
    });

    it('chatStream: breaking out of the loop closes the connection', async () => {
      const s = await serve(async (_req, res) => {
        const text = wire.stream(['first'], 'm');
        await sendSseAwkwardly(res, text.slice(0, text.indexOf('\n\n', text.indexOf('first')) + 2), { end: false });
        // never finishes: the client has to hang up
      });
      const p = wire.make(s.origin, { timeoutMs: 5000 });
      let got = '';
      for await (const c of p.chatStream(request)) {
        got += c.delta;
        if (c.delta) break;
      }
      expect(got).toBe('first');
      await expect.poll(() => s.clientCloses).toBe(1);
    });

    it('429 with Retry-After: 1 waits as told, then succeeds (backoff alone would have given up)', async () => {
      const s = await serve((_req, res, n) =>
        n === 0 ? sendJson(res, 429, wire.error('slow down'), { 'retry-after': '1' }) : sendJson(res, 200, wire.success('ok', 'm')),
      );
      // A 5–10 s backoff would not fit the 5 s deadline: only honouring Retry-After can succeed.
      const p = wire.make(s.origin, { timeoutMs: 5000, retry: { baseDelayMs: 10_000, maxDelayMs: 30_000, maxRetries: 3 } });
      expect((await p.chat(request)).content).toBe('ok');
      expect(s.requests).toHaveLength(2);
    });

    it('429 whose Retry-After exceeds the deadline: no early retry, LLMRateLimitError with retryAfterMs', async () => {
      const s = await serve((_req, res) => sendJson(res, 429, wire.error('slow down'), { 'retry-after': '1' }));
      await chatRejects(wire.make(s.origin, { ...fast, timeoutMs: 500 }), LLMRateLimitError, { retryAfterMs: 1000, code: 'ERR_LLM_RATE_LIMIT' });
      expect(s.requests).toHaveLength(1);
    });

    it('429 on every attempt: LLMRateLimitError after maxRetries', async () => {
      const s = await serve((_req, res) => sendJson(res, 429, wire.error('slow down')));
      await expect(wire.make(s.origin, fast).chat(request)).rejects.toBeInstanceOf(LLMRateLimitError);
      expect(s.requests).toHaveLength(4);
    });

    it('500 then success: retried', async () => {
      const s = await serve((_req, res, n) => (n === 0 ? sendJson(res, 500, wire.error('boom')) : sendJson(res, 200, wire.success('ok', 'm'))));
      expect((await wire.make(s.origin, fast).chat(request)).content).toBe('ok');
      expect(s.requests).toHaveLength(2);
    });

    it('persistent 500: LLMServerError after maxRetries (streams too)', async () => {
      const s = await serve((_req, res) => sendJson(res, 500, wire.error('boom')));
      await chatRejects(wire.make(s.origin, { retry: { baseDelayMs: 1, maxRetries: 2 } }), LLMServerError, {
        status: 500,
        message: expect.stringContaining('boom'),
      });
      expect(s.requests).toHaveLength(3);
      await expect(collect(wire.make(s.origin, { retry: { baseDelayMs: 1, maxRetries: 0 } }).chatStream(request))).rejects.toBeInstanceOf(LLMServerError);
      expect(s.requests).toHaveLength(4);
    });

    it('401: LLMAuthError, not retried, the key never in the message', async () => {
      const s = await serve((_req, res) => sendJson(res, 401, wire.error(`Incorrect API key provided: ${API_KEY}`)));
      const err = await chatRejects(wire.make(s.origin, fast), LLMAuthError, { code: 'ERR_LLM_AUTH' });
      expect(err.message).not.toContain(API_KEY);
      expect(err.message).toContain('[redacted]');
      expect(JSON.stringify(wire.make(s.origin))).not.toContain(API_KEY);
      expect(s.requests).toHaveLength(1);
    });

    it('403: LLMAuthError', async () => {
      const s = await serve((_req, res) => sendJson(res, 403, wire.error('forbidden')));
      await expect(wire.make(s.origin, fast).chat(request)).rejects.toBeInstanceOf(LLMAuthError);
    });

    it('400 / 404 / 422: LLMBadRequestError, not retried', async () => {
      for (const status of [400, 404, 422]) {
        const s = await serve((_req, res) => sendJson(res, status, wire.error('bad field')));
        await chatRejects(wire.make(s.origin, fast), LLMBadRequestError, { status });
        expect(s.requests).toHaveLength(1);
        await s.close();
        server = undefined;
      }
    });

    it('a server that never answers: LLMTimeoutError after timeoutMs', async () => {
      const s = await serve(() => {});
      await chatRejects(wire.make(s.origin, fast), LLMTimeoutError, { code: 'ERR_LLM_TIMEOUT' }, { ...request, timeoutMs: 150 });
      expect(s.requests).toHaveLength(1);
    });

    it('a stream that stalls: LLMTimeoutError', async () => {
      const s = await serve(async (_req, res) => {
        await sendSseAwkwardly(res, wire.stream(['x'], 'm').split('\n\n')[0] + '\n\n', { end: false });
      });
      await expect(collect(wire.make(s.origin, { timeoutMs: 200 }).chatStream(request))).rejects.toBeInstanceOf(LLMTimeoutError);
    });

    it('malformed bodies: LLMResponseError', async () => {
      const bodies = ['this is not json', '{"unexpected": true}', '[]'];
      const s = await serve((_req, res, n) => sendJson(res, 200, bodies[n % bodies.length]!));
      for (let i = 0; i < bodies.length; i++) await expect(wire.make(s.origin, fast).chat(request)).rejects.toBeInstanceOf(LLMResponseError);
    });

    it('a response over maxResponseBytes: LLMResponseError', async () => {
      const s = await serve((_req, res) => sendJson(res, 200, wire.success('x'.repeat(5000), 'm')));
      await expect(wire.make(s.origin, { maxResponseBytes: 1000 }).chat(request)).rejects.toBeInstanceOf(LLMResponseError);
    });

    it('abort through the caller signal: AbortError, while waiting and before sending', async () => {
      const s = await serve(() => {});
      const ac = new AbortController();
      const pending = wire.make(s.origin).chat({ ...request, signal: ac.signal });
      await s.waitForRequests(1);
      ac.abort();
      const err = await pending.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AbortError);
      expect(err).not.toBeInstanceOf(LLMTimeoutError);
      await expect(wire.make(s.origin).chat({ ...request, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
      expect(s.requests).toHaveLength(1);
    });

    it('abort during backoff: AbortError, no further attempt', async () => {
      const s = await serve((_req, res) => sendJson(res, 503, wire.error('busy')));
      const ac = new AbortController();
      const pending = wire.make(s.origin, { retry: { baseDelayMs: 20_000, maxDelayMs: 30_000 } }).chat({ ...request, signal: ac.signal });
      await s.waitForRequests(1);
      setImmediate(() => ac.abort());
      await expect(pending).rejects.toBeInstanceOf(AbortError);
      expect(s.requests).toHaveLength(1);
    });

    it('connection refused: retried, then LLMConnectionError', async () => {
      const s = await startFakeServer(() => {});
      const origin = s.origin;
      await s.close();
      const err = await chatRejects(wire.make(origin, { retry: { baseDelayMs: 1, maxRetries: 1 } }), LLMConnectionError);
      expect(err.message).not.toContain(API_KEY);
    });
  });
}
