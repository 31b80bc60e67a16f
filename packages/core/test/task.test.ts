import { describe, expect, it } from 'vitest';
import { TASK_STATES, ValidationError, createTask, createTopic, isTerminalState } from '@converge/core';

describe('createTask', () => {
  it('fills defaults: uuid id, pending, no assignee, attempts 0, empty records', () => {
    const t = createTask({ objective: 'sum' });
    expect(t.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t).toMatchObject({
      objective: 'sum',
      inputs: {},
      outputs: {},
      constraints: {},
      evaluator: null,
      state: 'pending',
      assignedTo: null,
      result: null,
      claimedAt: null,
      poolId: null,
      topic: null,
      requiredCapabilities: [],
      attempts: 0,
    });
    expect(createTask({ objective: 'x' }).id).not.toBe(t.id);
  });

  it('keeps given fields and copies the records and arrays it is given', () => {
    const inputs = { a: 1 };
    const caps = ['math'];
    const topic = createTopic('tasks');
    const t = createTask({
      objective: 'o',
      id: 'id1',
      inputs,
      requiredCapabilities: caps,
      constraints: { maxRetries: 2, claimTtlMs: 10, deadline: 5 },
      state: 'running',
      attempts: 3,
      topic,
      poolId: 'p',
    });
    inputs.a = 2;
    caps.push('more');
    expect(t.inputs).toEqual({ a: 1 });
    expect(t.requiredCapabilities).toEqual(['math']);
    expect(t).toMatchObject({ id: 'id1', state: 'running', attempts: 3, poolId: 'p', constraints: { maxRetries: 2, claimTtlMs: 10, deadline: 5 } });
    expect(t.topic).toBe(topic);
  });

  it('refuses a task without a string objective', () => {
    expect(() => createTask({} as never)).toThrow(ValidationError);
    expect(() => createTask({ objective: 3 } as never)).toThrow(ValidationError);
  });
});

describe('task states', () => {
  it('lists the six states and knows which are terminal', () => {
    expect(TASK_STATES).toEqual(['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled']);
    expect(TASK_STATES.filter(isTerminalState)).toEqual(['completed', 'failed', 'cancelled']);
  });
});
