import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/sealed-bid-auction', () => {
  it('runs as a program: alice wins both rounds at 100 (second-price) and 120 (first-price), bad bids refused, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).not.toContain('UNEXPECTED');
    expect(lines.filter((l) => / bids \d+: accepted$/.test(l))).toHaveLength(6);
    expect(lines.filter((l) => l === 'bob bids again (130): refused: ConflictError ERR_CONFLICT (auction open)')).toHaveLength(2);
    expect(lines.filter((l) => l === 'carol bids 200 after the close: refused: ConflictError ERR_CONFLICT (auction closed)')).toHaveLength(2);
    const winners = lines.filter((l) => l.startsWith('winner: '));
    expect(winners).toEqual(['winner: alice, clearing price: 100 (bids recorded: 3)', 'winner: alice, clearing price: 120 (bids recorded: 3)']);
    expect(stdout).toContain("unregistered mallory's bid refused by the verifier: yes");
    expect(stdout).toContain('auction house: 3 opened, 6 bids taken, 4 refused, 2 resolved; messages verified: 10');
    expect(lines.at(-1)).toBe('summary: OK');
  });
});
