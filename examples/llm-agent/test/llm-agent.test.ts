import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/llm-agent', () => {
  it('runs as a program: allowed decisions kept, the others rejected and counted, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(lines.filter((l) => l.startsWith('accepted: '))).toEqual([
      'accepted: {"type":"ClaimTask","taskId":"task-42"}',
      'accepted: {"type":"ReportTask","taskId":"task-42","result":{"sum":5}}',
    ]);
    expect(stdout).toContain('rejected (policy): SendMessage is not on the allowlist');
    expect(stdout).toMatch(/rejected \(schema\): amount: /);
    expect(stdout).toContain('rejected (schema): decision type "FormatDisk" is not allowed');
    expect(stdout).toContain('rejections by reason: {"unparseable":0,"schema":2,"policy":1,"too_many":0}');
    expect(lines.at(-1)).toBe('summary: 5 proposed, 2 accepted, 3 rejected, 0 provider errors');
  });
});
