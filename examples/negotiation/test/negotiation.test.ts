import { describe, expect, it } from 'vitest';
import { expectPrinted, runExample } from '../../../test/support/run-example.js';

describe('examples/negotiation', () => {
  it('runs as a program: a deal at 250 after 5 offers, illegal moves refused with typed errors, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).not.toContain('UNEXPECTED');
    expect(lines.filter((l) => / counters \d+ \(state countered\)$/.test(l))).toEqual([
      'seller counters 400 (state countered)',
      'buyer counters 233 (state countered)',
      'seller counters 344 (state countered)',
      'buyer counters 250 (state countered)',
    ]);
    expectPrinted(stdout, [
      'seller accepts 250 (state accepted)',
      'deal: accepted at 250, offered by the buyer after 5 offers',
      'buyer accepts its own proposal: refused (ConflictError ERR_CONFLICT (session proposed))',
      'an outsider counters: refused (PolicyError ERR_POLICY)',
      'seller counters after the deal: refused (ConflictError ERR_CONFLICT (session accepted))',
      'buyer rejects after the deal: refused (ConflictError ERR_CONFLICT (session accepted))',
      'buyer accepts the rejected helmet offer: refused (ConflictError ERR_CONFLICT (session rejected))',
      'protocol: 2 proposed, 4 countered, 1 accepted, 1 rejected, 5 refused',
    ]);
    expect(lines.at(-1)).toBe('summary: OK');
  });
});
