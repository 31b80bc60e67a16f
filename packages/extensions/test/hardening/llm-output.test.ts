// Property-based tests of model-output handling: extractDecisionList never throws (undefined or
// a list), and LLMAgent.vet never throws, never returns more than maxDecisions, never returns a
// decision the schema or the policy forbids, and accounts for every proposed decision.
// Also pins the linear-time fence scan (a quadratic regex made 200,000 characters take minutes).
// Runs: CONVERGE_FUZZ_RUNS (default 300).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Decision } from '@converge/core';
import { LLMAgent, MAX_MODEL_OUTPUT_CHARS, coreDecisionSchema, customDecisionSchema, extractDecisionList, type LLMProvider } from '../../src/llm/index.js';

const RUNS = Number(process.env.CONVERGE_FUZZ_RUNS ?? 300);
const provider: LLMProvider = {
  name: 'none',
  chat: () => Promise.reject(new Error('not called')),
  // eslint-disable-next-line require-yield
  chatStream: async function* () {
    throw new Error('not called');
  },
};

const TYPES = ['SendMessage', 'ClaimTask', 'ReportTask', 'FailTask', 'InvokeTool', 'Delegate', 'SubmitBid', 'Vote', 'Custom', 'Evil', '', 'JoinPool'];
const decisionLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 10 }), fc.anything()),
    taskId: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)),
    recipient: fc.oneof(fc.string({ maxLength: 5 }), fc.constant(null)),
    payload: fc.jsonValue({ maxDepth: 2 }),
    result: fc.jsonValue({ maxDepth: 2 }),
    tool: fc.string({ maxLength: 5 }),
    params: fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })), fc.anything()),
    amount: fc.oneof(fc.double(), fc.integer()),
    __proto__: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
const wrap = fc.tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.constantFrom('plain', 'fence', 'jsonfence', 'object', 'single'));
const modelText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('`', '[', ']', '{', '}', '"', '\\', '\n', 'a', ' ', 'json'), maxLength: 300 }),
  fc.tuple(fc.array(decisionLike, { maxLength: 20 }), wrap).map(([list, [pre, post, how]]) => {
    const json = JSON.stringify(how === 'object' ? { decisions: list } : how === 'single' ? (list[0] ?? {}) : list);
    if (how === 'fence') return `${pre}\n\`\`\`\n${json}\n\`\`\`\n${post}`;
    if (how === 'jsonfence') return `${pre}\n\`\`\`json\n${json}\n\`\`\`${post}`;
    return `${pre} ${json} ${post}`;
  }),
);

describe('model output (property-based)', () => {
  it('extractDecisionList never throws: undefined or an array', () => {
    fc.assert(
      fc.property(modelText, (text) => {
        const r = extractDecisionList(text);
        expect(r === undefined || Array.isArray(r)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('vet never throws and never returns a decision the schema or the policy forbids', () => {
    fc.assert(
      fc.property(modelText, fc.integer({ min: 1, max: 8 }), (text, maxDecisions) => {
        const agent = new LLMAgent({
          provider,
          maxDecisions,
          allowCustomTypes: ['Custom'],
          policy: { check: (d: Decision) => (d.type === 'InvokeTool' ? { allowed: false, reason: 'no tools' } : { allowed: true }) },
        });
        const out = agent.vet(text);
        expect(Array.isArray(out)).toBe(true);
        expect(out.length).toBeLessThanOrEqual(maxDecisions);
        for (const d of out) {
          expect(d.type).not.toBe('InvokeTool');
          expect(d.type).not.toBe('Evil');
          const ok = d.type === 'Custom' ? customDecisionSchema.safeParse(d).success : coreDecisionSchema.safeParse(d).success;
          expect(ok, JSON.stringify(d)).toBe(true);
        }
        const s = agent.stats;
        const list = extractDecisionList(text);
        if (list === undefined) expect(s.rejections.unparseable).toBe(1);
        else {
          expect(s.proposed).toBe(list.length);
          expect(s.accepted + s.rejections.schema + s.rejections.policy + s.rejections.too_many).toBe(s.proposed);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('scans the longest accepted output with unclosed fences in linear time (no regex backtracking blow-up)', () => {
    // These took ~100 s each with the former fence regex; now milliseconds. The bound is on
    // work done, not wall time: each call must finish, and the test timeout (60 s) bounds it.
    const n = MAX_MODEL_OUTPUT_CHARS;
    for (const text of ['```' + 'a'.repeat(n - 3), '```a'.repeat(n / 4), '``` ' + 'ab '.repeat((n - 4) / 3)]) {
      expect(extractDecisionList(text)).toBeUndefined();
    }
    expect(extractDecisionList('x\n```json\n[{"type":"ClaimTask","taskId":"t"}]\n```')).toEqual([{ type: 'ClaimTask', taskId: 't' }]);
  });
});
