// What maps to what: Converge task states to A2A states, A2A message parts to task inputs, a
// task's result to an artifact and back.
import { describe, expect, it } from 'vitest';
import { Role, TaskState, type Message } from '@a2a-js/sdk';
import { Float64, TASK_STATES } from '@converge/core';
import { a2aStateOf, inputsOfMessage, isTerminalA2AState, resultArtifact, resultOfArtifacts, toJsonValue } from '@converge/a2a';

describe('A2A ↔ Converge mapping', () => {
  it('maps every Converge task state, and a retried pending task stays working', () => {
    expect(TASK_STATES.map((s) => a2aStateOf(s))).toEqual([
      TaskState.TASK_STATE_SUBMITTED,
      TaskState.TASK_STATE_WORKING,
      TaskState.TASK_STATE_WORKING,
      TaskState.TASK_STATE_COMPLETED,
      TaskState.TASK_STATE_FAILED,
      TaskState.TASK_STATE_CANCELED,
    ]);
    expect(a2aStateOf('pending', 1)).toBe(TaskState.TASK_STATE_WORKING);
    expect([TaskState.TASK_STATE_REJECTED, TaskState.TASK_STATE_WORKING].map(isTerminalA2AState)).toEqual([true, false]);
  });

  it('turns data-part fields, text and URL parts into task inputs, keeping the message and context ids', () => {
    const m: Message = {
      role: Role.ROLE_USER,
      messageId: 'm1',
      taskId: '',
      contextId: '',
      metadata: {},
      extensions: [],
      referenceTaskIds: [],
      parts: [
        { content: { $case: 'text', value: 'line one' }, mediaType: 'text/plain', filename: '', metadata: {} },
        { content: { $case: 'data', value: { numbers: [1, 2], nested: { a: true } } }, mediaType: 'application/json', filename: '', metadata: {} },
        { content: { $case: 'data', value: [3, 4] }, mediaType: 'application/json', filename: '', metadata: {} },
        { content: { $case: 'url', value: 'https://example.org/f.txt' }, mediaType: 'text/plain', filename: 'f.txt', metadata: {} },
        { content: { $case: 'text', value: 'line two' }, mediaType: 'text/plain', filename: '', metadata: {} },
      ],
    };
    expect(inputsOfMessage(m, 'ctx-1')).toEqual({
      numbers: [1, 2],
      nested: { a: true },
      text: 'line one\nline two',
      data: [[3, 4]],
      files: [{ url: 'https://example.org/f.txt', mediaType: 'text/plain', filename: 'f.txt' }],
      a2a: { messageId: 'm1', contextId: 'ctx-1' },
    });
  });

  it('carries a result as a text part (string) or a data part (JSON-safe), and reads it back', () => {
    const base = { id: 't1', state: 'completed' } as Parameters<typeof resultArtifact>[0];
    const text = resultArtifact({ ...base, result: 'done' });
    expect(text.parts[0]!.content).toEqual({ $case: 'text', value: 'done' });
    expect(resultOfArtifacts([text])).toBe('done');
    const data = resultArtifact({ ...base, result: { n: 10n, f: new Float64(2), b: new Uint8Array([1, 2]), m: new Map([['k', 1]]) } });
    expect(data.parts[0]!.content).toEqual({ $case: 'data', value: { n: '10', f: 2, b: 'AQI=', m: { k: 1 } } });
    expect(resultOfArtifacts([data, text])).toEqual([{ n: '10', f: 2, b: 'AQI=', m: { k: 1 } }, 'done']);
    expect(toJsonValue(Number.NaN)).toBeNull();
  });
});
