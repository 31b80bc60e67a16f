import { describe, expect, it } from 'vitest';
import { createPool, createTopic } from '@converge/core';

describe('createPool', () => {
  it('fills defaults: uuid id, no topics, no agents, no policies', () => {
    const p = createPool();
    expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(p).toEqual({ id: p.id, topics: [], agents: [] });
    expect('admission' in p).toBe(false);
  });

  it('keeps given fields and copies arrays and policy specs', () => {
    const agents = ['a'];
    const admission = { type: 'whitelist', agents: ['a'] };
    const p = createPool({ id: 'p1', agents, topics: [createTopic('t')], admission, governance: { type: 'democratic' }, metadata: { k: 1 } });
    agents.push('b');
    admission.type = 'open';
    expect(p.agents).toEqual(['a']);
    expect(p.admission).toEqual({ type: 'whitelist', agents: ['a'] });
    expect(p.governance).toEqual({ type: 'democratic' });
    expect(p.metadata).toEqual({ k: 1 });
    expect(p.id).toBe('p1');
  });
});
