import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/hello', () => {
  it('runs as a program: four verified messages, forgery and replay refused, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(lines.filter((l) => / -> .*verified: yes/.test(l))).toHaveLength(4);
    expect(stdout).toContain('alice -> bob: "hello, bob" verified: yes');
    expect(stdout).toContain('bob -> alice: "fine, thanks" verified: yes');
    expect(stdout).toContain('forged message refused: yes; replayed message refused: yes');
    expect(lines.at(-1)).toBe('summary: 4 of 4 messages verified, 2 of 2 bad messages refused, OK');
  });
});
