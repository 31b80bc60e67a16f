// M3: model output nested 10,000 deep made vet/decide throw RangeError (zod's recursive JSON
// schema). Depth is now bounded by a scan before any parse, and vet never throws.
import { describe, expect, it } from 'vitest';
import { LLMAgent, MAX_MODEL_OUTPUT_DEPTH, extractDecisionList, jsonDepthWithin, type LLMProvider } from '../../src/llm/index.js';

const deep = (n: number) => `[{"type":"SendMessage","recipient":null,"payload":${'['.repeat(n)}${']'.repeat(n)}}]`;
const answering = (content: string): LLMProvider => ({
  name: 'fixed',
  chat: async () => ({ content, model: 'fixed' }),
  // eslint-disable-next-line require-yield
  chatStream: async function* () {
    throw new Error('not called');
  },
});

describe('deeply nested model output (M3)', () => {
  it('vet refuses output nested 10,000 deep as unparseable, without throwing', () => {
    const agent = new LLMAgent({ provider: answering('') });
    const details: string[] = [];
    const a = new LLMAgent({ provider: answering(''), onRejection: (r) => details.push(`${r.reason}: ${r.detail}`) });
    expect(a.vet(deep(10_000))).toEqual([]);
    expect(a.stats.rejections.unparseable).toBe(1);
    expect(a.stats.rejections.schema).toBe(0);
    expect(details[0]).toMatch(/deeper than 64/);
    // Also inside a fence and inside prose.
    expect(agent.vet('```json\n' + deep(10_000) + '\n```')).toEqual([]);
    expect(agent.vet('here: ' + deep(10_000) + ' done')).toEqual([]);
    expect(agent.stats.rejections.unparseable).toBe(2);
  });

  it('decide returns [] for such output (counted), and accepts output within the bound', async () => {
    const bad = new LLMAgent({ provider: answering(deep(10_000)) });
    await expect(bad.decide([], [])).resolves.toEqual([]);
    expect(bad.stats.rejections.unparseable).toBe(1);
    const ok = new LLMAgent({ provider: answering(deep(MAX_MODEL_OUTPUT_DEPTH - 2)) });
    const out = await ok.decide([], []);
    expect(out).toHaveLength(1);
    expect(out[0]!.type).toBe('SendMessage');
  });

  it('the scan counts only brackets outside strings', () => {
    expect(jsonDepthWithin(`["${'['.repeat(1000)}"]`)).toBe(true);
    expect(jsonDepthWithin('[[[]]]', 2)).toBe(false);
    expect(jsonDepthWithin('[[]]', 2)).toBe(true);
    expect(extractDecisionList(deep(10_000))).toBeUndefined();
  });
});
